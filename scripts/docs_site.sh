#!/usr/bin/env bash
# Build the collection's docs site (antsibull-docs + Sphinx) into DEST (default .build/docs), offline:
# `antsibull-docs sphinx-init` lays out the site, intersphinx (which downloads other sites' inventories) is left
# out, and Sphinx treats every warning as an error. First the docs lint, as the Ansible docsite runs it.
# Needs the collection on ANSIBLE_COLLECTIONS_PATH (make setup / the Makefile set it).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
dest=$(realpath -m "${1:-.build/docs}")
export PATH="$root/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="${ANSIBLE_COLLECTIONS_PATH:-$root/.collections}"
collection="$ANSIBLE_COLLECTIONS_PATH/ansible_collections/kvmops/kvm"

antsibull-docs lint-collection-docs --plugin-docs --validate-collection-refs self "$collection"

rm -rf "$dest"
mkdir -p "$dest"
antsibull-docs sphinx-init --use-current --squash-hierarchy --fail-on-error --dest-dir "$dest" kvmops.kvm >/dev/null
sed -i "s/'sphinx.ext.intersphinx', //" "$dest/conf.py"
sed -i '/^intersphinx_mapping = {/,/^}/d' "$dest/conf.py"
# references into docs.ansible.com (common return values, configuration settings) resolve through intersphinx
# only; references within this collection are checked by the lint above
echo "suppress_warnings = ['ref.ref', 'ref.envvar']" >> "$dest/conf.py"
# build.sh: antsibull-docs writes the RST of every plugin, then sphinx-build; warnings fail the build
sed -i 's/^sphinx-build -M html rst build -c \.$/sphinx-build -M html rst build -c . -W --keep-going -q/' "$dest/build.sh"
grep -q -- '-W --keep-going' "$dest/build.sh"
(cd "$dest" && ./build.sh >/dev/null)
echo "docs site: $dest/build/html/index.html"

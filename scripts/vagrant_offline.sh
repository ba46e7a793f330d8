#!/usr/bin/env bash
# What the Vagrant lab's control VM needs to run Ansible without a network route out (vagrant/Vagrantfile):
# a wheelhouse of ansible-core and the two dependencies Debian 12's image lacks (packaging, resolvelib; Jinja2,
# PyYAML and cryptography are Debian's python3-* packages in the image), pip itself to install them, and this
# checkout built as a collection tarball. The versions are those of this checkout's venv, so the control VM runs
# the ansible-core CI tests with. Vagrant's file provisioner copies the directory into the control VM and
# vagrant/control.sh installs it there.
#   scripts/vagrant_offline.sh [DIR]     default .cache/vagrant/offline; prints DIR
# Wheels are fetched once into .cache/vagrant/wheelhouse (pip download) and reused offline afterwards; the
# collection tarball is rebuilt every time (about a second), so the control VM gets the checkout as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${KVMOPS_PYTHON:-.venv/bin/python}
out=${1:-.cache/vagrant/offline}
wheelhouse=.cache/vagrant/wheelhouse

# name==version of each distribution, as installed in the venv that CI runs
mapfile -t pins < <("$python" - <<'PY'
from importlib.metadata import version
for name in ('ansible-core', 'packaging', 'resolvelib', 'pip'):
    print('%s==%s' % (name, version(name)))
PY
)
mkdir -p "$wheelhouse" "$out"
download=("$python" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all:
          --python-version 3.11 --implementation cp)
if ! "${download[@]}" --no-index --find-links "$wheelhouse" -d "$wheelhouse" "${pins[@]}" 2>/dev/null; then
    "${download[@]}" -d "$wheelhouse" "${pins[@]}"
fi

work=$(mktemp -d "$out/.build-XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/wheels"
"${download[@]}" --no-index --find-links "$wheelhouse" -d "$work/wheels" "${pins[@]}"
printf '%s\n' "${pins[@]}" > "$work/requirements.txt"
"$(dirname "$python")/ansible-galaxy" collection build --force --output-path "$work" . >/dev/null
mv "$work"/kvmops-kvm-*.tar.gz "$work/kvmops-kvm.tar.gz"
rm -rf "$out/wheels"
mv "$work/wheels" "$work/requirements.txt" "$work/kvmops-kvm.tar.gz" "$out/"
echo "$out"

#!/usr/bin/env bash
# Install everything the collection, its tests and its lab need on a Debian 12 machine (as root),
# create .venv with the Python deps, expose the collection on a local collections path and make sure
# virtlogd/libvirtd answer. Idempotent and quick when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

apt_packages() {
  # Debian packages from bindep.txt (dpkg entries) plus any extra package lists (the lab's)
  # every entry for dpkg, or for every platform (no platform: label), whatever its profile
  awk '/^[a-z0-9]/ && ($0 ~ /platform:dpkg/ || $0 !~ /platform:/) {print $1}' bindep.txt
  if [ -f tests/lab/packages.txt ]; then
    grep -Ev '^\s*(#|$)' tests/lab/packages.txt
  fi
  echo python3-venv
}

missing=()
for p in $(apt_packages | sort -u); do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

stamp=.venv/.requirements.sha
want=$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "bootstrap: preparing .venv"
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt
  echo "$want" > "$stamp"
fi

# The collection, as Ansible sees it: a local collections path pointing at this checkout.
mkdir -p .collections/ansible_collections/kvmops
ln -sfn "$root" .collections/ansible_collections/kvmops/kvm

# awx.awx, for the check of awx/load.yml against its modules (from PyPI's `ansible` package: Galaxy may be out of
# reach); kept in .cache/awx, apart from .collections; without a network the check skips
.venv/bin/python scripts/awx_collection.py >/dev/null || true

scripts/daemons.sh

#!/usr/bin/env bash
# ansible-test sanity needs the collection at .../ansible_collections/kvmops/kvm (and no hidden
# directory on the way there): stage a copy of the checkout's files (what git tracks plus new files it
# does not ignore) and run it, with no ignore entries, from a virtualenv of its own (ansible-test
# installs its pinned linters there; --venv would need downloads this network does not allow).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
stage=build/sanity/ansible_collections/kvmops/kvm
venv=$root/.venv-sanity
rm -rf build/sanity
mkdir -p "$stage"
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  [ -e "$f" ] && printf '%s\0' "$f"
done | rsync -a --from0 --files-from=- ./ "$stage/"
if [ ! -x "$venv/bin/ansible-test" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "$(grep '^ansible-core' requirements-dev.txt)"
fi
# ansible-test bootstraps pip in its test venvs with a script it downloads; supply an offline one
requirements_py=$("$venv/bin/python" -c 'import ansible_test._internal.python_requirements as m; print(m.__file__)')
pip_version=$(grep -oP "pip='\K[0-9.]+" "$requirements_py" | head -n 1)
mkdir -p ~/.ansible/test/cache
cp scripts/get_pip_offline.py ~/.ansible/test/cache/"get_pip_${pip_version//./_}.py"
cd "$stage"
# an index of its own: inside this checkout the staging folder is ignored, and ansible-test asks git
git init -q . && git add -A
version=$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
PATH="$venv/bin:$PATH" ansible-test sanity --requirements --python "$version" --color no "$@"

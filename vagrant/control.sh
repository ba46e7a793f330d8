#!/bin/sh
# Vagrant's shell provisioner runs this as root on the control VM (vagrant/Vagrantfile): it makes the VM an
# Ansible control node from what the file provisioners copied in, without a network route out:
#   STAGE/wheels, STAGE/requirements.txt   ansible-core and its missing dependencies (scripts/vagrant_offline.sh)
#                                          -> a venv on the image's python3 (Debian's Jinja2, PyYAML, cryptography)
#   STAGE/kvmops-kvm.tar.gz                this collection -> /usr/share/ansible/collections
#   /root/.ssh/kvmops-vagrant              the key the managed VMs accept -> made private
# Each step runs only when its input differs from what is installed: the second run changes nothing.
set -eu
stage=${1:?usage: control.sh STAGE}
venv=/opt/kvmops-ansible
collections=/usr/share/ansible/collections
installed=$collections/ansible_collections/kvmops/kvm
done_=""

chmod 600 /root/.ssh/kvmops-vagrant

if ! cmp -s "$stage/requirements.txt" "$venv/kvmops-requirements.txt"; then
    rm -rf "$venv"
    # Debian's python3 has venv but not ensurepip (python3-venv): pip runs from its own wheel instead;
    # --no-compile: byte-compiling all of ansible-core costs minutes under emulation, Python compiles what it imports
    python3 -m venv --system-site-packages --without-pip "$venv"
    pip_wheel=$(ls "$stage"/wheels/pip-*.whl)
    "$venv/bin/python" "$pip_wheel/pip" install --quiet --disable-pip-version-check --no-index --no-cache-dir --no-compile \
        --find-links "$stage/wheels" -r "$stage/requirements.txt"
    for tool in ansible ansible-config ansible-doc ansible-galaxy ansible-inventory ansible-playbook; do
        ln -sfn "$venv/bin/$tool" "/usr/local/bin/$tool"
    done
    cp "$stage/requirements.txt" "$venv/kvmops-requirements.txt"
    done_="$done_ $(tr '\n' ' ' < "$stage/requirements.txt")"
fi

# the tarball's MANIFEST.json carries the checksum of every file: equal manifests, equal collections
if ! tar -xzOf "$stage/kvmops-kvm.tar.gz" MANIFEST.json | cmp -s - "$installed/MANIFEST.json"; then
    "$venv/bin/ansible-galaxy" collection install --offline --force -p "$collections" "$stage/kvmops-kvm.tar.gz" >/dev/null
    done_="$done_ kvmops.kvm"
fi

if [ -n "$done_" ]; then
    echo "control VM: installed$done_"
else
    echo "control VM: ansible-core and kvmops.kvm already installed, nothing to do"
fi

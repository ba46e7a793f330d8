import pytest

from ansible_collections.kvmops.kvm.plugins.module_utils._domain import cloud_init as ci

pytest.importorskip('pycdlib')


def test_seed_round_trip(tmp_path):
    files = ci.seed_files('g1', dict(user_data=dict(hostname='g1'), network_config=None))
    assert files['user-data'].startswith(b'#cloud-config\n')
    assert b'"instance-id": "g1"' in files['meta-data'] and 'network-config' not in files
    path = str(tmp_path / 'g1-cidata.iso')
    assert ci.read_seed(path) is None
    ci.write_seed(path, files)
    assert ci.read_seed(path) == files


def test_strings_are_used_as_given():
    files = ci.seed_files('g1', dict(user_data='#!/bin/sh\necho hi', meta_data='instance-id: x'))
    assert files['user-data'] == b'#!/bin/sh\necho hi\n' and files['meta-data'] == b'instance-id: x\n'

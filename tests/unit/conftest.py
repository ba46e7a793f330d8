"""Unit tests import the collection from the local collections path made by `make setup`, and run
modules in-process (against libvirt's test driver) through `module_runner`."""

import json
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, '.collections'))

TEST_DRIVER = 'test:///default'


@pytest.fixture
def module_runner(capsys):
    """module_runner(kvm_x) -> run(check=False, **args): the module's result, as Ansible would get it."""
    from ansible.module_utils.testing import patch_module_args

    def make(module, uri=TEST_DRIVER):
        def run(check=False, **args):
            args = dict(args, uri=uri, _ansible_check_mode=check, _ansible_diff=True)
            with patch_module_args(args):
                with pytest.raises(SystemExit) as exited:
                    module.main()
            result = json.loads(capsys.readouterr().out)
            result['rc'] = exited.value.code
            return result
        return run
    return make


@pytest.fixture
def test_driver():
    """An open connection to the test driver: its state lives as long as one connection does."""
    libvirt = pytest.importorskip('libvirt')
    libvirt.registerErrorHandler(lambda *_: None, None)
    connection = libvirt.open(TEST_DRIVER)
    yield connection
    connection.close()

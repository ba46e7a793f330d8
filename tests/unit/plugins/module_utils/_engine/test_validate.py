"""Shared input checks (_engine/validate.py): each accepts what libvirt and Linux accept and names the parameter."""

import ipaddress

import pytest

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import validate as check
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import ParameterError


def refused(function, *args):
    with pytest.raises(ParameterError) as failed:
        function('opt', *args)
    assert failed.value.parameter == 'opt'
    return failed.value.problem


@pytest.mark.parametrize('name', ['web1', 'a', 'db-01.example', 'x_y+z', 'A' * 64])
def test_object_names_accepted(name):
    assert check.object_name('name', name) == name


@pytest.mark.parametrize('name', ['', None, '-lead', '.hidden', 'has space', 'slash/y', 'A' * 65, 'ü'])
def test_object_names_refused(name):
    assert 'is not a valid name' in refused(check.object_name, name)


@pytest.mark.parametrize('name', ['eth0', 'br-lab.10', 'a' * 15, 'veth_x'])
def test_interface_names_accepted(name):
    assert check.interface_name('bridge', name) == name


def test_interface_names_refused():
    assert 'is 16 characters long; Linux interface names have at most 15' in refused(check.interface_name, 'a' * 16)
    assert 'is not a valid interface name' in refused(check.interface_name, 'br 0')
    assert 'is not a valid interface name' in refused(check.interface_name, '')


def test_mac_addresses_are_normalised():
    assert check.mac_address('mac', '52:54:00:AB:CD:EF') == '52:54:00:ab:cd:ef'
    assert check.mac_address('mac', ' 52-54-00-ab-cd-ef ') == '52:54:00:ab:cd:ef'


def test_mac_addresses_refused():
    assert 'is not a MAC address' in refused(check.mac_address, '52:54:00:ab:cd')
    assert 'is not a MAC address' in refused(check.mac_address, None)
    assert 'multicast' in refused(check.mac_address, '01:00:5e:00:00:01')


def test_ip_addresses():
    assert check.ip_address('ip', '10.0.0.1') == ipaddress.ip_address(u'10.0.0.1')
    assert check.ip_address('ip', 'fd00::1', version=6).version == 6
    assert "'10.0.0.300' is not an IP address" in refused(check.ip_address, '10.0.0.300')
    assert 'is not an IPv4 address' in refused(check.ip_address, 'fd00::1', 4)


@pytest.mark.parametrize('name', ['host', 'web-1.example.org', 'a' * 63 + '.b'])
def test_host_names_accepted(name):
    assert check.hostname('hostname', name) == name


@pytest.mark.parametrize('name', ['', '-x', 'x-', 'under_score', 'a' * 64, 'dot..dot'])
def test_host_names_refused(name):
    assert 'is not a valid host or domain name' in refused(check.hostname, name)


def test_integer_ranges():
    assert check.integer_range('vcpus', 4, 1, 8) == 4
    assert check.integer_range('vcpus', None, 1, 8) is None   # not given: nothing to check
    assert refused(check.integer_range, 0, 1, 8) == '0 is out of range: use 1 to 8'
    assert refused(check.integer_range, 9, 1, 8) == '9 is out of range: use 1 to 8'

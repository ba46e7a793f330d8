"""A lab CA and the x509 certificates the hypervisor hosts need for TLS: libvirtd's qemu+tls listener
(port 16514) and QEMU's native TLS for the migration stream (qemu.conf migrate_tls_x509_cert_dir). One
certificate, for server and client use, names every lab host (its IP and name); made once per lab run dir
with python-cryptography (an Ansible dependency, already in the venv)."""
import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from . import config

PKI_DIR = config.RUN_DIR / "pki"
CLIENT_DIR = PKI_DIR / "client"   # libvirt client layout (pkipath=): cacert.pem, clientcert.pem, clientkey.pem
QEMU_DIR = PKI_DIR / "qemu"       # QEMU layout: ca-cert.pem, server-cert.pem, server-key.pem, client-*.pem
SERVER_DIR = PKI_DIR / "server"   # libvirtd: cacert.pem, servercert.pem, serverkey.pem


def ensure_pki() -> Path:
    """The CA and the certificates (idempotent: kept when present)."""
    if (QEMU_DIR / "client-key.pem").exists():
        return PKI_DIR
    for directory in (CLIENT_DIR, QEMU_DIR, SERVER_DIR):
        directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{config.PREFIX}lab CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
          .not_valid_after(now + datetime.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName(config.host_name(i)) for i in range(1, config.MAX_HOSTS + 1)]
    names += [x509.IPAddress(ipaddress.ip_address(config.host_ip(i))) for i in range(1, config.MAX_HOSTS + 1)]
    names += [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(config.BRIDGE_IP))]
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "kvmlab"),
                                     x509.NameAttribute(NameOID.COMMON_NAME, f"{config.PREFIX}hosts")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=True, key_cert_sign=False,
                                         crl_sign=False, content_commitment=False, data_encipherment=False,
                                         key_agreement=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    ca_pem = ca.public_bytes(serialization.Encoding.PEM)
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    files = {CLIENT_DIR / "cacert.pem": ca_pem, CLIENT_DIR / "clientcert.pem": cert_pem,
             CLIENT_DIR / "clientkey.pem": key_pem, SERVER_DIR / "cacert.pem": ca_pem,
             SERVER_DIR / "servercert.pem": cert_pem, SERVER_DIR / "serverkey.pem": key_pem,
             QEMU_DIR / "ca-cert.pem": ca_pem, QEMU_DIR / "server-cert.pem": cert_pem,
             QEMU_DIR / "server-key.pem": key_pem, QEMU_DIR / "client-cert.pem": cert_pem}
    for path, data in files.items():
        path.write_bytes(data)
        if path.name.endswith("key.pem"):
            path.chmod(0o600)
    (QEMU_DIR / "client-key.pem").write_bytes(key_pem)   # last: its presence says the set is complete
    (QEMU_DIR / "client-key.pem").chmod(0o600)
    return PKI_DIR

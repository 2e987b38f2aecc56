"""Item 9: the SSRF guard connects to the address it checked (no DNS rebinding), TLS still verifies the
host name, and the NAT64 and 6to4 forms of private addresses are refused."""

import shutil
import socket
import ssl
import subprocess
import threading

import pytest

from shelfcall.notify import netguard
from shelfcall.notify.channels import PLUGINS, Destination, base
from shelfcall.notify.netguard import UnsafeDestination, check_destination, is_public_address
from tests.notify.receiver import start_receiver
from tests.notify.test_channels import MESSAGE

HOST = "hooks.shelfcall.test"
PUBLIC = "127.0.0.2"  # stands for the public Internet in these tests
INTERNAL = "127.0.0.1"  # stands for a private service the attacker wants reached


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254 (cloud metadata)
        "64:ff9b::c0a8:101",  # NAT64 of 192.168.1.1
        "64:ff9b:1::a00:1",  # local-use NAT64 prefix
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "2002:a00:1::",  # 6to4 of 10.0.0.1
        "::ffff:10.0.0.1",  # IPv4-mapped
        "::7f00:1",  # IPv4-compatible
        "fe80::1",
        "10.1.2.3",
    ],
)
def test_private_addresses_in_ipv6_clothing_are_refused(address):
    assert not is_public_address(address)
    with pytest.raises(UnsafeDestination):
        check_destination(f"https://[{address}]/hook" if ":" in address else f"https://{address}/hook")


@pytest.mark.parametrize("address", ["64:ff9b::808:808", "2002:808:808::1", "8.8.8.8", "2606:4700::1111"])
def test_public_addresses_pass(address):
    assert is_public_address(address)


def _openssl(*args: object) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    """A throwaway CA, and a server certificate it signed for HOST and one for another name."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    folder = tmp_path_factory.mktemp("tls")
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"]
    ca = ["-CA", folder / "ca.pem", "-CAkey", folder / "ca.key", "-CAcreateserial"]
    _openssl("req", "-x509", *key, "-keyout", folder / "ca.key", "-out", folder / "ca.pem", "-subj", "/CN=Test CA",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign")  # fmt: skip
    for name in (HOST, "other.shelfcall.test"):
        (folder / f"{name}.ext").write_text(f"subjectAltName=DNS:{name}\n")
        _openssl("req", *key, "-keyout", folder / f"{name}.key", "-out", folder / f"{name}.csr", "-subj", f"/CN={name}")
        _openssl("x509", "-req", "-in", folder / f"{name}.csr", *ca, "-out", folder / f"{name}.pem", "-days", "1",
                 "-extfile", folder / f"{name}.ext")  # fmt: skip
    return folder


def server_context(certificates, name: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificates / f"{name}.pem", certificates / f"{name}.key")
    return context


@pytest.fixture
def trust_test_ca(certificates, monkeypatch):
    monkeypatch.setattr(base, "tls_context", lambda: ssl.create_default_context(cafile=certificates / "ca.pem"))


@pytest.fixture
def internal_service():
    """A private service on 127.0.0.1: it records every connection made to it."""
    listener = socket.socket()
    listener.bind((INTERNAL, 0))
    listener.listen()
    hits: list[tuple] = []

    def accept() -> None:
        while True:
            try:
                conn, peer = listener.accept()
            except OSError:
                return
            hits.append(peer)
            conn.close()

    threading.Thread(target=accept, daemon=True).start()
    yield listener.getsockname()[1], hits
    listener.close()


@pytest.fixture
def rebinding_dns(monkeypatch):
    """HOST resolves to the public address the first time, then to the internal one: DNS rebinding."""
    real = socket.getaddrinfo
    answers: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host != HOST:
            return real(host, port, *args, **kwargs)
        answers.append(PUBLIC if not answers else INTERNAL)
        return real(answers[-1], port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(netguard, "is_public_address", lambda address: address == PUBLIC)
    return answers


def test_the_connection_goes_to_the_checked_address_and_tls_verifies_the_name(
    certificates, trust_test_ca, internal_service, rebinding_dns
):
    port, internal_hits = internal_service
    receiver, server = start_receiver(host=PUBLIC, port=port, tls=server_context(certificates, HOST), name=HOST)
    try:
        delivery = PLUGINS["slack"].deliver(Destination(receiver.url), MESSAGE, idempotency_key="k1")
    finally:
        server.shutdown()
        server.server_close()
    assert delivery.ok, delivery
    assert len(receiver.received) == 1 and receiver.received[0].headers["host"] == f"{HOST}:{port}"
    assert internal_hits == []
    assert rebinding_dns == [PUBLIC]  # resolved once


def test_a_certificate_for_another_name_is_refused(certificates, trust_test_ca, internal_service, rebinding_dns):
    port, _hits = internal_service
    context = server_context(certificates, "other.shelfcall.test")
    receiver, server = start_receiver(host=PUBLIC, port=port, tls=context, name=HOST)
    try:
        delivery = PLUGINS["slack"].deliver(Destination(receiver.url), MESSAGE, idempotency_key="k1")
    finally:
        server.shutdown()
        server.server_close()
    assert not delivery.ok and delivery.answer == "connection failed: ConnectError"
    assert receiver.received == []

"""Catalogue uploads behind the shipped nginx (deploy/nginx.conf): a 100,000-row file (8 MB, past the
site's 8 MB default) reaches the app; a 200 MB one is refused by nginx at once, naming the limit."""

import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from tests.support.nginx import NGINX, write_config

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(NGINX is None, reason="needs Debian's nginx (apt-get install nginx-light; bin/test does)"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def nginx_url(live_server_url, tmp_path):
    listen = _free_port()
    command = write_config(tmp_path / "nginx", [int(live_server_url.rsplit(":", 1)[1])], listen)
    process = subprocess.Popen(command)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", listen), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)  # polling until nginx listens
        yield f"http://127.0.0.1:{listen}"
    finally:
        process.terminate()
        process.wait(10)


def _post(url: str, body: bytes, **headers: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_a_catalogue_file_of_8_mb_passes_and_200_mb_is_refused_naming_the_limit(nginx_url):
    boundary = "b"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="c.csv"\r\n\r\n'.encode()
        + b"sku,on_hand\r\n"
        + b"SKU-000000,1\r\n" * 700_000
        + f"\r\n--{boundary}--\r\n".encode()
    )
    assert len(body) > 8 * 1024 * 1024
    status, _answer = _post(
        f"{nginx_url}/setup/catalogue/1/", body, **{"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    assert status == 403, "the app read it all and answered (no CSRF token), not nginx's 413"

    port = int(nginx_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        head = (
            "POST /setup/catalogue/1/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: {200 * 1024 * 1024}\r\n\r\n"
        )
        connection.sendall(head.encode() + b"x" * 65536)
        answer = connection.recv(65536)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
    assert b"larger than 32 MB" in answer

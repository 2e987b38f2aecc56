"""deploy/nginx.conf with Debian's nginx in front of two `shelfcall serve` processes on PostgreSQL:
both serve, live streams pass event by event, a killed process is routed around, /metrics stays in."""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.ops.test_serve_workers import CLAIM_SCRIPT, ORDER_SCRIPT
from tests.support.servers import Server, Stream, free_port, manage_shell, running, server_env

SITE = Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(NGINX is None, reason="needs Debian's nginx (apt-get install nginx-light; bin/test does)"),
]

# What the test wraps the site file in: nginx's main context, with every path inside the test's folder.
MAIN = """
user root;
daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    include {dir}/site.conf;
}}
"""


def site_for(ports: list[int], listen: int) -> str:
    """The shipped file with only its upstream servers and its listening port changed."""
    text, servers = SITE.read_text(), iter(ports)
    text, replaced = re.subn(r"server 127\.0\.0\.1:800[12]", lambda _: f"server 127.0.0.1:{next(servers)}", text)
    assert replaced == 2, "the shipped upstream lists the two example servers"
    text, replaced = re.subn(r"listen 80;", f"listen 127.0.0.1:{listen};", text)
    assert replaced == 1
    return text


@pytest.fixture
def stack(private_postgres, tmp_path) -> Iterator[tuple[str, list[Server], dict[str, str]]]:
    """Two servers, nginx before them; yields nginx's URL, the servers and their environment."""
    env = server_env(
        tmp_path, private_postgres.url, SHELFCALL_LIVE_HEARTBEAT_SECONDS="1", SHELFCALL_TRUSTED_PROXIES="127.0.0.1"
    )
    subprocess.run([sys.executable, "-m", "shelfcall.cli", "manage", "migrate", "-v0"], env=env, check=True)
    conf_dir = tmp_path / "nginx"
    conf_dir.mkdir()
    servers = [Server("serve", env, "--no-migrate"), Server("serve", env, "--no-migrate")]
    port = free_port()
    (conf_dir / "site.conf").write_text(site_for([server.port for server in servers], port))
    (conf_dir / "nginx.conf").write_text(MAIN.format(dir=conf_dir))
    subprocess.run([NGINX, "-t", "-q", "-p", str(conf_dir), "-c", str(conf_dir / "nginx.conf")], check=True)
    nginx = subprocess.Popen([NGINX, "-p", str(conf_dir), "-c", str(conf_dir / "nginx.conf")])
    try:
        with running(servers):
            yield f"http://127.0.0.1:{port}", servers, env
    finally:
        nginx.terminate()
        nginx.wait(10)


def pids_behind(url: str, tries: int = 60) -> set[int]:
    pids = set()
    for _ in range(tries):
        with httpx.Client() as fresh:
            pids.add(fresh.get(f"{url}/healthz").json()["pid"])
        if len(pids) == 2:
            break
    return pids


def test_nginx_spreads_streams_hides_metrics_and_routes_around_a_killed_server(stack):
    """One scenario, one set of processes (they take a while to start on a busy machine)."""
    url, servers, env = stack
    assert pids_behind(url) == {server.process.pid for server in servers}

    pk, token, created = manage_shell(env, ORDER_SCRIPT).split()[-3:]
    with ExitStack() as streams:
        stream = Stream(streams, f"{url}/o/{token}/events?last_event_id={created}")
        assert stream.opened.wait(10)
        manage_shell(env, CLAIM_SCRIPT.format(pk=pk))
        deadline = time.monotonic() + 10
        while "event: order" not in stream.text:
            assert time.monotonic() < deadline, f"the event did not come through nginx: {stream.text!r}"
            time.sleep(0.05)

    assert httpx.get(f"{url}/metrics").status_code == 404
    assert httpx.get(f"{servers[0].url}/metrics").status_code == 200, "each server answers its own scraper"

    os.kill(servers[0].process.pid, signal.SIGKILL)
    servers[0].process.wait(10)
    with httpx.Client(base_url=url) as client:
        answers = [client.get("/w/login").status_code for _ in range(20)]
        answers += [client.post("/w/login", data={}).status_code for _ in range(5)]  # no CSRF token: 403
    assert answers == [200] * 20 + [403] * 5, "no 502: nginx tried the live server"

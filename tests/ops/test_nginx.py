"""deploy/nginx.conf with Debian's nginx in front of two `shelfcall serve` processes on PostgreSQL:
both serve, live streams pass event by event, a killed process is routed around, /metrics stays in."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack

import httpx
import pytest

from tests.ops.test_serve_workers import CLAIM_SCRIPT, ORDER_SCRIPT
from tests.support.nginx import NGINX, write_config
from tests.support.servers import Server, Stream, free_port, manage_shell, running, server_env

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(NGINX is None, reason="needs Debian's nginx (apt-get install nginx-light; bin/test does)"),
]


@pytest.fixture
def stack(private_postgres, tmp_path) -> Iterator[tuple[str, list[Server], dict[str, str]]]:
    """Two servers, nginx before them; yields nginx's URL, the servers and their environment."""
    env = server_env(
        tmp_path, private_postgres.url, SHELFCALL_LIVE_HEARTBEAT_SECONDS="1", SHELFCALL_TRUSTED_PROXIES="127.0.0.1"
    )
    subprocess.run([sys.executable, "-m", "shelfcall.cli", "manage", "migrate", "-v0"], env=env, check=True)
    servers = [Server("serve", env, "--no-migrate"), Server("serve", env, "--no-migrate")]
    port = free_port()
    argv = write_config(tmp_path / "nginx", [server.port for server in servers], port)
    subprocess.run([*argv, "-t", "-q"], check=True)
    nginx = subprocess.Popen(argv)
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

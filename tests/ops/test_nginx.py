"""deploy/nginx.conf with Debian's nginx in front of two `shelfcall serve` processes on PostgreSQL:
both serve, live streams pass event by event, an order's streams all go to one server, a killed
process is routed around, /metrics stays in."""

import os
import secrets
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
from tests.support.nginx import NGINX, routes, write_config
from tests.support.servers import Server, Stream, free_port, manage_shell, running, server_env

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(NGINX is None, reason="needs Debian's nginx (apt-get install nginx-light; bin/test does)"),
]


@pytest.fixture
def stack(private_postgres, tmp_path) -> Iterator[tuple[str, list[Server], dict[str, str], Path]]:
    """Two servers, nginx before them; yields nginx's URL, the servers, their environment and nginx's
    log of the servers it tried for each request (tests/support/nginx.py `routes`)."""
    env = server_env(
        tmp_path, private_postgres.url, SHELFCALL_LIVE_HEARTBEAT_SECONDS="1", SHELFCALL_TRUSTED_PROXIES="127.0.0.1"
    )
    subprocess.run([sys.executable, "-m", "shelfcall.cli", "manage", "migrate", "-v0"], env=env, check=True)
    servers = [Server("serve", env, "--no-migrate"), Server("serve", env, "--no-migrate")]
    port = free_port()
    routes_log = tmp_path / "routes.log"
    argv = write_config(tmp_path / "nginx", [server.port for server in servers], port, routes_log=routes_log)
    subprocess.run([*argv, "-t", "-q"], check=True)
    nginx = subprocess.Popen(argv)
    try:
        with running(servers):
            yield f"http://127.0.0.1:{port}", servers, env, routes_log
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
    url, servers, env, routes_log = stack
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

    streams_by_order = [f"/o/{secrets.token_urlsafe(24)}/events" for _ in range(40)]
    with httpx.Client(base_url=url) as client:
        for path in streams_by_order * 2:
            assert client.get(path).status_code in (404, 429)  # no such order, or a busy address
    servers_of = {}
    for path, _, tried in routes(routes_log):
        if path in streams_by_order:
            servers_of.setdefault(path, set()).update(tried)
    assert all(len(found) == 1 for found in servers_of.values()), "each order's streams go to one server"
    killed = f"127.0.0.1:{servers[0].port}"
    assert len(set.union(*servers_of.values())) == 2, "orders are spread over both servers"

    os.kill(servers[0].process.pid, signal.SIGKILL)
    servers[0].process.wait(10)
    with httpx.Client(base_url=url) as client:
        answers = [client.get("/w/login").status_code for _ in range(20)]
        answers += [client.post("/w/login", data={}).status_code for _ in range(5)]  # no CSRF token: 403
        moved = [path for path, found in servers_of.items() if found == {killed}]
        answers += [client.get(path).status_code in (404, 429) for path in moved]
    assert answers == [200] * 20 + [403] * 5 + [True] * len(moved), "no 502: nginx tried the live server"

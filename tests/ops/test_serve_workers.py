"""`shelfcall serve --workers 2` on PostgreSQL: two processes share the port, each serves requests
and live streams, each with its own LISTEN connection."""

import subprocess
import sys
import time
from contextlib import ExitStack

import httpx
import psycopg
import pytest

from tests.support.servers import Server, Stream, manage_shell, running, server_env

pytestmark = pytest.mark.postgres
ORDER_SCRIPT = """
from tests.factories import make_showcase, make_store, submit
from shelfcall.orders.models import OrderEvent
order = submit(make_showcase(make_store()))
print(order.pk, order.public_token, OrderEvent.objects.get(order=order).pk)
"""
CLAIM_SCRIPT = """
from tests.factories import staff
from shelfcall.orders import actions
from shelfcall.orders.models import Order
order = Order.objects.get(pk={pk})
actions.claim_order(order.pk, by=staff(order.store, "Alex"))
"""


def listen_connections(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        query = "SELECT count(*) FROM pg_stat_activity WHERE query = 'LISTEN shelfcall_events'"
        return conn.execute(query).fetchone()[0]


def pids_answering(url: str, tries: int = 200) -> set[int]:
    pids = set()
    for _ in range(tries):
        with httpx.Client() as fresh:  # a new connection each time: the kernel picks the process
            pids.add(fresh.get(f"{url}/healthz").json()["pid"])
        if len(pids) == 2:
            break
    return pids


def test_two_processes_share_the_port_and_both_serve_live_streams(private_postgres, tmp_path):
    env = server_env(tmp_path, private_postgres.url, SHELFCALL_LIVE_HEARTBEAT_SECONDS="1")
    subprocess.run([sys.executable, "-m", "shelfcall.cli", "manage", "migrate", "-v0"], env=env, check=True)
    pk, token, created = manage_shell(env, ORDER_SCRIPT).split()[-3:]
    with running([Server("serve", env, "--workers", "2")]) as (server,), ExitStack() as stack:
        assert len(pids_answering(server.url)) == 2
        streams = []
        deadline = time.monotonic() + 30
        while listen_connections(private_postgres.url) < 2:  # a stream on each process: each listens
            assert time.monotonic() < deadline, "the streams all went to one process"
            streams.append(Stream(stack, f"{server.url}/o/{token}/events?last_event_id={created}"))
            assert streams[-1].opened.wait(10)
            time.sleep(0.1)
        manage_shell(env, CLAIM_SCRIPT.format(pk=pk))
        deadline = time.monotonic() + 10
        while not all("event: " in stream.text for stream in streams):
            assert time.monotonic() < deadline, [stream.text for stream in streams]
            time.sleep(0.05)

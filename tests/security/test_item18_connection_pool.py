"""Item 18: database connections come from a bounded pool per process. Far more requests at once
than PostgreSQL accepts connections all succeed (they queue for the pool); one that waits longer
than the pool allows gets a 503 with Retry-After, not a 500; live streams hand their connection back
after every read."""

import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import psycopg
import pytest
from asgiref.sync import async_to_sync
from django.db import connections

from shelfcall.live.sse import off_loop
from tests.support.pgcluster import PrivateCluster
from tests.support.servers import Server, running, server_env

MAX_CONNECTIONS = 10
POOL_MAX = 3  # per process: two processes stay well inside MAX_CONNECTIONS
REQUESTS = 40


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Iterator[tuple[PrivateCluster, dict[str, str]]]:
    """A small PostgreSQL with the demo store, and the environment of servers on it (one data
    directory, so static files are collected once)."""
    cluster = PrivateCluster(max_connections=MAX_CONNECTIONS)
    try:
        env = server_env(tmp_path_factory.mktemp("servers"), cluster.url, SHELFCALL_RATELIMIT="false")
        seed = "from shelfcall.demo.seed import seed_demo; seed_demo()"
        for command in (["migrate", "-v0"], ["shell", "-c", seed]):
            subprocess.run(
                [sys.executable, "-m", "shelfcall.cli", "manage", *command], env=env, check=True, timeout=120
            )
        yield cluster, env
    finally:
        cluster.destroy()


def showcase_code(database_url: str) -> str:
    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT code FROM catalog_showcase ORDER BY id LIMIT 1").fetchone()[0]


def client_connections(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        query = (
            "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
        )
        return conn.execute(query).fetchone()[0]


def all_at_once(urls: list[str]) -> list[int]:
    start = threading.Barrier(len(urls))

    def fetch(url: str) -> int:
        start.wait()
        return httpx.get(url, timeout=30).status_code

    with ThreadPoolExecutor(len(urls)) as threads:
        return list(threads.map(fetch, urls))


def serve(env: dict[str, str], **settings: str) -> Server:
    return Server("serve", {**env, **settings}, "--no-migrate")


@pytest.mark.postgres
def test_many_more_requests_than_connections_all_succeed(seeded):
    cluster, env = seeded
    two = [serve(env, SHELFCALL_DB_POOL_MAX=str(POOL_MAX)) for _ in range(2)]
    with running(two) as servers:
        code = showcase_code(cluster.url)
        pages = [f"{server.url}/s/{code}" for server in servers] + [f"{servers[0].url}/w/login"]
        statuses = all_at_once([pages[i % len(pages)] for i in range(REQUESTS)])
        assert Counter(statuses) == Counter({200: REQUESTS})
        assert client_connections(cluster.url) <= 2 * POOL_MAX


@pytest.mark.postgres
def test_a_request_that_waits_too_long_for_a_connection_gets_503_with_retry_after(seeded):
    cluster, env = seeded
    one = serve(env, SHELFCALL_DB_POOL_MIN="1", SHELFCALL_DB_POOL_MAX="1", SHELFCALL_DB_POOL_TIMEOUT="0.5")
    with running([one]) as [server], ThreadPoolExecutor(1) as thread:
        page = f"{server.url}/s/{showcase_code(cluster.url)}"
        with psycopg.connect(cluster.url) as blocker:
            blocker.execute("LOCK TABLE catalog_showcase IN ACCESS EXCLUSIVE MODE")
            holding = thread.submit(httpx.get, page, timeout=30)  # takes the only connection, then waits
            wait_for_a_query_waiting_on_the_lock(cluster.url)
            busy = httpx.get(page, timeout=10)
        assert busy.status_code == 503
        assert busy.headers["Retry-After"] == "5"
        assert "try again" in busy.text
        assert holding.result().status_code == 200  # the lock is gone, the first request finished


def wait_for_a_query_waiting_on_the_lock(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as watcher:
        for _ in range(200):
            query = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            if watcher.execute(query).fetchone()[0]:
                return
            threading.Event().wait(0.05)
    raise AssertionError("the first request never reached the locked table")


@pytest.mark.django_db(transaction=True)
def test_a_stream_read_hands_its_connection_back():
    """A stream polls from a shared thread between long waits; holding a connection there would take
    it from the pool for as long as the stream stays open."""

    def read() -> object:
        connections["default"].ensure_connection()
        return connections["default"]

    used = async_to_sync(off_loop(read))()
    assert used.connection is None

"""Item 18: database connections come from a bounded pool per process. Far more requests at once
than PostgreSQL accepts connections all succeed (they queue for the pool); one that waits longer
than the pool allows gets a 503 with Retry-After, not a 500; live streams hand their connection back
after every read."""

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


@pytest.fixture
def small_postgres() -> Iterator[PrivateCluster]:
    cluster = PrivateCluster(max_connections=MAX_CONNECTIONS)
    try:
        yield cluster
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


@pytest.mark.postgres
def test_many_more_requests_than_connections_all_succeed(tmp_path, small_postgres):
    env = server_env(tmp_path, small_postgres.url, SHELFCALL_DB_POOL_MAX=str(POOL_MAX), SHELFCALL_RATELIMIT="false")
    with running([Server("demo", env)]) as [seeded], running([Server("serve", env, "--no-migrate")]) as [second]:
        code = showcase_code(small_postgres.url)
        pages = [f"{server.url}/s/{code}" for server in (seeded, second)] + [f"{seeded.url}/w/login"]
        statuses = all_at_once([pages[i % len(pages)] for i in range(REQUESTS)])
        assert Counter(statuses) == Counter({200: REQUESTS})
        assert client_connections(small_postgres.url) <= 2 * POOL_MAX


@pytest.mark.postgres
def test_a_request_that_waits_too_long_for_a_connection_gets_503_with_retry_after(tmp_path, small_postgres):
    env = server_env(
        tmp_path,
        small_postgres.url,
        SHELFCALL_DB_POOL_MIN="1",
        SHELFCALL_DB_POOL_MAX="1",
        SHELFCALL_DB_POOL_TIMEOUT="0.5",
        SHELFCALL_RATELIMIT="false",
    )
    with running([Server("demo", env)]) as [server], ThreadPoolExecutor(1) as thread:
        page = f"{server.url}/s/{showcase_code(small_postgres.url)}"
        with psycopg.connect(small_postgres.url) as blocker:
            blocker.execute("LOCK TABLE catalog_showcase IN ACCESS EXCLUSIVE MODE")
            holding = thread.submit(httpx.get, page, timeout=30)  # takes the only connection, then waits
            wait_for_a_query_waiting_on_the_lock(small_postgres.url)
            busy = httpx.get(page, timeout=10)
        assert busy.status_code == 503
        assert busy.headers["Retry-After"] == "5"
        assert "busy" in busy.text
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

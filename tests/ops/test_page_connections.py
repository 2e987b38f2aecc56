"""Pages open no database connection once a process is warm: `shelfcall serve` takes them from its
pool. (Before the pool, every request opened one: 20 for the pages of one order.)"""

import httpx
import psycopg
import pytest

from tests.security.test_item18_connection_pool import seeded, serve, showcase_code
from tests.support.servers import running

__all__ = ["seeded"]  # the fixture, used by name below

PAGES = 30


def sessions_opened(stats: psycopg.Connection) -> int:
    """Connections ever opened to this database (PostgreSQL counts them per database)."""
    stats.execute("SELECT pg_stat_clear_snapshot()")
    row = stats.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()").fetchone()
    return row[0]


@pytest.mark.postgres
def test_warm_pages_open_no_database_connection(seeded):
    cluster, env = seeded
    with running([serve(env, SHELFCALL_DB_POOL_MAX="3", SHELFCALL_DB_POOL_MIN="1")]) as (server,):
        page = f"{server.url}/s/{showcase_code(cluster.url)}"
        with httpx.Client(timeout=30) as browser, psycopg.connect(cluster.url, autocommit=True) as stats:
            for _ in range(5):  # warm: the pool opens what it keeps
                assert browser.get(page).status_code == 200
            before = sessions_opened(stats)
            statuses = {browser.get(page).status_code for _ in range(PAGES)}
            assert statuses == {200}
            assert sessions_opened(stats) == before

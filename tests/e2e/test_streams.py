"""Live streams on the real ASGI server: many open streams share a few database connections."""

import threading

import httpx
import pytest
from django.db import connection

from tests.factories import make_showcase, make_store, submit

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def connections_to_this_database() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        return cursor.fetchone()[0]


def test_open_streams_do_not_each_hold_a_database_connection(live_server_url):
    """A thousand shoppers watching their orders must not need a thousand PostgreSQL connections."""
    store = make_store()
    store.max_open_orders_per_device = 100
    store.save()
    showcase = make_showcase(store)
    showcase.items.get().product.stock_levels.update(on_hand=100)
    orders = [submit(showcase) for _ in range(30)]
    before = connections_to_this_database()
    opened = threading.Barrier(len(orders) + 1, timeout=20)
    done = threading.Event()

    def watch(token: str) -> None:
        with httpx.stream("GET", f"{live_server_url}/o/{token}/events", timeout=20) as response:
            assert response.status_code == 200
            next(response.iter_text())  # "retry:": the stream is open, its order was looked up
            opened.wait()
            done.wait(20)

    threads = [threading.Thread(target=watch, args=(order.public_token,), daemon=True) for order in orders]
    for thread in threads:
        thread.start()
    try:
        opened.wait()
        during = connections_to_this_database()
    finally:
        done.set()
        for thread in threads:
            thread.join(20)
    assert during - before <= 12, f"{during - before} new connections for {len(orders)} open streams"

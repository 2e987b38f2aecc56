"""Item 13: a live stream holds on through a database restart, and an opening that finds the database
down answers 503 with Retry-After (which the pages' scripts retry with back-off) instead of a 500."""

import asyncio
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from asgiref.sync import sync_to_async
from django.db import InterfaceError, OperationalError, connection
from django.test import AsyncClient

from shelfcall.live import pg_listener
from shelfcall.live.hub import READ_AGAIN, Hub, hub
from shelfcall.live.sse import Message, follow
from tests.factories import make_showcase, make_store, submit
from tests.live.test_status_stream import messages_from

ROOT = Path(__file__).resolve().parents[2]


def test_a_read_that_finds_the_database_down_keeps_the_stream_open():
    """The first two reads fail as during a restart; the stream says so in comments, then catches up."""
    outcomes = [OperationalError("the database system is shutting down"), InterfaceError("connection already closed")]

    def poll(since: int) -> Message | None:
        if outcomes:
            raise outcomes.pop(0)
        return Message(since + 1, "change", {}) if since == 7 else None

    async def scenario():
        stream = follow(["order:1"], 7, poll, heartbeat=0.05)
        chunks = [await asyncio.wait_for(anext(stream), 2) for _ in range(4)]
        await stream.aclose()
        return chunks

    chunks = asyncio.run(scenario())
    assert chunks[0].startswith("retry:")
    assert chunks[1] == chunks[2] == ": waiting for the database\n\n"
    assert chunks[3].startswith("id: 8\nevent: change")


def test_the_listener_coming_back_wakes_every_stream():
    async def scenario():
        hub = Hub()
        watchers = [hub.subscribe(["order:1"]), hub.subscribe(["store:2"])]
        hub.wake_all()
        return [await watcher.wait(1) for watcher in watchers]

    assert None not in asyncio.run(scenario())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_lost_listen_connection_comes_back_and_wakes_the_streams():
    """Ended by the server (as a restart does): the listener reconnects, and every stream reads again
    for what was notified while nobody listened."""

    def end_the_listen_connection() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND query LIKE 'LISTEN%%'"
            )
            return cursor.rowcount

    async def scenario():
        subscription = hub.subscribe(["order:1"])
        try:
            assert await pg_listener.ready(timeout=5)
            while await subscription.wait(0.2) is not None:
                pass  # the first connection's wake-up
            assert await sync_to_async(end_the_listen_connection)() == 1
            assert await subscription.wait(10) == READ_AGAIN
            assert pg_listener.listening.is_set()
        finally:
            hub.unsubscribe(subscription)
            await pg_listener.stop()

    asyncio.run(scenario())


@pytest.mark.django_db(transaction=True)
def test_an_opening_that_finds_the_database_down_answers_503(monkeypatch):
    order = submit(make_showcase(make_store()))

    def database_down(token: str):
        raise OperationalError("connection refused")

    monkeypatch.setattr("shelfcall.shopper.views.find_order_by_token", database_down)

    async def scenario():
        return await AsyncClient().get(f"/o/{order.public_token}/events")

    response = asyncio.run(scenario())
    assert response.status_code == 503 and int(response["Retry-After"]) > 0


# The real thing: `shelfcall serve` on a private PostgreSQL, which is stopped and started again under
# an open stream.

SEED = """
import django; django.setup()
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
from shelfcall.orders.models import OrderEvent
from tests.factories import make_showcase, make_store, submit
order = submit(make_showcase(make_store()))
print(order.pk, order.public_token, OrderEvent.objects.filter(order=order).latest("pk").pk)
"""
CLAIM = """
import sys, django; django.setup()
from shelfcall.orders import actions
from shelfcall.orders.models import Order
from tests.factories import staff
order = Order.objects.get(pk=int(sys.argv[1]))
actions.claim_order(order.pk, by=staff(order.store, "Alex"))
"""


def _run(script: str, env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", script, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_serving(base: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get(f"{base}/o/not-a-token/events", timeout=2).status_code == 404:
                return
        except httpx.TransportError:
            time.sleep(0.2)  # not listening yet
    pytest.fail("shelfcall serve did not start")


def _read_into(chunks: queue.Queue, url: str) -> None:
    """Push what the stream sends; None once it has ended (or broke)."""
    try:
        with httpx.stream("GET", url, timeout=httpx.Timeout(10, read=30)) as response:
            chunks.put(f"status {response.status_code}")
            for text in response.iter_text():
                chunks.put(text)
    except httpx.HTTPError as error:
        chunks.put(f"broken {error!r}")
    finally:
        chunks.put(None)


def _received_until(chunks: queue.Queue, seen: list[str], done, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not done("".join(seen)):
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"timed out; the stream sent: {''.join(seen)!r}"
        chunk = chunks.get(timeout=remaining)
        assert chunk is not None, f"the stream ended; it sent: {''.join(seen)!r}"
        seen.append(chunk)


@pytest.mark.postgres
def test_a_stream_survives_a_postgresql_restart(private_postgres, tmp_path):
    env = os.environ | {
        "DATABASE_URL": private_postgres.url,
        "DJANGO_SETTINGS_MODULE": "shelfcall.settings",
        "SHELFCALL_DATA_DIR": str(tmp_path),
        "SHELFCALL_SECRET_KEY": "test-only-secret-key-for-the-restart-test-0123456789",
        "SHELFCALL_RATELIMIT": "false",
        # Short, so that the stream reads during the outage within a second or so.
        "SHELFCALL_LIVE_HEARTBEAT_SECONDS": "0.5",
    }
    order_id, token, created = _run(SEED, env).split()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "shelfcall.cli", "serve", "--no-migrate", "--no-worker", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "server.log", "w"),  # noqa: SIM115 (closed with the process)
    )
    try:
        _wait_until_serving(base, server)
        chunks: queue.Queue = queue.Queue()
        url = f"{base}/o/{token}/events?last_event_id={created}"
        reader = threading.Thread(target=_read_into, args=(chunks, url), daemon=True)
        reader.start()
        seen: list[str] = []
        _received_until(chunks, seen, lambda text: "retry:" in text, timeout=20)
        assert seen[0] == "status 200"

        private_postgres.stop()
        # The stream read while the database was down, and held on.
        _received_until(chunks, seen, lambda text: text.count(": waiting for the database") >= 2, timeout=20)
        refused = httpx.get(url, timeout=10)
        assert refused.status_code == 503 and int(refused.headers["Retry-After"]) > 0

        private_postgres.start()
        _run(CLAIM, env, order_id)
        # The claim arrives on the same stream: it never ended, nothing had to reopen it.
        _received_until(chunks, seen, lambda text: bool(messages_from([text])), timeout=30)
        (message,) = messages_from(["".join(seen)])
        assert message["event"] == "order" and message["types"] == ["order.claimed"]
        assert message["status"] == "picking"
        # And the server listens again (then wakes every stream to read what it may have missed).
        _wait_for_log(tmp_path / "server.log", lambda log: log.count("Listening for order events") >= 2)
        assert "Lost the event LISTEN connection" in (tmp_path / "server.log").read_text()
    finally:
        server.terminate()
        server.wait(15)


def _wait_for_log(path: Path, done) -> None:
    deadline = time.monotonic() + 20
    while not done(path.read_text()):
        assert time.monotonic() < deadline, path.read_text()
        time.sleep(0.2)  # the server writes its log as it goes

import threading

import pytest

from tests.notify.receiver import start_receiver


@pytest.fixture
def receiver():
    receiver, server = start_receiver()
    yield receiver
    server.shutdown()
    server.server_close()
    unverified = [r.headers["webhook-id"] for r in receiver.received if r.verified is False]
    assert not unverified, f"webhooks that standardwebhooks does not verify: {unverified}"


@pytest.fixture
def all_statements(monkeypatch):
    """The SQL statements every thread of this process runs from now on (the worker's threads too)."""
    from django.db.backends.utils import CursorWrapper

    statements: list[str] = []
    execute = CursorWrapper._execute_with_wrappers

    def counted(self, sql, params, many, executor):
        statements.append(sql)
        return execute(self, sql, params, many, executor)

    monkeypatch.setattr(CursorWrapper, "_execute_with_wrappers", counted)
    return statements


@pytest.fixture
def start_worker():
    """Start `shelfcall worker`'s loop in a thread of this process (as `serve` embeds it); stopped after the test."""
    from django.db import connection

    from shelfcall.core.jobs import loop
    from shelfcall.notify import wakeup

    stops: list[tuple[threading.Event, threading.Thread]] = []

    def start() -> None:
        stop = threading.Event()
        thread = threading.Thread(target=loop.run, args=(stop,), kwargs={"in_process_wakeups": True})
        thread.start()
        stops.append((stop, thread))
        if connection.vendor == "postgresql":
            assert wakeup.listening.wait(5), "the worker's LISTEN connection did not come up"

    yield start
    for stop, thread in stops:
        stop.set()
        thread.join(10)


@pytest.fixture(autouse=True)
def example_push_service(settings):
    """The tests' stand-in push service, push.example.net, is one the subscriptions may name."""
    settings.SHELFCALL_PUSH_SERVICE_HOSTS = [*settings.SHELFCALL_PUSH_SERVICE_HOSTS, "push.example.net"]

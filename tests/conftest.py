import subprocess

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from shelfcall.api import auth, keys
from shelfcall.core.jobs import queue as jobs_queue
from shelfcall.live import caps
from shelfcall.notify import policies
from shelfcall.orders import promise

pytest_plugins = ["tests.support.pgcluster"]


def pytest_collection_modifyitems(config, items):
    """PostgreSQL-only tests (real row-level concurrency) are skipped on SQLite.

    Tests that start processes of their own share one xdist group (bin/test runs ``--dist loadgroup``):
    two of them at once on a small machine compete for its cores and time out waiting for each other.
    """
    from django.conf import settings

    for item in items:
        if _starts_processes(item.module) or "private_postgres" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("starts_processes"))
    if "postgresql" in settings.DATABASES["default"]["ENGINE"]:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: run with DATABASE_URL=postgres://…")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def _starts_processes(module) -> bool:
    """A test module that uses subprocess or the server helpers of tests/support starts processes."""
    helpers = {"tests.support.servers", "tests.support.pgcluster"}
    return any(value is subprocess or getattr(value, "__module__", None) in helpers for value in vars(module).values())


@pytest.fixture(autouse=True)
def _fresh_stream_counts(monkeypatch):
    """Every test client is 127.0.0.1: one test's streams must not count against the next's caps."""
    monkeypatch.setattr(caps, "open_streams", caps.OpenStreams())


@pytest.fixture(autouse=True)
def _no_job_heartbeat_inside_a_test_transaction(request, monkeypatch):
    """A job's heartbeat renews its lease from its own connection, which cannot see a job created inside
    the test's transaction: on a slow machine its first beat would find no job and stop a healthy one."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction", False):
        monkeypatch.setattr(jobs_queue, "HEARTBEAT_SECONDS", 3600.0)


@pytest.fixture(autouse=True)
def _default_time_zone():
    """Store pages activate their store's time zone for the request; under ASGI that stays in the request's
    context, but the test client runs every request in this thread, where it would outlive the test."""
    yield
    timezone.deactivate()


@pytest.fixture(autouse=True)
def _test_settings(settings):
    """Serve static files straight from the apps (no collectstatic in tests); fresh rate-limit counters."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    settings.RATELIMIT_ENABLE = False
    cache.clear()
    policies.forget()  # store ids come back after a rollback: no channel or timer policy may leak
    promise.history.forget()  # nor a store's history figures
    keys.forget()  # so do API keys (the demo's are the same in every test): no copy of a rolled-back row
    auth.API_ALLOWANCE.forget()  # nor their rate limit's hits counted ahead


@pytest.fixture
def fast_passwords(settings):
    """For tests that make many staff accounts and PINs: the default hasher's slowness protects nothing here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def rate_limits(settings, time_machine):
    """Rate limits on, in a frozen moment: their windows follow the wall clock, and a test that
    straddled the end of one would see its counter start again."""
    settings.RATELIMIT_ENABLE = True
    time_machine.move_to("2026-11-23 10:00:00+00:00", tick=False)


@pytest.fixture(scope="session", autouse=True)
def _close_stray_connections(django_db_setup, django_db_blocker):
    """Live streams read through a thread pool whose connections outlive the test's event loop; on
    PostgreSQL they would keep the test database from being dropped at the end."""
    yield
    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture
def count_statements():
    """Count the SQL statements of a block, leaving out the savepoints that only the test's own
    wrapping transaction causes (in production each action is the outermost transaction)."""
    import contextlib

    from django.test.utils import CaptureQueriesContext

    @contextlib.contextmanager
    def counting(limit: int):
        with CaptureQueriesContext(connection) as captured:
            statements: list[str] = []
            yield statements
        statements += [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
        assert len(statements) <= limit, f"{len(statements)} statements > {limit}:\n" + "\n".join(statements)

    return counting

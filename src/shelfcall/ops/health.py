"""`/healthz` and `/readyz` for load balancers and orchestrators: tiny JSON, no session, no cookie.

/healthz says the process answers (it reads nothing). /readyz says it can serve: the database
answers, every migration this code knows is applied, and on PostgreSQL the process's LISTEN
connection (live/pg_listener.py) is up, without which live pages only poll."""

import os

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from shelfcall.core.errors import DATABASE_UNAVAILABLE
from shelfcall.live import pg_listener
from shelfcall.live.sse import off_loop

# How long /readyz waits for the LISTEN connection (a probe's own timeout is usually 1-5 s).
LISTEN_WAIT_SECONDS = 1.0
# Migrations are not unapplied under a running process: once all are seen applied, stop planning.
_migrations_seen_applied = False


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok", "pid": os.getpid()})


def _unapplied_migrations() -> int:
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))


def _database_checks() -> dict[str, str]:
    global _migrations_seen_applied
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        if not _migrations_seen_applied:
            _migrations_seen_applied = _unapplied_migrations() == 0
    except DATABASE_UNAVAILABLE:
        return {"database": "unavailable", "migrations": "unknown"}
    return {"database": "ok", "migrations": "ok" if _migrations_seen_applied else "pending"}


async def _listen_check() -> dict[str, str]:
    if connection.vendor != "postgresql":
        return {}  # one process: events reach its streams without a LISTEN connection
    up = await pg_listener.ready(timeout=LISTEN_WAIT_SECONDS)
    return {"listen": "ok" if up else "unavailable"}


@never_cache
async def readyz(request: HttpRequest) -> JsonResponse:
    # On a shared pool thread that hands its connection back at once, as a stream's reads do.
    checks = await off_loop(_database_checks)()
    checks |= await _listen_check()
    ready = all(value == "ok" for value in checks.values())
    body = {"status": "ok" if ready else "unavailable", "pid": os.getpid(), **checks}
    return JsonResponse(body, status=200 if ready else 503)

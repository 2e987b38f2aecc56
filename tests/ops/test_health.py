"""/healthz and /readyz (ops/health.py): what a load balancer probes."""

import asyncio
import os
import time

import httpx
import pytest
from django.db import connection
from django.test import AsyncClient, Client

from shelfcall.live import pg_listener
from shelfcall.ops import health
from tests.support.servers import Server, running, server_env


def test_healthz_answers_without_the_database_a_session_or_a_cookie():
    response = Client().get("/healthz")  # no django_db mark: a query would fail the test
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "pid": os.getpid()}
    assert not response.cookies
    assert "no-cache" in response["Cache-Control"]


async def _ready() -> tuple[int, dict]:
    try:
        response = await AsyncClient().get("/readyz")
        return response.status_code, response.json()
    finally:
        await pg_listener.stop()


@pytest.mark.django_db(transaction=True)
def test_readyz_is_ready_when_the_database_answers_and_every_migration_is_applied(monkeypatch):
    monkeypatch.setattr(health, "_migrations_seen_applied", False)
    status, body = asyncio.run(_ready())
    assert status == 200, body
    expected = {"status": "ok", "pid": os.getpid(), "database": "ok", "migrations": "ok"}
    if connection.vendor == "postgresql":
        expected["listen"] = "ok"
    assert body == expected


@pytest.mark.django_db(transaction=True)
def test_readyz_is_not_ready_while_a_migration_is_missing(monkeypatch):
    monkeypatch.setattr(health, "_migrations_seen_applied", False)
    monkeypatch.setattr(health, "_unapplied_migrations", lambda: 1)
    status, body = asyncio.run(_ready())
    assert status == 503
    assert body["status"] == "unavailable" and body["migrations"] == "pending"


def test_probes_are_answered_over_plain_http_where_pages_redirect_to_https(settings):
    settings.SECURE_SSL_REDIRECT = True
    assert Client().get("/healthz").status_code == 200
    assert Client().get("/w/login").status_code == 301


@pytest.mark.postgres
def test_readyz_says_not_ready_while_the_database_is_down_and_ready_again_after(private_postgres, tmp_path):
    env = server_env(tmp_path, private_postgres.url, SHELFCALL_DB_POOL_TIMEOUT="1")
    with running([Server("serve", env)]) as (server,):
        assert httpx.get(f"{server.url}/readyz", timeout=5).json()["status"] == "ok"
        private_postgres.stop()
        down = httpx.get(f"{server.url}/readyz", timeout=10)
        assert down.status_code == 503
        assert down.json()["database"] == "unavailable"
        assert httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200
        private_postgres.start()
        assert _eventually_ready(server.url)


def _eventually_ready(url: str, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if httpx.get(f"{url}/readyz", timeout=10).status_code == 200:
            return True
        time.sleep(0.2)
    return False

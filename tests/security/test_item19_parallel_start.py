"""Item 19: any number of `shelfcall serve` processes start at the same moment on one fresh data
directory and one fresh database. Each migrates, collects static files and (without
SHELFCALL_SECRET_KEY) generates the signing key at start-up: none may crash, and all must agree."""

import subprocess
import sys

import httpx
import pytest

from tests.support.servers import Server, running, server_env

STARTERS = 3
PASSWORD = "a long enough password 19"


def start_together(env: dict[str, str]) -> list[Server]:
    return [Server("serve", env, "--no-worker") for _ in range(STARTERS)]


def signed_in_session(server: Server, env: dict[str, str]) -> dict[str, str]:
    subprocess.run(
        [sys.executable, "-m", "shelfcall.cli", "manage", "createsuperuser", "--noinput", "--username", "boss"],
        env={**env, "DJANGO_SUPERUSER_PASSWORD": PASSWORD, "DJANGO_SUPERUSER_EMAIL": "boss@example.com"},
        check=True,
        capture_output=True,
        timeout=60,
    )
    with httpx.Client(base_url=server.url, timeout=10) as browser:
        token = browser.get("/w/login").text.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
        answer = browser.post("/w/login", data={"csrfmiddlewaretoken": token, "username": "boss", "password": PASSWORD})
        assert answer.status_code == 302, answer.text
        return dict(browser.cookies)


def assert_all_serve_as_one(servers: list[Server], env: dict[str, str]) -> None:
    static = [httpx.get(f"{server.url}/static/admin/css/base.css", timeout=10) for server in servers]
    assert [answer.status_code for answer in static] == [200] * STARTERS
    # Sessions are signed with the secret key: one made by the first process is good on every one.
    cookies = signed_in_session(servers[0], env)
    pages = [httpx.get(f"{server.url}/w/stores", cookies=cookies, timeout=10) for server in servers]
    assert [page.status_code for page in pages] == [200] * STARTERS


def test_serve_processes_started_together_on_sqlite_all_come_up(tmp_path):
    env = server_env(tmp_path)
    with running(start_together(env)) as servers:
        assert_all_serve_as_one(servers, env)


@pytest.mark.postgres
def test_serve_processes_started_together_on_postgres_all_come_up(tmp_path, private_postgres):
    env = server_env(tmp_path, private_postgres.url)
    with running(start_together(env)) as servers:
        assert_all_serve_as_one(servers, env)

"""Item 8: behind HTTPS (SHELFCALL_SECURE_COOKIES=true) the app sends HSTS and believes the trusted
proxy's X-Forwarded-Proto, and its cookies go over TLS only, out of scripts' reach, never on another
site's cross-site posts; staff sessions end after a while without a request from their person."""

import asyncio
import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.http import HttpResponse
from django.test import AsyncClient, Client

from shelfcall.core import clock
from shelfcall.stores.idle import LAST_SEEN_KEY, StaffIdleTimeoutMiddleware
from shelfcall.workspace.views.access import STORE_KEY
from tests.factories import make_store, make_user, save_session, signed_in

YEAR = 365 * 24 * 3600


COOKIES, FLAGS = ("SESSION", "CSRF", "LANGUAGE"), ("SECURE", "HTTPONLY", "SAMESITE")
COOKIE_FLAGS = [f"{cookie}_COOKIE_{flag}" for cookie in COOKIES for flag in FLAGS]
NAMES = ["SECURE_HSTS_SECONDS", "SECURE_PROXY_SSL_HEADER", "SECURE_SSL_REDIRECT", "SHELFCALL_STAFF_IDLE_MINUTES"]


def settings_with(tmp_path, **env) -> dict:
    """The settings a fresh process computes from `env` (they are read once, at start-up)."""
    script = (
        "import json, django; from django.conf import settings; django.setup(); print(json.dumps({name:"
        f" getattr(settings, name) for name in {NAMES + COOKIE_FLAGS!r}}}))"
    )
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "shelfcall.settings", "SHELFCALL_DATA_DIR": str(tmp_path)}
    environment.pop("SHELFCALL_SECURE_COOKIES", None)
    output = subprocess.run(
        [sys.executable, "-c", script], env={**environment, **env}, capture_output=True, text=True, check=True
    )
    return json.loads(output.stdout)


def test_secure_cookies_bring_hsts_and_the_proxy_header(tmp_path):
    secure = settings_with(tmp_path, SHELFCALL_SECURE_COOKIES="true")
    assert secure["SECURE_HSTS_SECONDS"] == YEAR
    assert secure["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert secure["SECURE_SSL_REDIRECT"] is True
    tuned = settings_with(
        tmp_path, SHELFCALL_SECURE_COOKIES="true", SHELFCALL_HSTS_SECONDS="300", SHELFCALL_SSL_REDIRECT="false"
    )
    assert tuned["SECURE_HSTS_SECONDS"] == 300 and tuned["SECURE_SSL_REDIRECT"] is False
    plain = settings_with(tmp_path)
    assert plain["SECURE_HSTS_SECONDS"] == 0 and plain["SECURE_PROXY_SSL_HEADER"] is None
    assert plain["SECURE_SSL_REDIRECT"] is False and plain["SHELFCALL_STAFF_IDLE_MINUTES"] == 30


@pytest.mark.django_db
def test_production_cookies_go_over_tls_only_out_of_scripts_reach(tmp_path, settings):
    """The session's and the CSRF token's cookies, as production sends them: no script reads the CSRF
    cookie (alerts.js and the API docs take the token from the page's form), so it is HttpOnly too."""
    production = settings_with(tmp_path, SHELFCALL_SECURE_COOKIES="true")
    for name in COOKIE_FLAGS:
        setattr(settings, name, production[name])
    settings.SECURE_PROXY_SSL_HEADER = production["SECURE_PROXY_SSL_HEADER"]
    browser = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_PROTO="https")
    form = browser.get("/w/login")
    sign_in = browser.post("/w/login", {"username": make_user(make_store()).username, "password": "x"})
    assert sign_in.status_code == 302
    cookies = {**form.cookies, **sign_in.cookies}
    for name in (settings.CSRF_COOKIE_NAME, settings.SESSION_COOKIE_NAME):
        cookie = cookies[name]
        assert cookie["secure"] is True and cookie["httponly"] is True and cookie["samesite"] == "Lax", name
    plain = settings_with(tmp_path)
    assert not plain["SESSION_COOKIE_SECURE"] and not plain["CSRF_COOKIE_SECURE"]  # a laptop over plain HTTP
    assert plain["CSRF_COOKIE_HTTPONLY"] and plain["SESSION_COOKIE_HTTPONLY"]
    assert production["LANGUAGE_COOKIE_SECURE"] and production["LANGUAGE_COOKIE_SAMESITE"] == "Lax"


@pytest.fixture
def behind_https(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = YEAR
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]


@pytest.mark.django_db
def test_hsts_over_https_as_the_trusted_proxy_says(behind_https):
    response = Client(REMOTE_ADDR="127.0.0.1").get("/w/login", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == f"max-age={YEAR}"


@pytest.mark.django_db
def test_a_forged_proto_header_is_not_believed(behind_https):
    response = Client(REMOTE_ADDR="203.0.113.9").get("/w/login", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 301 and response["Location"] == "https://testserver/w/login"
    assert "Strict-Transport-Security" not in response


@pytest.mark.django_db
def test_health_checks_over_plain_http_are_not_redirected(behind_https):
    assert Client(REMOTE_ADDR="10.1.2.3").get("/healthz").status_code != 301


# The idle timeout (30 minutes by default).


@pytest.fixture
def now(time_machine):
    time_machine.move_to("2026-11-23 10:00:00+00:00", tick=False)
    return time_machine


@pytest.fixture
def store():
    return make_store()


@pytest.fixture
def alex(store):
    return make_user(store, name="Alex")


def is_signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.django_db
def test_a_quiet_session_is_signed_out_with_a_message(alex, now):
    client = signed_in(alex)
    assert client.get("/w/").status_code == 200
    now.shift(timedelta(minutes=31))
    response = client.get("/w/?filter=mine")
    assert response.status_code == 302 and response["Location"] == "/w/login?next=/w/%3Ffilter%3Dmine"
    assert not is_signed_in(client)
    page = client.get(response["Location"]).content.decode()
    assert "You were signed out after 30 minutes without activity. Sign in again." in page


@pytest.mark.django_db
def test_a_button_pressed_after_a_quiet_while_returns_to_its_page(alex, now):
    client = signed_in(alex)
    client.get("/w/")
    now.shift(timedelta(minutes=31))
    response = client.post("/w/orders/5/claim", HTTP_REFERER="http://testserver/w/orders/5?from=queue")
    assert response["Location"] == "/w/login?next=/w/orders/5%3Ffrom%3Dqueue"
    client.force_login(alex)
    client.get("/w/")
    now.shift(timedelta(minutes=31))
    elsewhere = client.post("/w/orders/5/claim", HTTP_REFERER="https://evil.example/w/orders/5")
    assert elsewhere["Location"] == "/w/login"


@pytest.mark.django_db
def test_someone_at_work_stays_signed_in(alex, now):
    client = signed_in(alex)
    for _ in range(8):  # four hours, a click every half hour
        assert client.get("/w/").status_code == 200
        now.shift(timedelta(minutes=29))
    assert is_signed_in(client)


@pytest.mark.django_db
def test_the_admin_sends_a_quiet_session_to_its_own_sign_in(now):
    admin = make_user(make_store(), name="Ada")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client = signed_in(admin)
    assert client.get("/admin/").status_code == 200
    now.shift(timedelta(minutes=45))
    assert client.get("/admin/")["Location"].startswith("/admin/login/?next=/admin/")


def sends_the_session(response) -> bool:
    return settings.SESSION_COOKIE_NAME in response.cookies  # the session is its cookie: written is sent


@pytest.mark.django_db
def test_the_session_is_written_at_most_once_a_minute(alex, now):
    client = signed_in(alex)
    client.get("/w/")
    now.shift(timedelta(seconds=20))
    assert not sends_the_session(client.get("/w/"))
    now.shift(timedelta(seconds=41))
    assert sends_the_session(client.get("/w/"))


@pytest.mark.django_db
def test_background_refreshes_do_not_keep_the_session_alive(alex, now):
    client = signed_in(alex)
    client.get("/w/")
    for _ in range(3):  # live events kept the queue re-reading itself for half an hour
        now.shift(timedelta(minutes=10))
        assert client.get("/w/?fragment=1", HTTP_X_REQUESTED_WITH="fetch").status_code == 200
    now.shift(timedelta(minutes=1))
    refused = client.get("/w/?fragment=1", HTTP_X_REQUESTED_WITH="fetch")
    assert refused.status_code == 403 and not is_signed_in(client)  # no sign-in form inside the queue


@pytest.mark.django_db
def test_streams_never_stamp_the_session(rf, alex, now):
    async def stream(request):
        return HttpResponse()

    request = rf.get("/w/stream")
    request.session = Client().session
    request.session["_auth_user_id"] = str(alex.pk)
    StaffIdleTimeoutMiddleware(stream).process_view(request, stream, (), {})
    assert LAST_SEEN_KEY not in request.session


@pytest.mark.django_db
def test_claiming_to_be_a_stream_does_not_skip_the_check(alex, now):
    client = signed_in(alex)
    client.get("/w/")
    now.shift(timedelta(minutes=31))
    assert client.get("/w/", HTTP_ACCEPT="text/event-stream").status_code == 302
    assert not is_signed_in(client)


def test_the_middleware_keeps_streams_async():
    async def stream(request):
        return HttpResponse()

    assert iscoroutinefunction(StaffIdleTimeoutMiddleware(stream))


@pytest.mark.django_db(transaction=True)
def test_a_stream_is_refused_once_the_session_went_quiet(store, alex, now):
    async def open_stream(minutes_quiet: int) -> int:
        client = AsyncClient()
        await client.aforce_login(alex)
        session = await client.asession()
        await session.aset(STORE_KEY, store.pk)
        await session.aset(LAST_SEEN_KEY, int(clock.now().timestamp()) - minutes_quiet * 60)
        save_session(client, session)
        response = await client.get("/w/stream", headers={"Accept": "text/event-stream"})
        if response.streaming:
            await response.streaming_content.aclose()
        return response.status_code

    assert asyncio.run(open_stream(31)) == 403


@pytest.mark.django_db
def test_zero_turns_the_timeout_off(alex, now, settings):
    settings.SHELFCALL_STAFF_IDLE_MINUTES = 0
    client = signed_in(alex)
    client.get("/w/")
    now.shift(timedelta(days=1))
    assert client.get("/w/").status_code == 200

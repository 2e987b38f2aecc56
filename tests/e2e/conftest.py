"""Browser tests: a real uvicorn server in a thread of this process, driven by Debian's Chromium.

The server thread shares this process's settings and test database (a file on SQLite, test_test on
PostgreSQL), and the live hub, so actions run from the test thread reach the pages it serves.
"""

import os
import shutil
import socket
import threading
import time

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    "locale": "en-US",
}


@pytest.fixture(scope="package", autouse=True)
def _allow_orm_beside_playwright():
    """Playwright's sync API keeps an event loop running in the test thread, and the tests call the ORM.

    Set for the browser tests only, from before the browser starts until after the last database flush;
    elsewhere in the suite Django's async-safety check stays on.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture
def live_server_url(transactional_db):
    """The ASGI application (pages and live streams) on 127.0.0.1 and a free port, for one test."""
    import uvicorn

    from shelfcall.asgi import application

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        application,
        host="127.0.0.1",
        port=port,
        lifespan="off",
        timeout_graceful_shutdown=1,
        log_level="warning",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="e2e-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 5
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)  # polling uvicorn's own flag
    if not server.started:
        server.should_exit = True
        thread.join(5)
        sock.close()
        pytest.fail("uvicorn did not start within 5 s")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        # The loop ends with the server; asyncio.run then cancels what is left on it (the PostgreSQL
        # LISTEN task, streams still open), and the next test's server starts its own.
        server.should_exit = True
        thread.join(10)
        sock.close()
        assert not thread.is_alive(), "the uvicorn thread did not stop"


@pytest.fixture(scope="package")
def browser():
    """One Chromium for all the browser tests.

    Package scope, not session: while Playwright's sync API is started, its event loop counts as running
    in the main thread, so in a whole-suite run every later asyncio.run() (tests/live) would fail.
    """
    executable = shutil.which("chromium")
    if executable is None:
        message = "Chromium is not on PATH (apt-get install chromium); the browser tests never download one"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


@pytest.fixture
def phone(browser, live_server_url):
    """A fresh phone-sized page (own cookies, so its own cart) whose relative URLs go to the live server.

    It depends on the server so that it closes first: the page's live stream ends before the server does.
    """
    context = browser.new_context(base_url=live_server_url, **PHONE)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


TABLET = {
    "viewport": {"width": 820, "height": 1180},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "en-US",
}


def session_cookie(user, url: str, *, store=None) -> dict:
    """A signed-in session for `user`, made server-side as django.contrib.auth.login would; `store`
    pre-selects the workspace's store (otherwise a user of several stores is asked to choose)."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    from shelfcall.core.sessions import SIGN_IN_KEY
    from shelfcall.workspace.views.access import STORE_KEY

    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = user._meta.pk.value_to_string(user)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]  # a password sign-in
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[SIGN_IN_KEY] = f"e2e-{user.pk}"
    if store is not None:
        session[STORE_KEY] = store.pk
    session.save()
    return {"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": url, "httpOnly": True}


@pytest.fixture
def open_page(browser, live_server_url):
    """Opens a page in a browser context of its own (own cookies: one person's device), optionally
    signed in to the workspace as `user`. Its second tab is `page.context.new_page()`.

    Like `phone`, it depends on the server so that its contexts close (and their live streams end) first.
    """
    contexts = []

    def open_(device: dict = PHONE, *, user=None, store=None):
        context = browser.new_context(base_url=live_server_url, **device)
        context.set_default_timeout(10_000)
        contexts.append(context)
        if user is not None:
            context.add_cookies([session_cookie(user, live_server_url, store=store)])
        return context.new_page()

    yield open_
    for context in contexts:
        context.close()


def watch_offline(page, live_server_url: str) -> tuple[list[str], list[str]]:
    """Refuse every request that leaves this server and collect console errors: returns the refused
    URLs and the errors, both filled as the page runs (a page must work offline, under our CSP)."""
    outside: list[str] = []
    problems: list[str] = []

    def only_this_server(route) -> None:
        if route.request.url.startswith(f"{live_server_url}/"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.context.route("**/*", only_this_server)
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return outside, problems

"""Staff sessions end after SHELFCALL_STAFF_IDLE_MINUTES without a request from the person.

A store tablet left signed in on the shop floor is within every shopper's reach. The session (a signed
cookie, core/sessions.py) keeps the time of the person's last request, written at most once a minute
(so that a click does not send a new cookie every time). Live streams and the refreshes they trigger are
the page asking, not the person: they never keep a session alive."""

from collections.abc import Callable
from urllib.parse import urlsplit

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.views import redirect_to_login
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.deprecation import MiddlewareMixin
from django.utils.translation import ngettext

from shelfcall.core import clock

LAST_SEEN_KEY = "staff_last_seen"
STAMP_EVERY_SECONDS = 60


def _limit_seconds() -> int:
    return settings.SHELFCALL_STAFF_IDLE_MINUTES * 60


def _now() -> int:
    return int(clock.now().timestamp())


def is_idle_expired(session: SessionBase) -> bool:
    """True when a signed-in session has gone quiet for longer than the limit."""
    last_seen = session.get(LAST_SEEN_KEY)
    limit = _limit_seconds()
    return bool(limit) and SESSION_KEY in session and isinstance(last_seen, int) and _now() - last_seen > limit


def is_background_refresh(request: HttpRequest) -> bool:
    """The page re-reading a region after a live event (workspace.js marks those fetches)."""
    return request.headers.get("X-Requested-With") == "fetch"


class StaffIdleTimeoutMiddleware(MiddlewareMixin):
    """Signs a quiet staff session out and sends the person to sign in again, with a message. A mixin
    middleware, so live streams stay async. The async views are the live streams: they are left to
    check `is_idle_expired` in their own database read (access.live_user), because signing out here
    (logout reads the user and records its sign-in as revoked, core/sessions.py) would open a database
    connection in the request's thread, held for as long as the stream lasts.
    Telling them apart by the view, not by a header, leaves no header that skips the check."""

    def process_view(self, request: HttpRequest, view: Callable, args: tuple, kwargs: dict) -> HttpResponse | None:
        if not _limit_seconds() or iscoroutinefunction(view) or SESSION_KEY not in request.session:
            return None
        if is_idle_expired(request.session):
            return _sign_out(request)
        last_seen = request.session.get(LAST_SEEN_KEY)
        now = _now()
        stale = not isinstance(last_seen, int) or now - last_seen >= STAMP_EVERY_SECONDS
        if stale and not is_background_refresh(request):
            request.session[LAST_SEEN_KEY] = now
        return None


def _sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    if is_background_refresh(request):
        return HttpResponse(status=403)  # not a sign-in form inside the queue: the page keeps what it shows
    minutes = settings.SHELFCALL_STAFF_IDLE_MINUTES
    messages.warning(
        request,
        ngettext(
            "You were signed out after %(minutes)d minute without activity. Sign in again.",
            "You were signed out after %(minutes)d minutes without activity. Sign in again.",
            minutes,
        )
        % {"minutes": minutes},
    )
    login_url = "admin:login" if request.path.startswith(reverse("admin:index")) else settings.LOGIN_URL
    back_to = _page_to_return_to(request)
    return redirect_to_login(back_to, login_url) if back_to else redirect(login_url)


def _page_to_return_to(request: HttpRequest) -> str | None:
    """This page, or for a form sent (a button pressed) the page it was sent from: after signing in
    again, a GET of the button's address would only be refused."""
    if request.method == "GET":
        return request.get_full_path()
    page = urlsplit(request.headers.get("Referer", ""))
    if page.netloc != request.get_host() or not page.path.startswith("/"):
        return None
    return f"{page.path}?{page.query}" if page.query else page.path

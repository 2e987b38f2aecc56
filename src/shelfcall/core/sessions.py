"""Sessions are signed cookies: no page reads or writes a session row. Sign-ins are revocable.

The session lives in its cookie, signed with SECRET_KEY (a client can read it, not change it) and
serialized as JSON, never pickle. Its timestamp is signed too: a cookie older than SESSION_COOKIE_AGE
since it was last written is refused. What goes in it is small and bounded (shopper/cart.py keeps
the carts of a few showcases only): browsers drop a cookie past 4 KB without a word.

A signed cookie stays valid wherever it was copied to, so signing out must be recorded: every sign-in
gets an id of its own in its session; flushing a signed-in session (signing out, or another person
signing in on the same device) records that id as revoked until the cookie would have expired anyway.
The sign-in backends read the user with `is_revoked` in the statement they already run: the session
reaches them through `_reading`, set around the request's lazy user by `AuthenticationMiddleware`.
A session without an id (a shopper's, or one from before sign-ins had them) signs nobody in."""

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta
from functools import partial
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, get_user_model
from django.contrib.auth import SESSION_KEY as USER_KEY
from django.contrib.auth import middleware as auth_middleware
from django.contrib.auth.models import AnonymousUser, User
from django.contrib.sessions.backends import signed_cookies
from django.contrib.sessions.backends.base import SessionBase
from django.core.signing import JSONSerializer
from django.db.models import Exists
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from shelfcall.core import clock
from shelfcall.core.models import RevokedSignIn

SIGN_IN_KEY = "shelfcall_sign_in"
_SIGNED_IN_KEYS = (USER_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY, SIGN_IN_KEY)
# A request that read its user just before a revocation may write its cookie just after: room for it.
_LONGEST_REQUEST = timedelta(hours=1)
_reading: ContextVar[SessionBase | None] = ContextVar("shelfcall_session_reading_its_user", default=None)


class SessionStore(signed_cookies.SessionStore):
    serializer = JSONSerializer  # whatever settings say: a forged pickle would run code

    def flush(self) -> None:
        """Django's database store deleted the row here, so a copied cookie died with its session."""
        revoke(self)
        super().flush()

    async def aflush(self) -> None:
        await sync_to_async(revoke)(self)
        await super().aflush()


def start_sign_in(sender: type, request: HttpRequest | None, user: User, **kwargs: object) -> None:
    """user_logged_in receiver: a new id for this sign-in. An id still there (the same person signing
    in again over their own session, which Django does not flush) is revoked: copies of it end here."""
    if request is None:
        return
    revoke(request.session)
    request.session[SIGN_IN_KEY] = secrets.token_urlsafe(16)


def revoke(session: SessionBase) -> None:
    """Record the session's sign-in as signed out, if it has one."""
    sign_in, user_id = session.get(SIGN_IN_KEY), session.get(USER_KEY)
    if not sign_in or user_id is None:
        return
    # No cookie carrying it is signed later (AuthenticationMiddleware), so none outlives this.
    expires_at = clock.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE) + _LONGEST_REQUEST
    revoked = RevokedSignIn(
        sign_in=sign_in, user_id=get_user_model()._meta.pk.to_python(user_id), expires_at=expires_at
    )
    RevokedSignIn.objects.bulk_create([revoked], ignore_conflicts=True)  # signed out twice: once is enough


def purge_revoked() -> int:
    """Housekeeping: a revoked sign-in's cookie has expired by now, so its row is no longer needed."""
    deleted, _counts = RevokedSignIn.objects.filter(expires_at__lt=clock.now()).delete()
    return deleted


def current_sign_in() -> str | None:
    """The sign-in id of the session whose user is being read, for the backends' get_user."""
    session = _reading.get()
    return None if session is None else session.get(SIGN_IN_KEY)


def session_being_read() -> SessionBase | None:
    """The session whose user is being read, for what a backend keeps in it besides the sign-in id."""
    return _reading.get()


def is_revoked(sign_in: str) -> Exists:
    """For the user's own statement: a revoked sign-in is no user."""
    return Exists(RevokedSignIn.objects.filter(sign_in=sign_in))


@contextmanager
def reading_user_of(session: SessionBase) -> Iterator[None]:
    """While the request's user is read, its backend sees the session (and nobody else's: a context
    variable is the current thread's or task's own)."""
    token = _reading.set(session)
    try:
        yield
    finally:
        _reading.reset(token)


def _user(request: HttpRequest) -> User | AnonymousUser:
    with reading_user_of(request.session):
        return auth_middleware.get_user(request)


async def _auser(request: HttpRequest) -> User | AnonymousUser:
    with reading_user_of(request.session):  # copied into the thread sync_to_async reads it in
        return await auth_middleware.auser(request)


class AuthenticationMiddleware(auth_middleware.AuthenticationMiddleware):
    """Django's, the lazy user (and `auser`) read with the session's sign-in id in reach; and a session
    written again keeps its sign-in only if that sign-in is valid now. Each write dates the cookie
    afresh: a revoked cookie kept fresh by its pages (a cart changed, the idle stamp) would otherwise
    sign its person in again once its revocation was purged."""

    def process_request(self, request: HttpRequest) -> Any:
        super().process_request(request)  # its check that sessions come first
        request.user = SimpleLazyObject(partial(_user, request))  # type: ignore[assignment]  # as Django's own does
        request.auser = partial(_auser, request)

    def process_response(self, request: HttpRequest, response: Any) -> Any:
        session = getattr(request, "session", None)
        if session is not None and session.modified and USER_KEY in session and not request.user.is_authenticated:
            for key in _SIGNED_IN_KEYS:
                session.pop(key, None)
        return response

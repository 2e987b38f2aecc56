"""A person given a one-time password by an admin chooses their own before anything else.

At a sign-in with the password (not a PIN switch, which cannot change it), the session is marked when
the account still has its one-time password; while marked, every staff page sends them to the page
that sets a new one. The mark lives in the session (a signed cookie, core/sessions.py), so other requests
cost no query."""

from collections.abc import Callable
from functools import cache

from asgiref.sync import iscoroutinefunction
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.deprecation import MiddlewareMixin

from shelfcall.setup.models import OneTimePassword
from shelfcall.stores import signin

SESSION_KEY = "shelfcall.choose_own_password"
STAFF_PAGES = ("/w/", "/setup/", "/hq/", "/insights/", "/admin/")
# What a marked session may still open: the page itself, signing out, the installable app's parts.
ALLOWED_URL_NAMES = (
    "workspace:choose_password",
    "workspace:logout",
    "workspace:service_worker",
    "workspace:manifest",
    "workspace:offline",
)


def give(user: User) -> None:
    """`user`'s password was chosen by someone else: they must replace it."""
    OneTimePassword.objects.get_or_create(user=user)


def mark_on_sign_in(sender: type, request: HttpRequest | None, user: User, **kwargs: object) -> None:
    """user_logged_in receiver."""
    if request is None or signin.signed_in_with_pin(request):
        return
    if OneTimePassword.objects.filter(user=user).exists():
        request.session[SESSION_KEY] = True


def must_choose(request: HttpRequest) -> bool:
    return bool(request.user.is_authenticated and request.session.get(SESSION_KEY))


@transaction.atomic
def choose(request: HttpRequest, form: SetPasswordForm) -> None:
    """Save the person's own password; the session stays signed in, unmarked."""
    user = form.save()
    OneTimePassword.objects.filter(user=user).delete()
    update_session_auth_hash(request, user)
    request.session.pop(SESSION_KEY, None)


@cache
def _allowed_paths() -> frozenset[str]:
    return frozenset(reverse(name) for name in ALLOWED_URL_NAMES)


class ChooseOwnPasswordMiddleware(MiddlewareMixin):
    """After authentication: a marked session reaches no staff page but the one that sets a password.
    A mixin middleware, so live streams stay async: they are left alone (they show no page, and asking
    here whether the request is signed in reads the user, on a database connection the request's thread
    would hold for as long as the stream lasts)."""

    def process_view(self, request: HttpRequest, view: Callable, args: tuple, kwargs: dict) -> HttpResponse | None:
        if iscoroutinefunction(view) or not request.path.startswith(STAFF_PAGES):
            return None
        if must_choose(request) and request.path not in _allowed_paths():
            return redirect("workspace:choose_password")
        return None

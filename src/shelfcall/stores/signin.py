"""How staff prove who they are: a password (at /w/login and /admin/login/) or, on a shared store
device, a PIN.

Both are Django authentication backends, so every way in goes through the same lockout: failures are
counted in the database (core/throttle.py) per account and per address, in two tiers — a few wrong
tries pause the account for minutes, many pause it for hours. While paused even the right secret is
refused (otherwise the pause would only slow guessing down), and the refusal reads the same whether
the account exists or not. Each attempt is counted before the secret is checked, so that a hundred
guesses sent at the same moment cannot all be checked before the first failure is counted.

A sign-in lasts only as long as the secret it was made with. Django keeps a digest of the password's
hash in the session and refuses the session once the password changes; a PIN sign-in keeps a digest of
the PIN's hash too (`PIN_HASH_SESSION_KEY`), and `PinBackend.get_user` refuses it once the PIN is
changed or removed. The PIN's hash is read in the user's own statement, so that costs no query."""

import contextlib
import functools
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import BACKEND_SESSION_KEY, authenticate, get_user_model
from django.contrib.auth.backends import BaseBackend, ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import User
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext_lazy, ngettext

from shelfcall.core import clock, sessions, throttle
from shelfcall.core.clients import address_key
from shelfcall.core.throttle import Rate, Throttled
from shelfcall.orders.compiled import CompiledGet, is_row_id
from shelfcall.stores.models import StaffPin

MINUTE, HOUR = 60, 3600
PIN_HASH_SESSION_KEY = "shelfcall_pin_hash"
T = TypeVar("T")


@dataclass(frozen=True)
class Lockout:
    """Failures counted per account and per address; each rate is one tier."""

    per_account: tuple[Rate, ...]
    per_address: tuple[Rate, ...]

    def guarded(self, request: HttpRequest | None, account: str, check: Callable[[], T | None]) -> T | None:
        """Run `check` (the secret's check: the user, or None when wrong) under this lockout. Raises
        Throttled, saying how long to wait, while the account or the address is paused."""
        counters = self._counters(request, account)
        self._refuse_if_paused(counters)
        for rate, key in counters:
            throttle.check(rate, key)  # counted in advance: guesses sent at once all count
        result = check()
        if result is not None:
            self._take_back(request, account)
        return result

    def _counters(self, request: HttpRequest | None, account: str) -> list[tuple[Rate, str]]:
        counters = [(rate, account) for rate in self.per_account]
        if request is not None:
            counters += [(rate, address_key(request)) for rate in self.per_address]
        return counters

    @staticmethod
    def _refuse_if_paused(counters: list[tuple[Rate, str]]) -> None:
        # Not counted while paused: someone retrying during a short pause must not earn the long one.
        paused = [rate for rate, key in counters if throttle.is_over(rate, key)]
        if paused:
            now = clock.now()
            raise Throttled(max(rate.retry_after(now) for rate in paused))

    def _take_back(self, request: HttpRequest | None, account: str) -> None:
        """A right secret clears the account's failures; the address keeps its failures (one good
        account must not wipe out a spray of guesses at others) but not this attempt."""
        for rate in self.per_account:
            throttle.forget(rate, account)
        if request is not None:
            for rate in self.per_address:
                throttle.count_back(rate, address_key(request))


PASSWORDS = Lockout(
    per_account=(Rate("signin.password.account", 5, 15 * MINUTE), Rate("signin.password.account.long", 20, 6 * HOUR)),
    # A store's devices share one address: room for a whole shift mistyping, not for a spray of guesses.
    per_address=(Rate("signin.password.address", 20, 15 * MINUTE), Rate("signin.password.address.long", 100, 6 * HOUR)),
)
PINS = Lockout(
    per_account=(Rate("signin.pin.account", 5, 15 * MINUTE), Rate("signin.pin.account.long", 20, 6 * HOUR)),
    per_address=(Rate("signin.pin.address", 10, 5 * MINUTE), Rate("signin.pin.address.long", 60, 6 * HOUR)),
)

# ASCII digits only: `\d` would also take ٣ or ², which look like digits and are not on the keypad.
PIN_PATTERN = "[0-9]{6,12}"
_PIN = re.compile(rf"\A{PIN_PATTERN}\Z")
_SHORT_PIN = re.compile(r"\A[0-9]{1,5}\Z")  # a PIN set before the rule of 6 to 12 digits
# What anyone setting or typing a PIN is told when it is not one (١٢٣٤٥٦ and fullwidth digits are not).
PIN_RULE = gettext_lazy("Use 6 to 12 digits (0 to 9).")
_RUN = "0123456789"


def is_pin(text: str) -> bool:
    """A PIN has 6 to 12 ASCII digits. Shorter PINs set before that rule can no longer be used."""
    return bool(_PIN.match(text))


def is_short_pin(text: str) -> bool:
    return bool(_SHORT_PIN.match(text))


def is_guessable_pin(pin: str) -> bool:
    """One digit repeated, or a straight run up or down (123456, 987654): the first PINs anyone tries."""
    return len(set(pin)) == 1 or pin in _RUN or pin in _RUN[::-1]


def account_key(username: str) -> str:
    """One counter per account however its name is typed (case, full-width letters, spaces)."""
    return "name:" + unicodedata.normalize("NFKC", username).strip().casefold()


class _LockedOutBackend(ModelBackend):
    # ModelBackend's async sign-in checks the password on its own; ours goes through authenticate().
    aauthenticate = BaseBackend.aauthenticate  # type: ignore[assignment]  # the generic form, on purpose
    # Its async user read too, without the roles and the revoked sign-in; ours goes through get_user().
    aget_user = BaseBackend.aget_user

    def get_user(self, user_id: int) -> User | None:
        """A request's user, with its roles, whether its sign-in was revoked and its PIN's hash in the
        same statement: the policy asks nothing more. A session without a sign-in id (core/sessions.py)
        is nobody's."""
        sign_in = sessions.current_sign_in()
        if sign_in is None or not is_row_id(user_id):
            return None
        user = _signed_in_user().first(user_id, sign_in)
        signed_out = getattr(user, "signed_out", True)  # annotated by the statement
        return user if user is not None and not signed_out and self.user_can_authenticate(user) else None


@functools.cache
def _signed_in_user() -> CompiledGet[User]:
    """Every signed-in request's statement: compiled once per process (orders/compiled.py), at first use,
    as the policy it reads the roles with builds on this module."""
    from shelfcall.stores.policy import with_held_roles

    def build(user_id: int, sign_in: str) -> QuerySet[User]:
        users = with_held_roles(get_user_model()._default_manager.filter(pk=user_id))
        pin_hash = StaffPin.objects.filter(user=OuterRef("pk")).values("pin_hash")
        return users.annotate(signed_out=sessions.is_revoked(sign_in), current_pin_hash=Subquery(pin_hash))

    return CompiledGet(build, int, str)


def pin_session_hash(pin_hash: str, secret: str | bytes | None = None) -> str:
    """What a PIN sign-in's session keeps of the PIN's hash, as Django's get_session_auth_hash does
    for the password: a keyed digest, so the cookie (readable by its holder) gives nothing to guess from."""
    return salted_hmac(PIN_HASH_SESSION_KEY, pin_hash, secret=secret, algorithm="sha256").hexdigest()


def _pin_unchanged(user: User, session: SessionBase) -> bool:
    """Whether the session's PIN digest is that of the PIN `user` has now. One made with a key that
    settings.SECRET_KEY_FALLBACKS still accepts is written again with the new key, as Django does."""
    kept, pin_hash = session.get(PIN_HASH_SESSION_KEY), getattr(user, "current_pin_hash", None)
    if not kept or not pin_hash:  # a PIN removed (or never given) ends its sign-ins
        return False
    current = pin_session_hash(pin_hash)
    if constant_time_compare(kept, current):
        return True
    if any(constant_time_compare(kept, pin_session_hash(pin_hash, key)) for key in settings.SECRET_KEY_FALLBACKS):
        session[PIN_HASH_SESSION_KEY] = current
        return True
    return False


class PasswordBackend(_LockedOutBackend):
    """Django's user name and password check, behind the password lockout."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        username = username if username is not None else kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None  # not a password sign-in (e.g. a PIN): nothing to count

        def check() -> User | None:
            return super(PasswordBackend, self).authenticate(request, username=username, password=password)

        return PASSWORDS.guarded(request, account_key(username), check)


class PinBackend(_LockedOutBackend):
    """A PIN switches a shared device to `staff` (whom the caller already found among the store's
    people), behind the PIN lockout, counted per target account."""

    # Django calls each backend whose signature takes the credentials given, hence no **kwargs here.
    def authenticate(  # type: ignore[override]
        self, request: HttpRequest | None, staff: User | None = None, pin_secret: str | None = None
    ) -> User | None:
        if staff is None or pin_secret is None or not is_pin(pin_secret):
            return None

        def check() -> User | None:
            pin = StaffPin.objects.filter(user=staff).first()
            if pin is None or not check_password(pin_secret, pin.pin_hash) or not self.user_can_authenticate(staff):
                return None
            staff.signed_in_pin_hash = pin.pin_hash  # type: ignore[attr-defined]  # for its session: remember_pin
            return staff

        return PINS.guarded(request, f"user:{staff.pk}", check)

    def get_user(self, user_id: int) -> User | None:
        """The user, while the session's PIN is still theirs: a PIN changed, reset or removed ends the
        sign-ins made with it (the person's own device, signed in with the password, stays in)."""
        user, session = super().get_user(user_id), sessions.session_being_read()
        return user if user is not None and session is not None and _pin_unchanged(user, session) else None


PIN_BACKEND = f"{PinBackend.__module__}.{PinBackend.__qualname__}"


def signed_in_with_pin(request: HttpRequest) -> bool:
    """Django records which backend let the session in; a password sign-in later replaces it."""
    return request.session.get(BACKEND_SESSION_KEY) == PIN_BACKEND


def remember_pin(sender: type, request: HttpRequest | None, user: User, **kwargs: object) -> None:
    """user_logged_in receiver: a PIN sign-in keeps the digest of the PIN it was made with (the one
    the backend checked, not one read again: it may have changed since); another sign-in keeps none."""
    if request is None:
        return
    checked = getattr(user, "signed_in_pin_hash", None)
    if signed_in_with_pin(request) and checked:
        request.session[PIN_HASH_SESSION_KEY] = pin_session_hash(checked)
    else:
        request.session.pop(PIN_HASH_SESSION_KEY, None)


def confirm_secret(request: HttpRequest, user: User, secret: str) -> bool:
    """True when `secret` is the user's current PIN or password (each checked under its lockout)."""
    if is_pin(secret):
        with contextlib.suppress(Throttled):  # PINs paused: the password may still be given
            if authenticate(request, staff=user, pin_secret=secret) is not None:
                return True
    return authenticate(request, username=user.get_username(), password=secret) is not None


def minutes_to_wait(refusal: Throttled) -> int:
    return math.ceil(refusal.retry_after / MINUTE)


def sign_in_paused_message(refusal: Throttled) -> str:
    minutes = minutes_to_wait(refusal)
    return ngettext(
        "Too many failed sign-ins. Try again in %(minutes)d minute.",
        "Too many failed sign-ins. Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


class _PausedSignInMixin(AuthenticationForm):
    """Shows a lockout as the form's error, with the wait, instead of the generic 429 page."""

    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()
        except Throttled as refusal:
            raise ValidationError(sign_in_paused_message(refusal), code="paused") from None


class SignInForm(_PausedSignInMixin, AuthenticationForm):
    """The workspace's sign-in (/w/login)."""


class AdminSignInForm(_PausedSignInMixin, AdminAuthenticationForm):
    """The admin's sign-in (/admin/login/): the same backends, the same lockout."""

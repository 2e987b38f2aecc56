"""Issuing and checking API keys.

A key reads `sc_<prefix>_<secret>`: the prefix (12 hex digits) finds the row by an indexed
equality, the secret (32 random bytes) is kept only as its SHA-256. The secret is random, not
chosen by a person, so a fast hash is enough (nothing to guess from a dictionary) and no pepper is
needed; the comparison is in constant time all the same.

Each process keeps the rows of the keys it has seen for CACHE_SECONDS, so a request costs no query
for its key; the secret is still checked against the kept hash on every request. Revoking clears
the revoking process's copy at once; every other process refuses the key within CACHE_SECONDS."""

import base64
import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import User
from django.db import transaction

from shelfcall.api.errors import KeyRevoked, Unauthenticated
from shelfcall.api.models import ApiKey
from shelfcall.api.scopes import Scope
from shelfcall.core import clock
from shelfcall.stores.models import Organization, Store

_KEY_SHAPE = re.compile(r"sc_([0-9a-f]{12})_([A-Za-z0-9_-]{43})", re.ASCII)
# Reads must not write on every request: last_used_at is as fresh as this, no fresher.
LAST_USED_PRECISION = timedelta(minutes=1)
# How long a process answers from its copy of a key's row: at most this late, a revocation (or a key's
# new name) made by another process takes effect in this one.
CACHE_SECONDS = 5.0

_lock = threading.Lock()
_kept: dict[str, tuple[float, ApiKey]] = {}  # prefix → (monotonic time it expires, the row)

RandomBytes = Callable[[int], bytes]


@dataclass(frozen=True)
class IssuedKey:
    """The stored key and its full text, which exists only here: show it once, then drop it."""

    api_key: ApiKey
    plaintext: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_key_text(random_bytes: RandomBytes) -> tuple[str, str, str]:
    """(full key, prefix, secret)."""
    prefix = random_bytes(6).hex()
    secret = base64.urlsafe_b64encode(random_bytes(32)).rstrip(b"=").decode()
    return f"sc_{prefix}_{secret}", prefix, secret


@transaction.atomic
def issue_key(
    *,
    organization: Organization,
    name: str,
    scopes: Iterable[Scope],
    store: Store | None = None,
    created_by: User | None = None,
    random_bytes: RandomBytes = secrets.token_bytes,
) -> IssuedKey:
    plaintext, prefix, secret = new_key_text(random_bytes)
    api_key = ApiKey.objects.create(
        organization=organization,
        store=store,
        name=name,
        scopes=sorted(Scope(scope).value for scope in scopes),
        prefix=prefix,
        secret_hash=_hash(secret),
        created_by=created_by,
        created_at=clock.now(),
    )
    return IssuedKey(api_key, plaintext)


def authenticate(token: str) -> ApiKey:
    """The live key behind `token`, or Unauthenticated / KeyRevoked. One query when this process has no
    fresh copy of the key, none otherwise; a write at most once a minute per key and process (last_used_at)."""
    shape = _KEY_SHAPE.fullmatch(token)
    if shape is None:
        raise Unauthenticated()
    prefix, secret = shape.groups()
    api_key = _stored_key(prefix)
    # Compare against a hash even when no row matched, so the answer takes as long either way.
    expected = api_key.secret_hash if api_key else _hash("")
    if not hmac.compare_digest(expected, _hash(secret)) or api_key is None:
        raise Unauthenticated()
    if api_key.is_revoked:
        raise KeyRevoked()
    _note_use(api_key)
    return api_key


def _stored_key(prefix: str) -> ApiKey | None:
    """The row of the key with this prefix, from this process's copy while it is fresh. Unknown prefixes
    are not kept: a key issued a moment ago works at once. Requests share the copy and only read it."""
    now = time.monotonic()
    with _lock:
        kept = _kept.get(prefix)
    if kept is not None and kept[0] > now:
        return kept[1]
    api_key = ApiKey.objects.select_related("organization", "store").filter(prefix=prefix).first()
    if api_key is not None:
        with _lock:
            _kept[prefix] = (now + CACHE_SECONDS, api_key)
    return api_key


def forget(prefixes: Iterable[str] | None = None) -> None:
    """Drop this process's copies of these keys (None: of every key), e.g. once they are revoked."""
    with _lock:
        if prefixes is None:
            _kept.clear()
        for prefix in prefixes or ():
            _kept.pop(prefix, None)


def _note_use(api_key: ApiKey) -> None:
    now = clock.now()
    if api_key.last_used_at is not None and now - api_key.last_used_at < LAST_USED_PRECISION:
        return
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    api_key.last_used_at = now


def revoke(api_keys: Iterable[ApiKey]) -> int:
    """Revoke the keys not revoked yet; returns how many were."""
    api_keys = list(api_keys)
    revoked = ApiKey.objects.filter(pk__in=[api_key.pk for api_key in api_keys], revoked_at__isnull=True).update(
        revoked_at=clock.now()
    )
    forget(api_key.prefix for api_key in api_keys)
    return revoked

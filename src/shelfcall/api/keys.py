"""Issuing and checking API keys.

A key reads `sc_<prefix>_<secret>`: the prefix (12 hex digits) finds the row by an indexed
equality, the secret (32 random bytes) is kept only as its SHA-256. The secret is random, not
chosen by a person, so a fast hash is enough (nothing to guess from a dictionary) and no pepper is
needed; the comparison is in constant time all the same."""

import base64
import hashlib
import hmac
import re
import secrets
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
    """The live key behind `token`, or Unauthenticated / KeyRevoked. One query; a write at most once
    a minute per key (last_used_at)."""
    shape = _KEY_SHAPE.fullmatch(token)
    if shape is None:
        raise Unauthenticated()
    prefix, secret = shape.groups()
    api_key = ApiKey.objects.select_related("organization", "store").filter(prefix=prefix).first()
    # Compare against a hash even when no row matched, so the answer takes as long either way.
    expected = api_key.secret_hash if api_key else _hash("")
    if not hmac.compare_digest(expected, _hash(secret)) or api_key is None:
        raise Unauthenticated()
    if api_key.is_revoked:
        raise KeyRevoked()
    _note_use(api_key)
    return api_key


def _note_use(api_key: ApiKey) -> None:
    now = clock.now()
    if api_key.last_used_at is not None and now - api_key.last_used_at < LAST_USED_PRECISION:
        return
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    api_key.last_used_at = now


def revoke(api_keys: Iterable[ApiKey]) -> int:
    """Revoke the keys not revoked yet; returns how many were."""
    ids = [api_key.pk for api_key in api_keys]
    return ApiKey.objects.filter(pk__in=ids, revoked_at__isnull=True).update(revoked_at=clock.now())

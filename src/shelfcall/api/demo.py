"""The demo store's two API keys, stable across restarts of one demo (same data directory).

They are derived from the secret key, so the printed lines stay valid for the README's `curl`
examples after a restart while the database still holds only their hashes."""

import hashlib
import hmac
from collections.abc import Iterator

from django.conf import settings

from shelfcall.api.keys import RandomBytes, issue_key, new_key_text
from shelfcall.api.models import ApiKey
from shelfcall.api.scopes import Scope
from shelfcall.stores.models import Store

DEMO_KEYS = {
    "till": ("Demo till", [Scope.ORDERS_READ, Scope.ORDERS_WRITE, Scope.PAYMENTS_WRITE]),
    "webshop": ("Demo webshop", [Scope.ORDERS_READ, Scope.ORDERS_WRITE, Scope.CATALOG_WRITE, Scope.WEBHOOKS_WRITE]),
}


def _derived_bytes(purpose: str) -> RandomBytes:
    counter: Iterator[int] = iter(range(1_000))

    def random_bytes(n: int) -> bytes:
        message = f"shelfcall demo api key\0{purpose}\0{next(counter)}".encode()
        return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).digest()[:n]

    return random_bytes


def demo_api_keys(store: Store) -> dict[str, str]:
    """Purpose → key text; a key revoked in the admin stays revoked (and is reported so)."""
    shown = {}
    for purpose, (name, scopes) in DEMO_KEYS.items():
        plaintext, prefix, _secret = new_key_text(_derived_bytes(purpose))
        api_key = ApiKey.objects.filter(prefix=prefix).first()
        if api_key is None:
            issue_key(
                organization=store.organization,
                store=store,
                name=name,
                scopes=scopes,
                random_bytes=_derived_bytes(purpose),
            )
        shown[purpose] = plaintext + (" (revoked in the admin)" if api_key and api_key.is_revoked else "")
    return shown

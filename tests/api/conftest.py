import json
from collections.abc import Callable

import pytest

from shelfcall.api.keys import IssuedKey, issue_key
from shelfcall.api.scopes import Scope
from shelfcall.stores.models import Store
from tests.factories import make_showcase, make_store, submit
from tests.notify.conftest import receiver  # noqa: F401 (a fixture: a local HTTP server for webhooks)


@pytest.fixture
def store() -> Store:
    return make_store()


@pytest.fixture
def make_key() -> Callable[..., IssuedKey]:
    def make(store: Store, *scopes: Scope, whole_organization: bool = False, name: str = "Till 1") -> IssuedKey:
        return issue_key(
            organization=store.organization,
            store=None if whole_organization else store,
            name=name,
            scopes=scopes or [Scope.ORDERS_READ],
        )

    return make


@pytest.fixture
def till_key(store, make_key) -> IssuedKey:
    return make_key(store, Scope.ORDERS_READ, Scope.PAYMENTS_WRITE)


@pytest.fixture
def api_get(client) -> Callable:
    """GET with a key: `api_get("/api/v1/orders", key)`; key None sends no Authorization header."""

    def get(path: str, key: IssuedKey | str | None, **params):
        headers = {}
        if key is not None:
            headers["Authorization"] = f"Bearer {key if isinstance(key, str) else key.plaintext}"
        return client.get(path, params, headers=headers)

    return get


@pytest.fixture
def api_post(client) -> Callable:
    """POST JSON with a key: `api_post(path, key, {"qty": 1}, idempotency_key="k1")`; body None sends none;
    other keywords are headers (`HTTP_IF_MATCH="…"` style names are not needed: `If_Match="7"` works)."""

    def post(
        path: str,
        key: IssuedKey | str | None,
        body: object = None,
        *,
        idempotency_key: str | None = None,
        **headers: str,
    ):
        headers = {name.replace("_", "-"): value for name, value in headers.items()}
        if key is not None:
            headers["Authorization"] = f"Bearer {key if isinstance(key, str) else key.plaintext}"
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        data = "" if body is None else json.dumps(body)
        return client.post(path, data, content_type="application/json", headers=headers)

    return post


@pytest.fixture
def api_call(client) -> Callable:
    """Any method with a key and a JSON body: `api_call("post", "/api/v1/webhooks", key, {"url": …})`."""

    def call(method: str, path: str, key: IssuedKey | str | None, body: dict | None = None, **headers: str):
        if key is not None:
            headers["Authorization"] = f"Bearer {key if isinstance(key, str) else key.plaintext}"
        send = getattr(client, method.lower())
        if body is None:
            return send(path, headers=headers)
        return send(path, body, content_type="application/json", headers=headers)

    return call


@pytest.fixture
def order(store):
    return submit(make_showcase(store))

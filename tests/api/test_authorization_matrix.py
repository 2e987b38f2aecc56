"""Every endpoint x every kind of caller: the right answer, and never another store's data."""

import json

import pytest
from django.db import connection

from shelfcall.api import keys
from shelfcall.api.scopes import Scope
from shelfcall.orders.actions import ShopperContact
from shelfcall.orders.models import Order
from shelfcall.orders.queries import last_event_id
from tests.factories import make_product, make_showcase, make_store, submit

pytestmark = pytest.mark.django_db

# "METHOD OpenAPI path" → (what to request for the order, the scope it needs, the body to send if any).
ENDPOINTS = {
    "GET /api/v1/stores": (lambda order: "/api/v1/stores", None, None),
    "GET /api/v1/orders": (lambda order: "/api/v1/orders", Scope.ORDERS_READ, None),
    "GET /api/v1/orders/{order_id}": (lambda order: f"/api/v1/orders/{order.pk}", Scope.ORDERS_READ, None),
    "GET /api/v1/orders/by-code/{code}": (
        lambda order: f"/api/v1/orders/by-code/{order.barcode_value}",
        Scope.ORDERS_READ,
        None,
    ),
    "GET /api/v1/orders/by-external-id": (
        lambda order: "/api/v1/orders/by-external-id?source=online&external_id=ext-1",
        Scope.ORDERS_READ,
        None,
    ),
    "GET /api/v1/orders/search": (lambda order: "/api/v1/orders/search?phone=0612345678", Scope.ORDERS_READ, None),
    "GET /api/v1/orders/{order_id}/reservations": (
        lambda order: f"/api/v1/orders/{order.pk}/reservations",
        Scope.ORDERS_READ,
        None,
    ),
    "POST /api/v1/orders": (
        lambda order: "/api/v1/orders",
        Scope.ORDERS_WRITE,
        lambda order: {"source": "online", "external_id": "ext-1", "lines": [{"sku": order.lines.get().sku, "qty": 1}]},
    ),
    "POST /api/v1/orders/{order_id}/lines": (
        lambda order: f"/api/v1/orders/{order.pk}/lines",
        Scope.ORDERS_WRITE,
        lambda order: {"sku": "SPARE", "qty": 1, "version": last_event_id(order.pk)},
    ),
    "PATCH /api/v1/orders/{order_id}/lines/{line_id}": (
        lambda order: f"/api/v1/orders/{order.pk}/lines/{order.lines.get().pk}",
        Scope.ORDERS_WRITE,
        lambda order: {"qty": 2, "version": last_event_id(order.pk)},
    ),
    "GET /api/v1/events": (lambda order: "/api/v1/events", Scope.ORDERS_READ, None),
}
CALLERS = ["no key", "malformed key", "revoked key", "other organization", "other store", "missing scope", "right key"]


def test_the_matrix_covers_every_endpoint(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {f"{method.upper()} {path}" for path, methods in paths.items() for method in methods} == set(ENDPOINTS)


@pytest.fixture
def world(make_key):
    store = make_store()
    make_product(store, sku="SPARE")
    order = submit(make_showcase(store), contact=ShopperContact(name="Kim", phone="06 12 34 56 78"))
    Order.objects.filter(pk=order.pk).update(source="online", external_id="ext-1", phone_key="0612345678")
    # The other store and the other organization's store each have an order of the same number and
    # external id: their keys find those, never this one.
    sister, stranger = make_store(organization=store.organization), make_store()
    for other in [sister, stranger]:
        twin = submit(make_showcase(other), contact=ShopperContact(phone="0612345678"))
        Order.objects.filter(pk=twin.pk).update(source="online", external_id="ext-1", number=order.number)
    every_scope = list(Scope)
    revoked = make_key(store, *every_scope, name="revoked")
    keys.revoke([revoked.api_key])
    return {
        "order": order,
        "no key": None,
        "malformed key": "sc_not-a-key",
        "revoked key": revoked,
        "other organization": make_key(stranger, *every_scope),
        "other store": make_key(sister, *every_scope),
        "right key": make_key(store, *every_scope),
    }


def _mentions(body, order: Order) -> bool:
    """Whether a response body shows anything of the order or its store."""
    items = body.get("data", [body])
    return any(
        item.get("id") == order.pk or item.get("order_id") == order.pk or item.get("store_id") == order.store_id
        for item in items
    ) or any(item.get("id") == order.store_id and "slug" in item for item in items)


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize("caller", CALLERS)
def test_authorization(client, make_key, world, endpoint, caller):
    url_for, scope, body_for = ENDPOINTS[endpoint]
    method = endpoint.split()[0]
    order = world["order"]
    if caller == "missing scope":
        if scope is None:
            pytest.skip("any valid key may call it")
        key = make_key(order.store, *(s for s in Scope if s != scope), name="narrow")
    else:
        key = world[caller]
    headers = {"Authorization": f"Bearer {key if isinstance(key, str) else key.plaintext}"} if key else {}
    body = body_for(order) if body_for else None
    response = client.generic(
        method,
        url_for(order),
        json.dumps(body) if body else "",
        "application/json",
        **{f"HTTP_{name.upper()}": value for name, value in headers.items()},
    )
    body = response.json()
    expected = {
        "no key": (401, "unauthenticated"),
        "malformed key": (401, "unauthenticated"),
        "revoked key": (401, "key_revoked"),
        "missing scope": (403, "missing_scope"),
    }
    if caller in expected:
        assert (response.status_code, body["error"]["code"]) == expected[caller]
    elif caller == "right key":
        assert response.status_code == (201 if endpoint == "POST /api/v1/orders/{order_id}/lines" else 200), body
        # On PostgreSQL the feed shows only finished transactions' events, not this test's own.
        if not (endpoint == "GET /api/v1/events" and connection.vendor == "postgresql"):
            assert _mentions(body, order)
    elif "{order_id}" in endpoint:
        assert response.status_code == 404 and body["error"]["code"] == "not_found", "never says it exists"
    elif method != "GET":  # their own twin (same external id), or refused: this SKU is not in their catalogue
        assert response.status_code in {200, 409, 422} and not _mentions(body, order), body
    else:  # their own twin, or their own list: nothing of this store
        assert response.status_code == 200 and not _mentions(body, order), body

"""Every endpoint x every kind of caller: the right answer, and never another store's data."""

import pytest
from django.db import connection

from shelfcall.api import keys
from shelfcall.api.scopes import Scope
from shelfcall.orders import actions
from shelfcall.orders.models import Order
from tests.factories import TILL, claimed, make_showcase, make_store, picked, staged, submit

pytestmark = pytest.mark.django_db


def _action(path: str, body: dict, prepare=lambda order: None) -> tuple:
    """A POST on the order: its body, and how the right key's order is brought to where it applies."""
    return (
        lambda order: f"/api/v1/orders/{order.pk}/{path.format(line=order.lines.first().pk)}",
        Scope.ORDERS_WRITE,
        body,
        prepare,
    )


def _ready_and_paid(order: Order) -> None:
    staged(order, TILL)
    actions.mark_paid(order.pk, by=TILL)


# OpenAPI path → (what to request for the order, the scope it needs[, a POST's body, preparation]).
ENDPOINTS = {
    "/api/v1/stores": (lambda order: "/api/v1/stores", None),
    "/api/v1/orders": (lambda order: "/api/v1/orders", Scope.ORDERS_READ),
    "/api/v1/orders/{order_id}": (lambda order: f"/api/v1/orders/{order.pk}", Scope.ORDERS_READ),
    "/api/v1/orders/by-code/{code}": (
        lambda order: f"/api/v1/orders/by-code/{order.barcode_value}",
        Scope.ORDERS_READ,
    ),
    "/api/v1/orders/by-external-id": (
        lambda order: "/api/v1/orders/by-external-id?source=online&external_id=ext-1",
        Scope.ORDERS_READ,
    ),
    "/api/v1/events": (lambda order: "/api/v1/events", Scope.ORDERS_READ),
    "/api/v1/orders/{order_id}/allowed-actions": (
        lambda order: f"/api/v1/orders/{order.pk}/allowed-actions",
        Scope.ORDERS_READ,
    ),
    "/api/v1/orders/{order_id}/claim": _action("claim", {}),
    "/api/v1/orders/{order_id}/lines/{line_id}/pick": _action(
        "lines/{line}/pick", {"qty": 1}, lambda order: claimed(order, TILL)
    ),
    "/api/v1/orders/{order_id}/lines/{line_id}/not-found": _action(
        "lines/{line}/not-found", {"qty": 1}, lambda order: claimed(order, TILL)
    ),
    "/api/v1/orders/{order_id}/ready-for-pickup": _action(
        "ready-for-pickup", {"location": "desk"}, lambda order: picked(order, TILL)
    ),
    "/api/v1/orders/{order_id}/hand-off": _action("hand-off", {}, _ready_and_paid),
    "/api/v1/orders/{order_id}/cancel": _action("cancel", {"reason": "gone"}),
}
CALLERS = ["no key", "malformed key", "revoked key", "other organization", "other store", "missing scope", "right key"]


def test_the_matrix_covers_every_endpoint(client):
    assert set(client.get("/api/v1/openapi.json").json()["paths"]) == set(ENDPOINTS)


@pytest.fixture
def world(make_key):
    store = make_store()
    order = submit(make_showcase(store))
    Order.objects.filter(pk=order.pk).update(source="online", external_id="ext-1")
    # The other store and the other organization's store each have an order of the same number and
    # external id: their keys find those, never this one.
    sister, stranger = make_store(organization=store.organization), make_store()
    for other in [sister, stranger]:
        twin = submit(make_showcase(other))
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
def test_authorization(api_get, api_post, make_key, world, endpoint, caller):
    url_for, scope, *post = ENDPOINTS[endpoint]
    order = world["order"]
    if caller == "missing scope":
        if scope is None:
            pytest.skip("any valid key may call it")
        key = make_key(order.store, *(s for s in Scope if s != scope), name="narrow")
    else:
        key = world[caller]
    events = order.events.count()
    if not post:
        response = api_get(url_for(order), key)
    else:
        payload, prepare = post
        if caller == "right key":
            prepare(order)
        response = api_post(url_for(order), key, payload)
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
        assert response.status_code == 200, body
        # On PostgreSQL the feed shows only finished transactions' events, not this test's own.
        if not (endpoint == "/api/v1/events" and connection.vendor == "postgresql"):
            assert _mentions(body, order)
    elif "{order_id}" in endpoint:
        assert response.status_code == 404 and body["error"]["code"] == "not_found", "never says it exists"
    else:  # their own twin, or their own list: nothing of this store
        assert response.status_code == 200 and not _mentions(body, order), body
    if caller != "right key":
        assert order.events.count() == events, "a refused request changes nothing"

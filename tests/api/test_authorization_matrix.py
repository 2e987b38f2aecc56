"""Every endpoint x every kind of caller: the right answer, and never another store's data."""

import pytest
from django.db import connection

from shelfcall.api import keys
from shelfcall.api.scopes import Scope
from shelfcall.catalog.models import Product
from shelfcall.orders.models import Order
from tests.factories import make_showcase, make_store, submit

pytestmark = pytest.mark.django_db

# OpenAPI path → (what to request for the order, the scope it needs[, the JSON body to POST for it]).
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
    "/api/v1/products": (lambda order: "/api/v1/products", Scope.ORDERS_READ),
    "/api/v1/showcases": (lambda order: "/api/v1/showcases", Scope.ORDERS_READ),
    "/api/v1/availability": (
        lambda order: "/api/v1/availability",
        Scope.ORDERS_READ,
        lambda order: {"lines": [{"sku": _sku(order), "qty": 1}]},
    ),
    "/api/v1/stock/bulk": (
        lambda order: "/api/v1/stock/bulk",
        Scope.CATALOG_WRITE,
        lambda order: {"levels": [{"sku": _sku(order), "store": order.store_id, "on_hand": 99}]},
    ),
    "/api/v1/products/bulk": (
        lambda order: "/api/v1/products/bulk",
        Scope.CATALOG_WRITE,
        lambda order: {"products": [{"sku": _sku(order), "name": "Renamed", "price": "1.00"}]},
    ),
}
# Products are the organization's: only an organization key may write them (its right key is one).
ORGANIZATION_KEY_ONLY = {"/api/v1/products/bulk"}
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


def _sku(order: Order) -> str:
    return order.lines.get().sku


def _mentions(body, order: Order) -> bool:
    """Whether a response body shows anything of the order or its store (a product's stock, a store's
    availability)."""
    items = body.get("data", [body])
    stores = [item.get("store", item) for item in items] + [level for item in items for level in item.get("stock", [])]
    return any(
        item.get("order_id") == order.pk or (item.get("id") == order.pk and "barcode" in item) for item in items
    ) or any(
        store.get("store_id") == order.store_id or (store.get("id") == order.store_id and "slug" in store)
        for store in stores
    )


def _catalogue_as_it_was(order: Order) -> bool:
    product = Product.objects.get(organization=order.store.organization, sku=_sku(order))
    return product.name != "Renamed" and product.stock_levels.get(store=order.store).on_hand != 99


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize("caller", CALLERS)
def test_authorization(api_get, api_post, make_key, world, endpoint, caller):
    url_for, scope, *body_for = ENDPOINTS[endpoint]
    order = world["order"]
    if caller == "missing scope":
        if scope is None:
            pytest.skip("any valid key may call it")
        key = make_key(order.store, *(s for s in Scope if s != scope), name="narrow")
    elif caller == "right key" and endpoint in ORGANIZATION_KEY_ONLY:
        key = make_key(order.store, *Scope, whole_organization=True)
    else:
        key = world[caller]
    response = api_post(url_for(order), key, body_for[0](order)) if body_for else api_get(url_for(order), key)
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
        # On PostgreSQL the feed shows only finished transactions' events, not this test's own; bulk writes
        # answer with counts.
        if not (endpoint == "/api/v1/events" and connection.vendor == "postgresql") and "bulk" not in endpoint:
            assert _mentions(body, order)
    elif endpoint == "/api/v1/orders/{order_id}":
        assert response.status_code == 404 and body["error"]["code"] == "not_found", "never says it exists"
    elif "bulk" in endpoint:  # refused whole: another organization's SKU and store, or a store key for products
        assert response.status_code in {403, 422} and _catalogue_as_it_was(order), body
    elif endpoint == "/api/v1/availability" and caller == "other organization":
        assert response.status_code == 422 and _error_rows(body) == [(0, "sku", "unknown_sku")], "not their SKU"
    else:  # their own twin, or their own list: nothing of this store
        assert response.status_code == 200 and not _mentions(body, order), body


def _error_rows(body) -> list[tuple]:
    return [(row["index"], row["field"], row["code"]) for row in body["error"]["rows"]]

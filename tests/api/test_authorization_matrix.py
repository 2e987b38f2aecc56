"""Every endpoint x every kind of caller: the right answer, nothing written when refused, and never
another store's data."""

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.db import connection

from shelfcall.api import keys
from shelfcall.api.scopes import Scope
from shelfcall.catalog.models import Product, StockLevel
from shelfcall.notify import outbox, subscriptions
from shelfcall.notify.models import MessageStatus, OutboxMessage
from shelfcall.orders import actions
from shelfcall.orders.actions import ShopperContact
from shelfcall.orders.models import Order, OrderEvent, OrderLine, Payment, SubStatus
from shelfcall.orders.queries import last_event_id
from tests.factories import TILL, claimed, make_product, make_showcase, make_store, picked, staged, submit

pytestmark = pytest.mark.django_db


def _nothing(order: Order) -> None:
    return None


@dataclass(frozen=True)
class Case:
    """How to call one endpoint for the world's order, and what the right key gets."""

    url: Callable[[Order], str]
    scope: Scope | None
    body: Callable[[Order], dict] | None = None
    prepare: Callable[[Order], None] = _nothing  # brings the right key's order to where the call applies
    ok: int = 200
    organization_key: bool = False  # only a key for the whole organization may (products are its own)


def _on_order(path: str, scope: Scope | None = Scope.ORDERS_READ, **case) -> Case:
    """`path` under /api/v1/orders/<id>/, with `{line}` for the order's first line."""
    return Case(
        lambda order: f"/api/v1/orders/{order.pk}/{path.format(line=order.lines.first().pk)}".rstrip("/"), scope, **case
    )


def _sku(order: Order) -> str:
    return order.lines.first().sku


def _ready_and_paid(order: Order) -> None:
    staged(order, TILL)
    actions.mark_paid(order.pk, by=TILL)


def _waiting_sub_status(order: Order) -> None:
    SubStatus.objects.create(organization=order.store.organization, status="submitted", code="waiting", name="Wait")


def _refund_due(order: Order) -> None:
    actions.mark_paid(order.pk, by=TILL)
    actions.cancel_order(order.pk, by=TILL)


def _substitute_offered(order: Order) -> None:
    claimed(order, TILL)
    spare = Product.objects.get(organization=order.store.organization_id, sku="SPARE")
    line = order.lines.first()
    actions.propose_substitutes(order.pk, line.pk, by=TILL, offers=[actions.Offer(spare.pk, 1)], not_found_qty=1)


WRITE = Scope.ORDERS_WRITE
PAY = Scope.PAYMENTS_WRITE
# "METHOD OpenAPI path" → the case. Webhook subscriptions have their own table below.
ENDPOINTS = {
    "GET /api/v1/stores": Case(lambda order: "/api/v1/stores", None),
    "GET /api/v1/orders": Case(lambda order: "/api/v1/orders", Scope.ORDERS_READ),
    "GET /api/v1/orders/{order_id}": _on_order(""),
    "GET /api/v1/orders/by-code/{code}": Case(
        lambda order: f"/api/v1/orders/by-code/{order.barcode_value}", Scope.ORDERS_READ
    ),
    "GET /api/v1/orders/by-external-id": Case(
        lambda order: "/api/v1/orders/by-external-id?source=online&external_id=ext-1", Scope.ORDERS_READ
    ),
    "GET /api/v1/orders/search": Case(lambda order: "/api/v1/orders/search?phone=0612345678", Scope.ORDERS_READ),
    "GET /api/v1/orders/{order_id}/reservations": _on_order("reservations"),
    "GET /api/v1/orders/{order_id}/allowed-actions": _on_order("allowed-actions"),
    "GET /api/v1/events": Case(lambda order: "/api/v1/events", Scope.ORDERS_READ),
    # Orders and their lines (POS, webshops): the same external id again is the same order.
    "POST /api/v1/orders": Case(
        lambda order: "/api/v1/orders",
        WRITE,
        lambda order: {"source": "online", "external_id": "ext-1", "lines": [{"sku": _sku(order), "qty": 1}]},
    ),
    "POST /api/v1/orders/{order_id}/lines": _on_order(
        "lines", WRITE, body=lambda order: {"sku": "SPARE", "qty": 1, "version": last_event_id(order.pk)}, ok=201
    ),
    "PATCH /api/v1/orders/{order_id}/lines/{line_id}": _on_order(
        "lines/{line}", WRITE, body=lambda order: {"qty": 2, "version": last_event_id(order.pk)}
    ),
    # Order actions for store systems with screens of their own.
    "POST /api/v1/orders/{order_id}/claim": _on_order("claim", WRITE, body=lambda order: {}),
    "POST /api/v1/orders/{order_id}/lines/{line_id}/pick": _on_order(
        "lines/{line}/pick", WRITE, body=lambda order: {"qty": 1}, prepare=lambda order: claimed(order, TILL)
    ),
    "POST /api/v1/orders/{order_id}/lines/{line_id}/not-found": _on_order(
        "lines/{line}/not-found", WRITE, body=lambda order: {"qty": 1}, prepare=lambda order: claimed(order, TILL)
    ),
    "POST /api/v1/orders/{order_id}/lines/{line_id}/substitutes": _on_order(
        "lines/{line}/substitutes",
        WRITE,
        body=lambda order: {"not_found": 1, "substitutes": [{"sku": "SPARE", "qty": 1}]},
        prepare=lambda order: claimed(order, TILL),
    ),
    "POST /api/v1/orders/{order_id}/lines/{line_id}/substitute-answer": Case(
        lambda order: f"/api/v1/orders/{order.pk}/lines/{order.lines.order_by('-pk').first().pk}/substitute-answer",
        WRITE,
        lambda order: {"accept": True},
        prepare=_substitute_offered,
    ),
    "POST /api/v1/orders/{order_id}/ready-for-pickup": _on_order(
        "ready-for-pickup", WRITE, body=lambda order: {"location": "desk"}, prepare=lambda order: picked(order, TILL)
    ),
    "POST /api/v1/orders/{order_id}/hand-off": _on_order(
        "hand-off", WRITE, body=lambda order: {}, prepare=_ready_and_paid
    ),
    "POST /api/v1/orders/{order_id}/cancel": _on_order("cancel", WRITE, body=lambda order: {"reason": "gone"}),
    "POST /api/v1/orders/{order_id}/sub-status": _on_order(
        "sub-status", WRITE, body=lambda order: {"code": "waiting"}, prepare=_waiting_sub_status
    ),
    # Payments (tills, self-checkouts).
    "GET /api/v1/orders/{order_id}/payments": _on_order(
        "payments", prepare=lambda order: actions.mark_paid(order.pk, by=TILL)
    ),
    "POST /api/v1/orders/{order_id}/payments": _on_order(
        "payments", PAY, body=lambda order: {"amount": "1.00", "method": "cash"}, ok=201
    ),
    "POST /api/v1/orders/{order_id}/mark-paid": _on_order(
        "mark-paid", PAY, body=lambda order: {"method": "card"}, ok=201
    ),
    "POST /api/v1/orders/{order_id}/refunds": _on_order(
        "refunds", PAY, body=lambda order: {"reference": "R-1"}, prepare=_refund_due, ok=201
    ),
    # Catalogue and stock (ERPs, webshops).
    "GET /api/v1/products": Case(lambda order: "/api/v1/products", Scope.ORDERS_READ),
    "GET /api/v1/showcases": Case(lambda order: "/api/v1/showcases", Scope.ORDERS_READ),
    "POST /api/v1/availability": Case(
        lambda order: "/api/v1/availability",
        Scope.ORDERS_READ,
        lambda order: {"lines": [{"sku": _sku(order), "qty": 1}]},
    ),
    "POST /api/v1/stock/bulk": Case(
        lambda order: "/api/v1/stock/bulk",
        Scope.CATALOG_WRITE,
        lambda order: {"levels": [{"sku": _sku(order), "store": order.store_id, "on_hand": 99}]},
    ),
    "POST /api/v1/products/bulk": Case(
        lambda order: "/api/v1/products/bulk",
        Scope.CATALOG_WRITE,
        lambda order: {"products": [{"sku": _sku(order), "name": "Renamed", "price": "1.00"}]},
        organization_key=True,
    ),
}
# Webhook subscriptions: "METHOD OpenAPI path" → (the request for the world's subscription and its
# delivery: path and body), the right key's status.
WEBHOOK_ENDPOINTS = {
    "POST /api/v1/webhooks": (lambda hook, delivery: ("/api/v1/webhooks", {"url": "http://127.0.0.1:9/x"}), 201),
    "GET /api/v1/webhooks": (lambda hook, delivery: ("/api/v1/webhooks", None), 200),
    "GET /api/v1/webhooks/{webhook_id}": (lambda hook, delivery: (f"/api/v1/webhooks/{hook.pk}", None), 200),
    "DELETE /api/v1/webhooks/{webhook_id}": (lambda hook, delivery: (f"/api/v1/webhooks/{hook.pk}", None), 204),
    "POST /api/v1/webhooks/{webhook_id}/test": (lambda hook, delivery: (f"/api/v1/webhooks/{hook.pk}/test", None), 202),
    "POST /api/v1/webhooks/{webhook_id}/rotate-secret": (
        lambda hook, delivery: (f"/api/v1/webhooks/{hook.pk}/rotate-secret", None),
        200,
    ),
    "GET /api/v1/webhooks/{webhook_id}/deliveries": (
        lambda hook, delivery: (f"/api/v1/webhooks/{hook.pk}/deliveries", None),
        200,
    ),
    "POST /api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/replay": (
        lambda hook, delivery: (f"/api/v1/webhooks/{hook.pk}/deliveries/{delivery.pk}/replay", None),
        202,
    ),
}
CALLERS = ["no key", "malformed key", "revoked key", "other organization", "other store", "missing scope", "right key"]
REFUSALS = {
    "no key": (401, "unauthenticated"),
    "malformed key": (401, "unauthenticated"),
    "revoked key": (401, "key_revoked"),
    "missing scope": (403, "missing_scope"),
}


def test_the_matrix_covers_every_endpoint(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    operations = {f"{method.upper()} {path}" for path, methods in paths.items() for method in methods}
    assert operations == set(ENDPOINTS) | set(WEBHOOK_ENDPOINTS)


@pytest.fixture
def world(make_key):
    store = make_store()
    make_product(store, sku="SPARE")
    order = submit(make_showcase(store), contact=ShopperContact(name="Kim", phone="06 12 34 56 78"))
    Order.objects.filter(pk=order.pk).update(source="online", external_id="ext-1")
    order.refresh_from_db()
    # The other store and the other organization's store each have an order of the same number, phone
    # and external id: their keys find those, never this one.
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
    """Whether a response body shows anything of the order or its store (a product's stock, a store's
    availability, a receipt's order)."""
    items = body.get("data", [body.get("order", body)])
    stores = [item.get("store", item) for item in items] + [level for item in items for level in item.get("stock", [])]
    return any(
        item.get("order_id") == order.pk or (item.get("id") == order.pk and "barcode" in item) for item in items
    ) or any(
        store.get("store_id") == order.store_id or (store.get("id") == order.store_id and "slug" in store)
        for store in stores
        if isinstance(store, dict)
    )


def _written() -> tuple:
    """What any write would change, everywhere: rows of orders, events, lines, payments; the catalogue."""
    catalogue = tuple(Product.objects.order_by("pk").values_list("name", "price"))
    stock = tuple(StockLevel.objects.order_by("pk").values_list("on_hand", "reserved"))
    counts = tuple(model.objects.count() for model in (Order, OrderEvent, OrderLine, Payment))
    return counts, catalogue, stock


def _send(client, method: str, url: str, key, body: dict | None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key if isinstance(key, str) else key.plaintext}"} if key else {}
    data = json.dumps(body) if body is not None else ""
    return client.generic(method, url, data, "application/json", **headers)


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize("caller", CALLERS)
def test_authorization(client, make_key, world, endpoint, caller):
    case, method = ENDPOINTS[endpoint], endpoint.split()[0]
    order = world["order"]
    if caller == "missing scope":
        if case.scope is None:
            pytest.skip("any valid key may call it")
        key = make_key(order.store, *(s for s in Scope if s != case.scope), name="narrow")
    elif caller == "right key" and case.organization_key:
        key = make_key(order.store, *Scope, whole_organization=True)
    else:
        key = world[caller]
    if caller == "right key":
        case.prepare(order)
    before = _written()
    response = _send(client, method, case.url(order), key, case.body(order) if case.body else None)
    body = response.json()
    if caller in REFUSALS:
        assert (response.status_code, body["error"]["code"]) == REFUSALS[caller]
    elif caller == "right key":
        assert response.status_code == case.ok, body
        # On PostgreSQL the feed shows only finished transactions' events, not this test's own; bulk
        # writes answer with counts.
        if not (endpoint == "GET /api/v1/events" and connection.vendor == "postgresql") and "bulk" not in endpoint:
            assert _mentions(body, order), body
    elif "{order_id}" in endpoint:
        assert response.status_code == 404 and body["error"]["code"] == "not_found", "never says it exists"
    elif "bulk" in endpoint:  # refused whole: another organization's SKU and store, or a store key for products
        assert response.status_code in {403, 422}, body
    elif endpoint == "POST /api/v1/availability" and caller == "other organization":
        assert response.status_code == 422 and body["error"]["rows"][0]["code"] == "unknown_sku", "not their SKU"
    elif method == "POST":  # their own twin (same external id), or refused: this SKU is not in their catalogue
        assert response.status_code in {200, 422} and not _mentions(body, order), body
    else:  # their own twin, or their own list: nothing of this store
        assert response.status_code == 200 and not _mentions(body, order), body
    if caller != "right key":
        assert _written() == before, "a refused or foreign request writes nothing"


@pytest.fixture
def subscription(world, settings):
    """The right key's store's webhook subscription, and a delivery of it that may be replayed."""
    settings.SHELFCALL_PRIVATE_HOSTS_ALLOWED = {"127.0.0.1"}
    store = world["order"].store
    reach = subscriptions.Reach(store.organization_id, store.pk)
    hook = subscriptions.subscribe(reach, url="http://127.0.0.1:9/x", event_types=None, description="")
    delivery = outbox.queue_test(hook)
    OutboxMessage.objects.filter(pk=delivery.pk).update(status=MessageStatus.DELIVERED)
    return hook, delivery


@pytest.mark.parametrize("endpoint", list(WEBHOOK_ENDPOINTS))
@pytest.mark.parametrize("caller", CALLERS)
def test_webhook_authorization(client, make_key, world, subscription, endpoint, caller):
    (request_for, right_status), method = WEBHOOK_ENDPOINTS[endpoint], endpoint.split()[0]
    hook, delivery = subscription
    url, body = request_for(hook, delivery)
    if caller == "missing scope":
        key = make_key(hook.store, *(s for s in Scope if s != Scope.WEBHOOKS_WRITE), name="narrow")
    else:
        key = world[caller]
    response = _send(client, method, url, key, body)
    answer = response.json() if response.content else {}
    if caller in REFUSALS:
        assert (response.status_code, answer["error"]["code"]) == REFUSALS[caller]
    elif caller == "right key":
        assert response.status_code == right_status, answer
    elif endpoint.endswith(" /api/v1/webhooks"):  # their own list, their own new subscription: never this one
        assert response.status_code == right_status
        assert hook.pk not in [item["id"] for item in answer.get("data", [answer])]
    else:
        assert response.status_code == 404 and answer["error"]["code"] == "not_found", "never says it exists"

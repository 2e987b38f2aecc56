from datetime import timedelta

import pytest

from shelfcall.api.scopes import Scope
from shelfcall.core import clock
from shelfcall.orders import actions
from shelfcall.orders.models import Order
from tests.factories import make_product, make_showcase, make_store, staff, submit

pytestmark = pytest.mark.django_db


def _error(response):
    return response.json()["error"]


def test_till_looks_an_order_up_by_its_barcode(api_get, till_key, store):
    products = [make_product(store, price="10.00"), make_product(store, price="2.50")]
    order = submit(make_showcase(store, products=products), {products[0]: 2, products[1]: 1})
    associate = staff(store)
    actions.claim_order(order.pk, by=associate)
    line_a, line_b = order.lines.order_by("pk")
    actions.pick_line(order.pk, line_a.pk, by=associate, qty=2)
    actions.mark_line_not_found(order.pk, line_b.pk, by=associate, qty=1)
    for code in [order.barcode_value, str(order.number), f" sc{order.number} "]:
        response = api_get(f"/api/v1/orders/by-code/{code}", till_key)
        assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == order.pk and body["status"] == "picking" and body["barcode"] == f"SC{order.number}"
    assert body["total"] == "20.00" and body["paid"] == "0.00" and body["owed"] == "20.00"
    assert body["payment_status"] == "unpaid" and body["staged_location"] == ""
    assert [(line["requested"], line["picked"], line["not_found"], line["rejected"]) for line in body["lines"]] == [
        (2, 2, 0, 0),
        (1, 0, 1, 0),
    ]


# "9" * 10 is past the largest order number (2**31 - 1); "1" * 10 is a number, of no order here (404).
@pytest.mark.parametrize("code", ["SC", "SC١٠٠١", "1001²", "SC-1001", "9" * 10, "SC 1001", "x" * 300])
def test_a_code_that_is_not_a_number_is_refused_by_name(api_get, till_key, code):
    response = api_get(f"/api/v1/orders/by-code/{code}", till_key)
    assert response.status_code == 422 and _error(response)["field"] == "code"


def test_another_stores_order_is_not_found(api_get, make_key, order):
    neighbour = make_store(organization=order.store.organization)
    key = make_key(neighbour)
    for path in [f"/api/v1/orders/{order.pk}", f"/api/v1/orders/by-code/{order.number}"]:
        response = api_get(path, key)
        assert response.status_code == 404 and _error(response)["code"] == "not_found"
    assert api_get(f"/api/v1/orders/by-code/{order.number}", key, store=order.store_id).status_code == 404


def test_organization_key_names_the_store_for_a_number(api_get, make_key, order):
    key = make_key(order.store, whole_organization=True)
    response = api_get(f"/api/v1/orders/by-code/{order.number}", key)
    assert response.status_code == 422 and _error(response)["field"] == "store"
    assert api_get(f"/api/v1/orders/by-code/{order.number}", key, store=order.store_id).json()["id"] == order.pk
    assert api_get(f"/api/v1/orders/{order.pk}", key).status_code == 200


def test_get_by_external_id(api_get, till_key, order):
    Order.objects.filter(pk=order.pk).update(source="online", external_id="shop-77")
    found = api_get("/api/v1/orders/by-external-id", till_key, source="online", external_id="shop-77")
    assert found.status_code == 200 and found.json()["id"] == order.pk
    missing = api_get("/api/v1/orders/by-external-id", till_key, source="pos", external_id="shop-77")
    assert missing.status_code == 404
    invalid = api_get("/api/v1/orders/by-external-id", till_key, source="fax", external_id="shop-77")
    assert invalid.status_code == 422 and _error(invalid)["field"] == "source"
    nul = api_get("/api/v1/orders/by-external-id", till_key, source="online", external_id="shop\x0077")
    assert nul.status_code == 422 and _error(nul)["field"] == "external_id", "a NUL is a 500 on PostgreSQL"


def test_list_filters_and_pages_without_skipping(api_get, till_key, store, time_machine):
    time_machine.move_to("2026-11-23 10:00:00+00:00", tick=False)
    showcase = make_showcase(store)
    orders = []
    for _ in range(5):
        orders.append(submit(showcase))
        time_machine.shift(timedelta(seconds=1))
    submit(make_showcase(make_store()))  # another organization's: never listed
    seen, cursor = [], None
    while True:
        page = api_get("/api/v1/orders", till_key, limit=2, **({"cursor": cursor} if cursor else {})).json()
        seen += [order["id"] for order in page["data"]]
        if not page["has_more"]:
            assert page["next_cursor"] is None
            break
        cursor = page["next_cursor"]
        # An order changed meanwhile moves to the end: it shows again, nothing is skipped.
        if len(seen) == 2:
            Order.objects.filter(pk=orders[0].pk).update(updated_at=clock.now() + timedelta(minutes=1))
    assert seen == [order.pk for order in orders] + [orders[0].pk]
    since = api_get("/api/v1/orders", till_key, updated_since=orders[3].updated_at.isoformat()).json()["data"]
    assert [order["id"] for order in since] == [orders[3].pk, orders[4].pk, orders[0].pk]
    assert api_get("/api/v1/orders", till_key, status="completed").json()["data"] == []
    assert len(api_get("/api/v1/orders", till_key, store=store.pk, source="showcase").json()["data"]) == 5


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"status": "lost"}, "status"),
        ({"updated_since": "yesterday"}, "updated_since"),
        ({"updated_since": "0.5"}, "updated_since"),
        ({"updated_since": "2026-11-23T10:00:00"}, "updated_since"),
        ({"updated_since": "0001-01-01T00:00:00+14:00"}, "updated_since"),
        ({"cursor": "forged"}, "cursor"),
    ],
)
def test_list_refuses_bad_filters_by_name(api_get, till_key, params, field):
    response = api_get("/api/v1/orders", till_key, **params)
    assert response.status_code == 422 and _error(response)["field"] == field, response.content


def test_updated_since_in_any_offset(api_get, till_key, order):
    """PostgreSQL takes offsets up to ±15:59 only; ISO 8601 allows more (schemathesis found a 500)."""
    response = api_get("/api/v1/orders", till_key, updated_since="0120-02-05T19:48:42-19:32")
    assert response.status_code == 200 and [o["id"] for o in response.json()["data"]] == [order.pk]


def test_stores_of_the_key(api_get, make_key, store):
    sister = make_store(organization=store.organization, name="B store")
    make_store()  # another organization
    store_key = make_key(store, Scope.CATALOG_WRITE)
    assert [s["id"] for s in api_get("/api/v1/stores", store_key).json()["data"]] == [store.pk]
    org_key = make_key(store, whole_organization=True)
    listed = {s["id"] for s in api_get("/api/v1/stores", org_key).json()["data"]}
    assert listed == {store.pk, sister.pk}


@pytest.mark.parametrize("lines", [1, 12])
def test_reads_take_a_few_statements_whatever_the_number_of_lines(api_get, till_key, store, lines, count_statements):
    store.max_order_qty = 20
    store.save()
    products = [make_product(store) for _ in range(lines)]
    order = submit(make_showcase(store, products=products), dict.fromkeys(products, 1))
    for _ in range(3):
        submit(make_showcase(store, products=products), dict.fromkeys(products, 1))
    api_get("/api/v1/stores", till_key)  # last_used_at written once; later reads do not write
    paths = [f"/api/v1/orders/by-code/{order.barcode_value}", f"/api/v1/orders/{order.pk}", "/api/v1/orders"]
    for path in paths:
        with count_statements(3):  # the key, the orders, their lines
            assert api_get(path, till_key).status_code == 200
    with count_statements(2):
        assert api_get("/api/v1/stores", till_key).status_code == 200


def test_the_rate_limit_costs_one_statement(api_get, till_key, order, count_statements, rate_limits):
    api_get("/api/v1/stores", till_key)
    with count_statements(4):  # the key, the per-key counter (one upsert), the order, its lines
        assert api_get(f"/api/v1/orders/by-code/{order.number}", till_key).status_code == 200

"""Payments over the API: a deposit, parts, the balance, refusals naming the field, refunds, retries."""

import pytest

from shelfcall.orders import actions
from shelfcall.orders.events import EventType
from shelfcall.orders.models import Order, Payment
from tests.factories import make_product, make_showcase, staff, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(store) -> Order:
    """Two units of 50.00: 100.00 owed."""
    product = make_product(store, price="50.00")
    return submit(make_showcase(store, products=[product]), {product: 2})


def _payments(order: Order) -> str:
    return f"/api/v1/orders/{order.pk}/payments"


def _error(response) -> tuple[int, str, str | None]:
    error = response.json()["error"]
    return response.status_code, error["code"], error["field"]


def test_a_deposit_a_part_then_the_balance(api_get, api_post, till_key, order):
    deposit = api_post(_payments(order), till_key, {"amount": "30.00", "method": "cash", "reference": "T3-1"})
    assert deposit.status_code == 201, deposit.content
    body = deposit.json()
    assert body["payment"] | {"id": 0, "created_at": "", "event_id": 0} == {
        "id": 0,
        "order_id": order.pk,
        "kind": "payment",
        "amount": "30.00",
        "method": "cash",
        "reference": "T3-1",
        "created_at": "",
        "actor_kind": "api",
        "actor_label": "Till 1",
        "event_id": 0,
    }
    assert (body["order"]["payment_status"], body["order"]["paid"], body["order"]["owed"]) == (
        "partially_paid",
        "30.00",
        "70.00",
    )

    part = api_post(_payments(order), till_key, {"amount": "20.5", "currency": "EUR", "method": "gift_card"})
    assert part.status_code == 201 and part.json()["order"]["owed"] == "49.50"
    looked_up = api_get(f"/api/v1/orders/by-code/{order.barcode_value}", till_key).json()
    assert (looked_up["payment_status"], looked_up["paid"], looked_up["owed"]) == ("partially_paid", "50.50", "49.50")

    balance = api_post(f"/api/v1/orders/{order.pk}/mark-paid", till_key, {"method": "card", "reference": "T3-2"})
    assert balance.status_code == 201, balance.content
    assert balance.json()["payment"]["amount"] == "49.50"
    assert (balance.json()["order"]["payment_status"], balance.json()["order"]["owed"]) == ("paid", "0.00")
    assert balance.json()["order"] == api_get(f"/api/v1/orders/{order.pk}", till_key).json(), "lines and all"

    listed = api_get(_payments(order), till_key).json()["data"]
    assert [(p["amount"], p["method"]) for p in listed] == [
        ("30.00", "cash"),
        ("20.50", "gift_card"),
        ("49.50", "card"),
    ]
    events = order.events.filter(type=EventType.PAID).order_by("pk")
    assert [(e.payload["paid_total"], e.payload["owed"]) for e in events] == [
        ("30.00", "70.00"),
        ("50.50", "49.50"),
        ("100.00", "0.00"),
    ]
    assert [p["event_id"] for p in listed] == [e.pk for e in events]


def test_nothing_owed_refuses_mark_paid_and_more_payments(api_post, till_key, order):
    assert api_post(f"/api/v1/orders/{order.pk}/mark-paid", till_key, {"method": "card"}).status_code == 201
    again = api_post(f"/api/v1/orders/{order.pk}/mark-paid", till_key, {"method": "card"})
    assert _error(again) == (422, "nothing_owed", None)
    more = api_post(_payments(order), till_key, {"amount": "1.00", "method": "cash"})
    assert _error(more) == (422, "nothing_owed", None)
    assert order.payments.count() == 1


def test_an_overpayment_is_refused_saying_what_is_owed(api_post, till_key, order):
    api_post(_payments(order), till_key, {"amount": "30.00", "method": "cash"})
    response = api_post(_payments(order), till_key, {"amount": "70.01", "method": "cash"})
    assert _error(response) == (422, "overpayment", "amount")
    assert "70.00" in response.json()["error"]["message"]
    order.refresh_from_db()
    assert order.paid_amount == 30 and order.payments.count() == 1


def test_a_cancelled_order_takes_no_payment(api_post, till_key, order):
    actions.cancel_order(order.pk, by=staff(order.store), reason="Out of stock")
    paid = api_post(_payments(order), till_key, {"amount": "1.00", "method": "cash"})
    assert _error(paid) == (409, "wrong_status", None)
    marked = api_post(f"/api/v1/orders/{order.pk}/mark-paid", till_key, {"method": "cash"})
    assert _error(marked) == (409, "wrong_status", None)
    assert not Payment.objects.exists()


def test_another_currency_is_refused_by_name(api_post, till_key, order):
    response = api_post(_payments(order), till_key, {"amount": "10.00", "currency": "USD", "method": "card"})
    assert _error(response) == (422, "wrong_currency", "currency")
    assert "EUR" in response.json()["error"]["message"]
    lowercase = api_post(_payments(order), till_key, {"amount": "10.00", "currency": "eur", "method": "card"})
    assert _error(lowercase) == (422, "invalid", "currency")
    assert not Payment.objects.exists()


NOT_DECIMAL_STRINGS = ["ten", "-5.00", "12.345", "1e1", "1E1", "12.", ".5", " 12.50", "12,50", "", "٣", "NaN"]
NOT_STRINGS = [12.5, 12, None]  # JSON numbers are floats to most clients: cents get lost


@pytest.mark.parametrize("amount", NOT_DECIMAL_STRINGS + NOT_STRINGS)
def test_an_amount_that_is_not_a_plain_decimal_string_is_refused_by_name(api_post, till_key, order, amount):
    response = api_post(_payments(order), till_key, {"amount": amount, "method": "cash"})
    assert _error(response) == (422, "invalid", "amount"), response.content
    assert not Payment.objects.exists()


@pytest.mark.parametrize("amount", ["0", "0.00", "00.00"])
def test_a_zero_amount_is_refused_by_name(api_post, till_key, order, amount):
    response = api_post(_payments(order), till_key, {"amount": amount, "method": "cash"})
    assert _error(response) == (422, "invalid_amount", "amount")


def test_an_unknown_method_is_refused_by_name(api_post, till_key, order):
    response = api_post(_payments(order), till_key, {"amount": "1.00", "method": "bitcoin"})
    assert _error(response) == (422, "invalid", "method")


def test_a_refund_after_a_short_pick_is_a_row(api_post, api_get, till_key, order):
    api_post(f"/api/v1/orders/{order.pk}/mark-paid", till_key, {"method": "card"})
    alex = staff(order.store)
    actions.claim_order(order.pk, by=alex)
    actions.mark_line_not_found(order.pk, order.lines.get().pk, by=alex, qty=1)
    refunds = f"/api/v1/orders/{order.pk}/refunds"
    too_much = api_post(refunds, till_key, {"amount": "50.01"})
    assert _error(too_much) == (422, "nothing_to_refund", "amount") and "50.00" in too_much.json()["error"]["message"]

    response = api_post(refunds, till_key, {"method": "card", "reference": "R-9"})
    assert response.status_code == 201, response.content
    body = response.json()
    refund = body["payment"]
    assert (refund["kind"], refund["amount"], refund["reference"]) == ("refund", "50.00", "R-9")
    assert (body["order"]["payment_status"], body["order"]["refund_due"], body["order"]["owed"]) == (
        "partially_refunded",
        "0.00",
        "0.00",
    )
    assert _error(api_post(refunds, till_key, {}))[:2] == (422, "nothing_to_refund")
    assert [p["kind"] for p in api_get(_payments(order), till_key).json()["data"]] == ["payment", "refund"]
    refunded = order.events.get(type=EventType.REFUNDED).payload
    assert refunded == {
        "amount": "50.00",
        "method": "card",
        "reference": "R-9",
        "refunded_total": "50.00",
        "refund_due": "0.00",
    }


@pytest.mark.parametrize(
    ("path", "body"),
    [("payments", {"amount": "40.00", "method": "cash"}), ("mark-paid", {"method": "card"})],
)
def test_a_retry_gets_the_first_response_and_pays_once(api_post, till_key, order, path, body):
    url = f"/api/v1/orders/{order.pk}/{path}"
    first = api_post(url, till_key, body, idempotency_key="till-3-sale-17")
    retry = api_post(url, till_key, body, idempotency_key="till-3-sale-17")
    assert first.status_code == retry.status_code == 201
    assert retry.content == first.content and retry["Idempotent-Replayed"] == "true"
    assert order.payments.count() == 1
    other = api_post(url, till_key, body | {"reference": "changed"}, idempotency_key="till-3-sale-17")
    assert _error(other)[:2] == (422, "idempotency_key_reused")


def test_another_stores_order_cannot_be_paid(api_post, make_key, order):
    from shelfcall.api.scopes import Scope
    from tests.factories import make_store

    sister = make_store(organization=order.store.organization)
    key = make_key(sister, Scope.PAYMENTS_WRITE)
    assert _error(api_post(f"/api/v1/orders/{order.pk}/mark-paid", key, {"method": "card"}))[:2] == (404, "not_found")
    assert not Payment.objects.exists()


def test_another_stores_order_is_answered_as_no_order_at_all(api_post, make_key, order):
    """The payment's locked read is the key's look-up: another store's order and another organization's
    get the very answer an order that does not exist gets."""
    from shelfcall.api.scopes import Scope
    from tests.factories import make_store

    sister = make_key(make_store(organization=order.store.organization), Scope.PAYMENTS_WRITE)
    stranger = make_key(make_store(), Scope.PAYMENTS_WRITE, whole_organization=True)
    for key in (sister, stranger):
        refused = api_post(f"/api/v1/orders/{order.pk}/refunds", key, {})
        missing = api_post(f"/api/v1/orders/{order.pk + 1000}/refunds", key, {})
        assert (refused.status_code, refused.json()) == (missing.status_code, missing.json())
        assert _error(refused) == (404, "not_found", None)
    assert not Payment.objects.exists()


@pytest.mark.parametrize("lines", [1, 12])
def test_mark_paid_and_the_lookup_take_a_few_statements_whatever_the_lines(
    api_get, api_post, till_key, store, lines, count_statements
):
    from shelfcall.notify import policies

    store.max_order_qty = 20
    store.save()
    products = [make_product(store) for _ in range(lines)]
    order = submit(make_showcase(store, products=products), dict.fromkeys(products, 1))
    policies.for_store(store.pk)  # each process reads them once per 30 s, not once per order
    api_get("/api/v1/stores", till_key)  # last_used_at written once; later requests do not write
    with count_statements(3):  # the key, the order, its lines
        assert api_get(f"/api/v1/orders/by-code/{order.barcode_value}", till_key).status_code == 200
    # The order locked with its lines (among the key's stores), the sums, the event, the row; Idempotency-Key
    # adds its claim and its kept response. The key is the process's (api/keys.py).
    with count_statements(6):
        response = api_post(f"/api/v1/orders/{order.pk}/mark-paid", till_key, {"method": "card"}, idempotency_key="k")
        assert response.status_code == 201
    with count_statements(3):  # the key, the order, its payments
        assert api_get(_payments(order), till_key).status_code == 200

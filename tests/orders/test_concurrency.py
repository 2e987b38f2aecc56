"""Races decided by the database: these run on PostgreSQL, where requests really run in parallel."""

import json
import threading
import time
from collections.abc import Callable

import pytest
from django.db import connection, connections
from django.db.models import Q
from django.test import Client

from shelfcall.api.keys import issue_key
from shelfcall.api.scopes import Scope
from shelfcall.orders import actions
from shelfcall.orders.actions import handoff, picking, with_action_relations
from shelfcall.orders.errors import AlreadyClaimed, CartProblems
from shelfcall.orders.models import Order, OrderStatus
from tests.factories import TILL, make_product, make_showcase, make_store, staff, staged, stock_of, submit

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(attempts: list[Callable[[], object]]) -> list[object]:
    """Run every attempt at once in its own thread and connection; return each result or exception."""
    start = threading.Barrier(len(attempts))
    results: list[object] = [None] * len(attempts)

    def run(index: int, attempt: Callable[[], object]) -> None:
        try:
            start.wait()
            results[index] = attempt()
        except Exception as error:  # the race's loser: kept to assert on
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_two_shoppers_and_the_last_unit():
    store = make_store()
    last, other = make_product(store, on_hand=1), make_product(store, on_hand=5)
    showcase = make_showcase(store, products=[last, other])

    results = race([lambda: submit(showcase, {last: 1, other: 1}), lambda: submit(showcase, {last: 1, other: 1})])

    orders = [r for r in results if isinstance(r, Order)]
    refused = [r for r in results if isinstance(r, CartProblems)]
    assert len(orders) == 1 and len(refused) == 1, results
    assert [(p.product_id, p.code) for p in refused[0].problems] == [(last.pk, "out_of_stock")]
    assert (stock_of(last, store).reserved, stock_of(other, store).reserved) == (1, 1)
    assert Order.objects.count() == 1


def test_hand_offs_of_the_same_products_in_opposite_orders_never_deadlock():
    """One UPDATE settles an order's stock levels; it locks them in id order, whatever the lines' order,
    so hand-offs of orders sharing products (no store lock between them) never wait in a cycle."""
    store = make_store()
    products = [make_product(store, on_hand=100) for _ in range(4)]
    showcase = make_showcase(store, products=products)
    alex = staff(store)
    orders = [submit(showcase, dict.fromkeys(products if i % 2 else products[::-1], 1)) for i in range(10)]
    for order in orders:
        staged(order, alex)
        actions.mark_paid(order.pk, by=TILL)

    results = race([lambda order=order: actions.hand_off_order(order.pk, by=alex) for order in orders])

    assert all(isinstance(r, Order) and r.status == OrderStatus.COMPLETED for r in results), results
    assert [(stock_of(p, store).on_hand, stock_of(p, store).reserved) for p in products] == [(90, 0)] * 4


def test_twenty_claimers_one_winner():
    store = make_store()
    order = submit(make_showcase(store))
    claimers = [staff(store, f"A{i}") for i in range(20)]

    results = race([lambda by=by: actions.claim_order(order.pk, by=by) for by in claimers])

    winners = [r for r in results if isinstance(r, Order)]
    losers = [r for r in results if isinstance(r, AlreadyClaimed)]
    assert len(winners) == 1 and len(losers) == 19, results
    assert {loser.holder for loser in losers} == {winners[0].assignee.first_name}
    order.refresh_from_db()
    assert order.status == OrderStatus.PICKING and order.events.filter(type="order.claimed").count() == 1


def test_claimers_who_all_read_the_order_waiting_still_make_one_winner():
    """Each claimer hands the action its own read (`current`), all made before anyone claimed: stale for all
    but one, and the conditional UPDATE still lets exactly one through; the others read why, afresh."""
    store = make_store()
    order = submit(make_showcase(store))
    claimers = [staff(store, f"A{i}") for i in range(10)]
    reads = [with_action_relations(Order.objects.filter(pk=order.pk)).get() for _ in claimers]

    results = race(
        [
            lambda by=by, read=read: actions.claim_order(order.pk, by=by, current=read)
            for by, read in zip(claimers, reads, strict=True)
        ]
    )

    winners = [r for r in results if isinstance(r, Order)]
    losers = [r for r in results if isinstance(r, AlreadyClaimed)]
    assert len(winners) == 1 and len(losers) == 9, results
    assert {loser.holder for loser in losers} == {winners[0].assignee.first_name}
    order.refresh_from_db()
    assert order.assignee_id == winners[0].assignee_id
    assert order.events.filter(type="order.claimed").count() == 1


@pytest.mark.parametrize("whole_organization", [False, True])
def test_store_systems_claiming_at_once_write_one_claim(whole_organization):
    """Written first (`try_claim_order`): of ten conditional UPDATEs at once, one claims; the others find it
    claimed, and none writes a second event."""
    store = make_store()
    order = submit(make_showcase(store))
    reach = actions.Reach(store.organization_id, None if whole_organization else store.pk)

    results = race([lambda: actions.try_claim_order(order.pk, by=TILL, within=reach) for _ in range(10)])

    winners = [r for r in results if isinstance(r, Order)]
    assert len(winners) == 1 and results.count(None) == 9, results
    assert winners[0].status == OrderStatus.PICKING and winners[0].version == order.events.latest("pk").pk
    order.refresh_from_db()
    assert order.status == OrderStatus.PICKING and order.events.filter(type="order.claimed").count() == 1


def test_same_cart_submitted_twice_at_once_makes_one_order():
    showcase = make_showcase()
    results = race([lambda: submit(showcase, key="double-tap"), lambda: submit(showcase, key="double-tap")])
    assert all(isinstance(r, Order) for r in results), results
    assert results[0].pk == results[1].pk
    assert Order.objects.count() == 1


def test_the_same_webshop_order_imported_twice_at_once_is_one_order():
    """Both requests pass the "already imported?" check before either commits; the unique (store, source,
    external id) turns the second insert away, and it answers with the first's order."""
    store = make_store()
    product = make_product(store, sku="SHV-S9P", on_hand=5)
    key = issue_key(organization=store.organization, store=store, name="Webshop", scopes=[Scope.ORDERS_WRITE])
    body = json.dumps({"source": "online", "external_id": "shop-1", "lines": [{"sku": "SHV-S9P", "qty": 1}]})

    def import_it():
        return Client().post(
            "/api/v1/orders",
            body,
            content_type="application/json",
            headers={"Authorization": f"Bearer {key.plaintext}"},
        )

    results = race([import_it, import_it])

    assert sorted(r.status_code for r in results) == [200, 201], [r.content for r in results]
    assert results[0].json()["id"] == results[1].json()["id"]
    assert Order.objects.count() == 1 and stock_of(product, store).reserved == 1


@pytest.mark.parametrize("narrowed", [False, True], ids=["any order", "within the caller's stores"])
def test_a_payment_during_the_hand_off_leaves_the_payment_status_the_sums_say(monkeypatch, narrowed):
    """The till pays in another process while the hand-off is between its read of the order and its
    write: the hand-off holds the order's row from its first read (as payments do), so the payment
    waits, then sees the hand-off's total; the status settled is what the final sums say. The same
    when the read is narrowed to the caller's stores (an API key's): its own statement, not the compiled one."""
    store = make_store(allow_pay_at_pickup=True)
    product = make_product(store, price="10.00", on_hand=5)
    order = staged(submit(make_showcase(store, products=[product]), {product: 2}), TILL)
    till = threading.Thread(target=lambda: (actions.mark_paid(order.pk, by=TILL), connections.close_all()))
    apply_rejections = handoff._apply_rejections

    def pay_meanwhile(*args):
        till.start()
        till.join(2)  # without the hand-off's lock, the payment commits here, under its stale read
        return apply_rejections(*args)

    monkeypatch.setattr(handoff, "_apply_rejections", pay_meanwhile)
    actions.hand_off_order(
        order.pk,
        by=TILL,
        rejections=[actions.Rejection(order.lines.get().pk, 1, "damaged")],
        within=Q(store=store) if narrowed else None,
    )
    till.join(30)
    order.refresh_from_db()
    assert (order.total_amount, order.paid_amount) == (10, 10), "the till paid what the hand-off left owed"
    assert order.payment_status == order.payment_status_by_sums == "paid"


def _waiting_for_a_row_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype = 'transactionid'")
        return cursor.fetchone()[0] > 0


@pytest.mark.parametrize("first", ["pick", "not-found"])
def test_a_pick_racing_another_count_of_the_last_unit_is_refused(monkeypatch, first):
    """The first count has updated the line and not committed yet when the pick, from a read of the order
    made before it, runs its conditional UPDATE: that waits for the row, then finds no unit left on the row
    as the first left it (no lock is read before). The loser is told how many are open now: none."""
    store = make_store()
    product = make_product(store, on_hand=5)
    order = actions.claim_order(submit(make_showcase(store, products=[product]), {product: 2}).pk, by=TILL)
    line = actions.pick_line(order.pk, order.lines.get().pk, by=TILL)  # one of two: the other is the last
    key = issue_key(organization=store.organization, store=store, name="Till", scopes=[Scope.ORDERS_WRITE])
    counted, go_on = threading.Event(), threading.Event()
    record = picking.record

    def record_once_the_other_waits(*args, **kwargs):
        if not counted.is_set():
            counted.set()  # the first count's UPDATE is done, its transaction open
            assert go_on.wait(10)
        return record(*args, **kwargs)

    monkeypatch.setattr(picking, "record", record_once_the_other_waits)
    answers: dict[str, object] = {}

    def post(name: str, action: str) -> threading.Thread:
        def send() -> None:
            try:
                answers[name] = Client().post(
                    f"/api/v1/orders/{order.pk}/lines/{line.pk}/{action}",
                    json.dumps({"qty": 1}),
                    content_type="application/json",
                    headers={"Authorization": f"Bearer {key.plaintext}"},
                )
            finally:
                connections.close_all()

        thread = threading.Thread(target=send)
        thread.start()
        return thread

    threads = [post("first", first)]
    assert counted.wait(10)
    threads.append(post("pick", "pick"))
    for _ in range(200):
        if _waiting_for_a_row_lock():
            break
        time.sleep(0.05)
    go_on.set()
    for thread in threads:
        thread.join(30)

    assert answers["first"].status_code == 200, answers["first"].content
    refused = answers["pick"]
    assert refused.status_code == 422, refused.content
    error = refused.json()["error"]
    assert (error["code"], error["field"]) == ("quantity_too_large", "qty") and "Only 0 of" in error["message"]
    line.refresh_from_db()
    assert line.picked_qty + line.short_qty == 2
    assert order.events.filter(type__in=["order.picking", "order.line_not_found"]).count() == 2

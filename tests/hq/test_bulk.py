"""Bulk actions across stores as a job: one outcome per order, never half-applied, the same selection
twice does nothing the second time, and the refused come as a CSV."""

import csv
import io

import pytest

from shelfcall.catalog.models import StockLevel
from shelfcall.core.jobs import queue
from shelfcall.core.jobs.models import Job, JobState
from shelfcall.hq import bulk
from shelfcall.notify.models import OutboxMessage
from shelfcall.orders import actions
from shelfcall.orders.events import Actor, EventType
from shelfcall.orders.models import Order, OrderEvent, OrderStatus, ReservationEntry
from shelfcall.stores.models import Role
from tests.factories import TILL, claimed, make_drop_zone, picked, signed_in, staff, staged
from tests.support.pdf import codes_on_pages, page_texts

pytestmark = pytest.mark.django_db


def _run_jobs() -> None:
    while queue.run_next():
        pass


def test_cancel_500_orders_across_stores_some_moved_meanwhile(world):
    StockLevel.objects.filter(store=world.b).update(on_hand=1000)
    orders = [world.order_a() if n % 2 else world.order_b() for n in range(500)]
    client = signed_in(world.users["customer_service"])
    response = client.post(
        "/hq/bulk",
        {"action": "cancel", "reason": "Store closing early", "key": "k1", "order": [o.pk for o in orders]},
    )
    job = Job.objects.get()
    assert response["Location"] == f"/hq/jobs/{job.pk}"
    # Meanwhile, before the worker gets to them: five were picked, staged, then cancelled at the till.
    ana = staff(world.a, "Ana")
    collected = [o for o in orders[:20] if o.store_id == world.a.pk][:5]
    for order in collected:
        staged(order, ana)
        actions.cancel_order(order.pk, by=TILL, reason="Gone")
    _run_jobs()
    job.refresh_from_db()
    assert job.state == JobState.DONE and (job.done, job.total) == (500, 500)
    items = job.outcome["items"]
    refused = {int(k) for k, v in items.items() if v["status"] == "refused"}
    assert refused == {o.pk for o in collected}
    assert all("cancelled now" in items[str(pk)]["reason"] for pk in refused)
    assert job.outcome["result"] == {"done": 495, "refused": 5}
    statuses = dict(Order.objects.values_list("pk", "cancel_reason"))
    assert {statuses[o.pk] for o in orders if o.pk not in refused} == {"Store closing early"}
    assert {statuses[o.pk] for o in collected} == {"Gone"}
    # Never half-applied: each cancelled order released all it held, with one event.
    assert OrderEvent.objects.filter(type=EventType.CANCELLED).count() == 500
    assert ReservationEntry.objects.filter(kind="release").count() == 500

    page = client.get(f"/hq/jobs/{job.pk}")
    assert "495 done, 5 refused" in page.content.decode()
    rows = list(csv.reader(io.StringIO(client.get(f"/hq/jobs/{job.pk}/refused.csv").content.decode())))
    assert rows[0] == ["Order id", "Number", "Store", "Why"] and len(rows) == 6
    assert {int(row[0]) for row in rows[1:]} == refused

    # The same selection sent again is the same job: nothing more happens.
    again = client.post(
        "/hq/bulk",
        {"action": "cancel", "reason": "Store closing early", "key": "k1", "order": [o.pk for o in orders]},
    )
    assert again["Location"] == f"/hq/jobs/{job.pk}" and Job.objects.count() == 1
    _run_jobs()
    assert OrderEvent.objects.filter(type=EventType.CANCELLED).count() == 500


def test_a_second_selection_over_done_orders_changes_nothing(world):
    orders = [world.order_a(email="kim@example.com") for _ in range(3)]
    ana = staff(world.a, "Ana")
    for order in orders:
        staged(order, ana)
    user = world.users["customer_service"]
    bulk.start(bulk.BulkAction.RESEND_READY, [o.pk for o in orders], by=user, key="first")
    bulk.start(bulk.BulkAction.RESEND_READY, [o.pk for o in orders], by=user, key="first")
    _run_jobs()
    assert OrderEvent.objects.filter(type=EventType.MESSAGE_RESENT).count() == 3
    assert OutboxMessage.objects.filter(purpose="ready").count() == 6  # staged + once again each


def test_mark_ready_at_a_drop_zone_refuses_what_is_not_theirs_or_not_picked(world):
    admin = world.users["store_admin"]
    mine = picked(world.order_a(), Actor.staff(admin, Role.STORE_ADMIN))
    theirs = picked(world.order_a(), staff(world.a, "Ana"))
    half = world.order_a(2)
    claimed(half, Actor.staff(admin, Role.STORE_ADMIN))
    make_drop_zone(world.a, "Locker 3")
    job = bulk.start(
        bulk.BulkAction.MARK_READY,
        [mine.pk, theirs.pk, half.pk, world.order_b().pk],
        by=admin,
        key="r",
        place="locker 3",
    )
    _run_jobs()
    items = Job.objects.get(pk=job.pk).outcome["items"]
    assert items[str(mine.pk)]["status"] == "done"
    assert Order.objects.get(pk=mine.pk).staged_location == "Locker 3"
    assert "Ana" in items[str(theirs.pk)]["reason"]
    assert items[str(half.pk)]["status"] == "refused"
    assert Order.objects.get(pk=half.pk).status == OrderStatus.PICKING
    other_store = next(v for k, v in items.items() if int(k) not in (mine.pk, theirs.pk, half.pk))
    assert other_store["reason"] == "This order does not exist in your stores."
    again = bulk.start(bulk.BulkAction.MARK_READY, [mine.pk], by=admin, key="r2", place="Desk")
    _run_jobs()
    assert "already ready" in Job.objects.get(pk=again.pk).outcome["items"][str(mine.pk)]["reason"]
    assert OrderEvent.objects.filter(order=mine, type=EventType.RESTAGED).count() == 0


def test_bad_bulk_input_is_named(world):
    client = signed_in(world.users["customer_service"])
    response = client.post("/hq/bulk", {"action": "cancel", "key": "x", "order": ["abc"]}, follow=True)
    assert "Orders: " in response.content.decode()
    response = client.post("/hq/bulk", {"action": "cancel", "key": "x", "order": [1]}, follow=True)
    assert "Give the reason" in response.content.decode()
    assert Job.objects.count() == 0


def test_only_the_requester_sees_a_job(world):
    job = bulk.start(
        bulk.BulkAction.CANCEL, [world.order_a().pk], by=world.users["customer_service"], key="z", reason="x"
    )
    assert signed_in(world.users["org_admin"]).get(f"/hq/jobs/{job.pk}").status_code == 404
    assert signed_in(world.users["org_admin"]).get(f"/hq/jobs/{job.pk}/refused.csv").status_code == 404


def test_pick_lists_and_receipts_print_as_one_pdf_of_the_printable_orders(world):
    StockLevel.objects.filter(store=world.b).update(on_hand=10)
    waiting, elsewhere, collected = world.order_a(), world.order_b(), world.order_a()
    staged(collected, TILL)
    actions.mark_paid(collected.pk, by=TILL)
    actions.hand_off_order(collected.pk, by=TILL)
    client = signed_in(world.users["customer_service"])
    selection = [waiting.pk, elsewhere.pk, collected.pk]
    client.post("/hq/bulk", {"action": "print_pick_lists", "key": "p1", "order": selection})
    client.post("/hq/bulk", {"action": "print_receipts", "key": "p2", "order": selection})
    _run_jobs()
    pick, receipts = Job.objects.order_by("pk")
    assert pick.outcome["result"] == {"done": 2, "refused": 1}
    assert "nothing to pick" in pick.outcome["items"][str(collected.pk)]["reason"]
    assert f'href="/hq/jobs/{pick.pk}/document.pdf"' in client.get(f"/hq/jobs/{pick.pk}").content.decode()
    pick_pdf = client.get(f"/hq/jobs/{pick.pk}/document.pdf")
    assert pick_pdf["Content-Type"] == "application/pdf"
    pages = page_texts(pick_pdf.content)
    assert len(pages) == 2, "one page for each store"
    scanned = [code.text for page in codes_on_pages(pick_pdf.content) for code in page]
    assert sorted(scanned) == sorted([waiting.barcode_value, elsewhere.barcode_value])
    receipt_pdf = client.get(f"/hq/jobs/{receipts.pk}/document.pdf").content
    assert len(page_texts(receipt_pdf)) == 3, "one receipt per order, a collected one too"


def test_only_a_finished_print_job_of_ones_own_has_a_document(world):
    order = world.order_a()
    cancel = bulk.start(bulk.BulkAction.CANCEL, [order.pk], by=world.users["org_admin"], key="c", reason="x")
    mine = bulk.start(bulk.BulkAction.PRINT_RECEIPTS, [order.pk], by=world.users["org_admin"], key="r")
    admin = signed_in(world.users["org_admin"])
    assert admin.get(f"/hq/jobs/{mine.pk}/document.pdf").status_code == 404, "not finished yet"
    _run_jobs()
    assert admin.get(f"/hq/jobs/{cancel.pk}/document.pdf").status_code == 404, "a cancel prints nothing"
    assert admin.get(f"/hq/jobs/{mine.pk}/document.pdf").status_code == 200
    other = signed_in(world.users["customer_service"])
    assert other.get(f"/hq/jobs/{mine.pk}/document.pdf").status_code == 404, "another person's job"

"""The queue shows each open order's promise, and flags the ones that will miss it."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from shelfcall.orders import actions
from tests.factories import make_product, make_showcase, make_store, make_user, signed_in, staff, submit
from tests.orders.history import daily

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS)


@pytest.fixture
def showcase():
    store = make_store(timezone="Europe/Paris", pick_target_minutes=15)
    return make_showcase(store, products=[make_product(store, on_hand=1000)])


def queue_item(html: str, number: int) -> str:
    match = re.search(rf'<li class="queue-item[^"]*">(?:(?!</li>).)*#{number}<(?:(?!</li>).)*</li>', html, re.S)
    assert match, f"#{number} is not in the queue"
    return re.sub(r"\s+", " ", match.group(0))


def test_promises_and_who_will_miss_them(showcase, time_machine):
    store = showcase.store
    alex = staff(store)
    daily(showcase, alex, at("2026-11-09 10:00"), days=5, per_day=2, ready_after=12)  # picked in 10 minutes
    time_machine.move_to(at("2026-11-16 09:50"), tick=False)
    late = submit(showcase)
    time_machine.move_to(at("2026-11-16 10:00"), tick=False)
    early = submit(showcase)
    time_machine.move_to(at("2026-11-16 10:05"), tick=False)
    fresh = submit(showcase)
    time_machine.move_to(at("2026-11-16 10:07"), tick=False)
    html = signed_in(make_user(store)).get("/w/").content.decode()
    assert "Promised for 10:02 a.m." in queue_item(html, late.number)
    assert "Promise missed" in queue_item(html, late.number)
    # promised 10:12, nobody has it at 10:07 and picking takes 10 minutes: it will be late
    assert "Promised for 10:12 a.m." in queue_item(html, early.number)
    assert "Will miss its promise" in queue_item(html, early.number)
    assert "Promised for 10:17 a.m." in queue_item(html, fresh.number)
    assert "Will miss" not in queue_item(html, fresh.number) and "missed" not in queue_item(html, fresh.number)


def test_without_history_the_target_is_the_stores_pick_target(showcase, time_machine):
    time_machine.move_to(at("2026-11-16 10:00"), tick=False)
    order = submit(showcase)
    user = make_user(showcase.store)
    item = queue_item(signed_in(user).get("/w/").content.decode(), order.number)
    assert "Target 10:15 a.m." in item and "Promise" not in item and "Will miss" not in item


def test_ready_orders_have_no_promise(showcase):
    alex = staff(showcase.store)
    order = submit(showcase)
    actions.claim_order(order.pk, by=alex)
    actions.pick_line(order.pk, order.lines.get().pk, by=alex)
    actions.stage_order(order.pk, by=alex, note="Desk")
    item = queue_item(signed_in(make_user(showcase.store)).get("/w/").content.decode(), order.number)
    assert "queue-promise" not in item


def test_the_live_fragment_shows_them_too(showcase):
    order = submit(showcase)
    html = signed_in(make_user(showcase.store)).get("/w/?fragment=1").content.decode()
    assert "Target" in queue_item(html, order.number)

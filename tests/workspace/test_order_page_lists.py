"""What the order page and the queue read in one statement as JSON rows is what the ORM's own reads make."""

from datetime import time
from decimal import Decimal

import pytest
from django.db.models import Model

from shelfcall.notify.models import OutboxMessage
from shelfcall.orders import actions
from shelfcall.orders.actions import ShopperContact
from shelfcall.orders.events import Actor
from shelfcall.stores.models import DropZone, Membership, OpeningPeriod, Team
from shelfcall.workspace.queries import (
    get_order_lines,
    list_timeline,
    read_order_page_lists,
    read_queue_facts,
)
from tests.factories import claimed, make_drop_zone, make_product, make_showcase, make_store, make_user, submit
from tests.notify.factories import make_channel

pytestmark = pytest.mark.django_db


def columns(instance: Model | None) -> list[tuple[str, str, str]] | None:
    """Each column's value with its type and text: 10 and 10.00, or two time zones, are told apart."""
    if instance is None:
        return None
    return [
        (field.attname, type(value).__name__, repr(value) if isinstance(value, Decimal) else str(value))
        for field in instance._meta.concrete_fields
        for value in [getattr(instance, field.attname)]
    ]


@pytest.fixture
def order():
    store = make_store(substitute_wait_minutes=15)
    drill = make_product(store, name="Cordless drill", price="99.90", on_hand=1, image_url="https://img/d.png")
    saw = make_product(store, name="Jigsaw", price="10.00", on_hand=3)
    stronger = make_product(store, name="Brushless drill", price="129.00", on_hand=2)
    make_channel(store, "https://hooks.example.com/shelfcall")  # a staff channel's messages name it
    for name in ["zeta desk", "Alpha shelf", "lockers"]:
        make_drop_zone(store, name=name)
    DropZone.objects.create(store=store, name="closed one", active=False)
    alex = make_user(store)
    showcase = make_showcase(store, products=[drill, saw, stronger])
    placed = submit(showcase, {drill: 1, saw: 2}, contact=ShopperContact(email="kim@example.com"))
    claimed(placed, Actor.staff(alex))
    drill_line, saw_line = placed.lines.order_by("pk")
    actions.pick_line(placed.pk, saw_line.pk, by=Actor.staff(alex), qty=2)
    actions.propose_substitutes(
        placed.pk, drill_line.pk, by=Actor.staff(alex), offers=[actions.Offer(stronger.pk, 1)], not_found_qty=1
    )
    return placed


def test_the_lists_are_what_the_orm_reads(order):
    lists = read_order_page_lists(order, drop_zones=True)
    lines = get_order_lines(order)
    assert len(lines) == 3 and any(line.substitute_for_id for line in lines)
    assert [columns(line) for line in lists.lines] == [columns(line) for line in lines]
    assert [columns(line.product) for line in lists.lines] == [columns(line.product) for line in lines]
    assert [columns(line.substitute_for) for line in lists.lines] == [columns(line.substitute_for) for line in lines]
    timeline = list(list_timeline(order))
    assert len(timeline) >= 4 and any(event.payload for event in timeline)
    assert [columns(event) for event in lists.timeline] == [columns(event) for event in timeline]
    messages = list(OutboxMessage.objects.filter(order=order).select_related("channel").order_by("pk"))
    assert {message.channel_id is None for message in messages} == {True, False}
    assert [columns(message) for message in lists.messages] == [columns(message) for message in messages]
    assert [columns(m.channel) for m in lists.messages] == [columns(m.channel) for m in messages]
    zones = DropZone.objects.filter(store=order.store, active=True).order_by("name")
    assert [columns(zone) for zone in lists.drop_zones] == [columns(zone) for zone in zones]
    assert not read_order_page_lists(order, drop_zones=False).drop_zones


def test_the_queue_facts_are_what_the_orm_reads(order):
    store = order.store
    alex = make_user(store, name="Sam")
    assert read_queue_facts(store, alex).team_ids == []  # no team: the whole store
    for weekday, opens, closes in [(5, time(9), time(13)), (0, time(14, 30), time(19)), (0, time(8), time(12))]:
        OpeningPeriod.objects.create(store=store, weekday=weekday, opens=opens, closes=closes)
    membership = Membership.objects.get(user=alex, store=store)
    membership.teams.set([Team.objects.create(store=store, name=name) for name in ["Tools", "Garden"]])
    facts = read_queue_facts(store, alex)
    assert sorted(facts.team_ids) == sorted(membership.teams.values_list("pk", flat=True)) and len(facts.team_ids) == 2
    assert [columns(period) for period in facts.opening_periods] == [
        columns(period) for period in store.opening_periods.all()
    ]
    assert facts.last_event_id == order.events.order_by("-pk").first().pk
    assert read_queue_facts(make_store(), alex).last_event_id == 0

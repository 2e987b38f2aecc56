"""Every event type has a payload schema, every action's payload fits it, and record() refuses one that does not."""

from decimal import Decimal

import pytest
from pydantic import ValidationError

from shelfcall.catalog.models import StockLevel
from shelfcall.core import clock
from shelfcall.orders import actions
from shelfcall.orders.actions import Rejection, ShopperContact
from shelfcall.orders.event_payloads import as_amount
from shelfcall.orders.events import PAYLOADS, SHOPPER, SYSTEM, Actor, EventType, record, record_many
from shelfcall.orders.models import Order, OrderEvent, SubStatus
from shelfcall.orders.queries import last_event_id
from shelfcall.stores.models import Role
from tests.factories import (
    make_drop_zone,
    make_org_member,
    make_product,
    make_showcase,
    make_store,
    make_user,
    staff,
    submit,
)


def test_every_event_type_has_a_documented_payload_schema_with_a_valid_example():
    assert set(EventType) - set(PAYLOADS) == set(), "add the new type's payload model to orders.events.PAYLOADS"
    for type, schema in PAYLOADS.items():
        assert schema.__doc__, f"{type}: say when it happens"
        assert schema.model_validate(schema.example), type
        undescribed = [name for name, field in schema.model_fields.items() if not field.description]
        assert not undescribed, f"{type}: describe {undescribed}"


def test_amounts_are_stated_with_two_places():
    assert [as_amount(Decimal("5")), as_amount(Decimal("12.5")), as_amount(Decimal("0.00"))] == [
        "5.00",
        "12.50",
        "0.00",
    ]


def _every_kind_of_event(store):
    """Orders that together go through every transition an action records."""
    product = make_product(store, price="20.00", on_hand=10)
    showcase = make_showcase(store, products=[product])
    alex, sam = staff(store, "Alex"), make_user(store, name="Sam")
    supervisor = staff(store, "Lee", role=Role.SUPERVISOR)
    changed = submit(showcase, {product: 1})  # a POS changes its lines before anyone picks
    actions.change_line_qty(
        changed.pk, changed.lines.get().pk, 2, by=Actor.api("pos"), version=last_event_id(changed.pk)
    )
    order = submit(showcase, {product: 2}, contact=ShopperContact(name="Kim", email="kim@example.com"))
    line = order.lines.get()
    actions.check_in(order.pk, mode="curbside", note="Blue van")
    Order.objects.filter(pk=order.pk).update(next_escalation_at=clock.now())
    actions.escalate_orders(
        [actions.DueEscalation(Order.objects.select_related("store", "team").get(pk=order.pk), None)]
    )
    actions.claim_order(order.pk, by=alex)
    actions.unclaim_order(order.pk, by=alex)
    actions.reassign_order(order.pk, to=sam, by=supervisor)
    sam_acts = Actor.staff(sam)
    actions.mark_paid(order.pk, by=sam_acts, reference="POS-1")
    actions.pick_line(order.pk, line.pk, by=sam_acts)
    actions.mark_line_not_found(order.pk, line.pk, by=sam_acts, qty=1)  # paid for two: a refund falls due
    actions.refund_order(order.pk, by=supervisor, amount=Decimal("5"), reference="R-1")
    actions.stage_order(order.pk, by=sam_acts, note="Desk")
    actions.stage_order(order.pk, by=sam_acts, drop_zone=make_drop_zone(store, "Locker 3"))
    actions.resend_ready_message(order.pk, by=sam_acts)
    curbside = SubStatus.objects.create(organization=store.organization, status="ready", code="curbside", name="Curb")
    actions.set_sub_status(order.pk, curbside.pk, by=sam_acts)
    Order.objects.filter(pk=order.pk).update(remind_at=clock.now())
    actions.remind_to_collect(order.pk, kind="expiry_warning", next_at=None)
    actions.hand_off_order(order.pk, by=sam_acts, rejections=[Rejection(line.pk, 1, "damaged")], collected_by="Jo")
    actions.cancel_order(submit(showcase).pk, by=SHOPPER)
    actions.expire_order(submit(showcase).pk, reason="Nobody collected it in time.")
    short = actions.claim_order(submit(showcase, {product: 1}).pk, by=alex)  # not found: two offered instead
    offered = [make_product(store, on_hand=2) for _ in range(2)]
    yes, no = actions.propose_substitutes(
        short.pk, short.lines.get().pk, by=alex, offers=[actions.Offer(p.pk, 1) for p in offered], not_found_qty=1
    )
    actions.answer_substitute(short.pk, yes.pk, accept=True, by=SHOPPER)
    actions.answer_substitute(short.pk, no.pk, accept=False, by=SHOPPER)
    sister = make_store(organization=store.organization)  # customer service moves a sister store's order here
    StockLevel.objects.create(store=sister, product=product, on_hand=1)
    moved = submit(make_showcase(sister, products=[product]))
    actions.move_order(moved.pk, to_store_id=store.pk, by=Actor.staff(make_org_member(store.organization)))


@pytest.mark.django_db
def test_every_recorded_payload_fits_its_schema_as_stored():
    store = make_store()
    _every_kind_of_event(store)
    events = list(OrderEvent.objects.filter(order__store=store))
    assert {event.type for event in events} == set(EventType), "the lifecycle above should record every type"
    for event in events:
        schema = PAYLOADS[EventType(event.type)]
        assert schema.model_validate(event.payload).model_dump(mode="json") == event.payload, event.type
    refunded = next(event for event in events if event.type == EventType.REFUNDED)
    assert (refunded.payload["amount"], refunded.payload["reference"]) == ("5.00", "R-1")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "payload",
    [
        {"reason": "x", "extra": 1},  # an unknown key
        {},  # a missing one
        {"reason": 3},  # the wrong type
    ],
)
def test_record_refuses_a_payload_that_does_not_fit_and_writes_nothing(payload):
    order = submit(make_showcase(make_store()))
    before = OrderEvent.objects.count()
    with pytest.raises(ValidationError):
        record(order, EventType.CANCELLED, actor=SYSTEM, **payload)
    with pytest.raises(ValidationError):  # a batch is refused whole, even if only one payload is wrong
        record_many(
            [(order, EventType.CANCELLED, {"reason": "fine"}), (order, EventType.CANCELLED, payload)], actor=SYSTEM
        )
    assert OrderEvent.objects.count() == before


@pytest.mark.django_db
def test_ints_are_ints_and_amounts_decimal_strings():
    order = submit(make_showcase(make_store()))
    with pytest.raises(ValidationError, match="level"):
        record(order, EventType.ESCALATED, actor=SYSTEM, level="1", waited_minutes=3)
    with pytest.raises(ValidationError, match="amount"):
        record(order, EventType.REFUND_DUE, actor=SYSTEM, amount="5")
    with pytest.raises(ValidationError, match="amount"):
        record(order, EventType.REFUND_DUE, actor=SYSTEM, amount=Decimal("5.00"))

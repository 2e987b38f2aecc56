"""The append-only event log: one constructor, one row per change, announced to live streams."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _

from shelfcall.core import clock
from shelfcall.live.hub import announce
from shelfcall.orders import hooks
from shelfcall.orders.models import Order, OrderEvent

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise


class EventType(StrEnum):
    """Values are the webhook event names. Payload keys per type are listed beside each."""

    CREATED = "order.created"  # source, lines: [{line_id, sku, name, variant, qty}]
    CLAIMED = "order.claimed"  # assignee_id, assignee_name
    UNCLAIMED = "order.unclaimed"  # previous_assignee_name
    REASSIGNED = "order.reassigned"  # assignee_id, assignee_name, previous_assignee_name
    CHECKED_IN = "order.checked_in"  # mode (in_store | curbside), note
    ESCALATED = "order.escalated"  # level, waited_minutes
    REMINDED = "order.reminded"  # kind (reminder | expiry_warning)
    MESSAGE_RESENT = "order.message_resent"  # purpose
    PICKING = "order.picking"  # line_id, sku, qty, picked_qty
    LINE_NOT_FOUND = "order.line_not_found"  # line_id, sku, qty, short_qty
    FULFILLED = "order.fulfilled"  # location, drop_zone_id
    RESTAGED = "order.restaged"  # location, drop_zone_id, previous_location
    PAID = "order.paid"  # amount, reference
    REFUND_DUE = "order.refund_due"  # amount (the total now due)
    REFUNDED = "order.refunded"  # amount, reference
    COMPLETED = "order.completed"  # accepted: [{line_id, qty}], rejected: [{line_id, qty, reason}], collected_by
    CANCELLED = "order.cancelled"  # reason
    EXPIRED = "order.expired"  # reason


EVENT_LABELS: "dict[str, StrPromise]" = {
    EventType.CREATED: _("sent the request"),
    EventType.CLAIMED: _("started picking"),
    EventType.UNCLAIMED: _("put it back in the queue"),
    EventType.REASSIGNED: _("reassigned it"),
    EventType.CHECKED_IN: _("arrived"),
    EventType.PICKING: _("picked an item"),
    EventType.LINE_NOT_FOUND: _("marked an item not found"),
    EventType.FULFILLED: _("dropped it for the customer"),
    EventType.RESTAGED: _("moved it"),
    EventType.PAID: _("marked it paid"),
    EventType.REFUND_DUE: _("a refund is due"),
    EventType.REFUNDED: _("refunded the shopper"),
    EventType.COMPLETED: _("handed it over"),
    EventType.CANCELLED: _("cancelled it"),
    EventType.EXPIRED: _("it expired"),
    EventType.ESCALATED: _("escalated: nobody had started picking"),
    EventType.REMINDED: _("reminded the shopper to collect"),
    EventType.MESSAGE_RESENT: _("sent the shopper's message again"),
}


@dataclass(frozen=True)
class Actor:
    """Who did it: a staff user, the shopper (by their token), an API key, or the system's timers."""

    kind: str
    user: User | None = field(default=None, compare=False)
    label: str = ""

    @classmethod
    def staff(cls, user: User) -> "Actor":
        return cls("staff", user, user.get_short_name() or user.get_username())

    @classmethod
    def api(cls, key_name: str) -> "Actor":
        return cls("api", None, key_name)

    @property
    def user_id(self) -> int | None:
        return self.user.pk if self.user is not None else None

    @property
    def is_staff_user(self) -> bool:
        return self.kind == "staff"


SHOPPER = Actor("shopper", None, "shopper")
SYSTEM = Actor("system", None, "Shelfcall")


def record(order: Order, type: EventType, *, actor: Actor, **payload: Any) -> OrderEvent:
    return record_many([(order, type, payload)], actor=actor)[0]


def record_many(changes: Sequence[tuple[Order, EventType, dict[str, Any]]], *, actor: Actor) -> list[OrderEvent]:
    """One event per (order, type, payload), written in one INSERT: how a batch of timers is recorded."""
    now = clock.now()
    events = OrderEvent.objects.bulk_create(
        OrderEvent(
            order=order,
            type=type,
            created_at=now,
            actor=actor.user,
            actor_kind=actor.kind,
            actor_label=actor.label,
            payload=payload,
        )
        for order, type, payload in changes
    )
    for event in events:
        announce(event, store_id=event.order.store_id, team_id=event.order.team_id)
    hooks.notify_subscribers([(event, event.order) for event in events])
    return events

"""The append-only event log: one constructor, one row per change, announced to live streams."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import User
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shelfcall.core import clock
from shelfcall.core.people import display_name
from shelfcall.live.hub import announce
from shelfcall.orders import event_payloads as payloads
from shelfcall.orders import hooks
from shelfcall.orders.compiled import CompiledInsert
from shelfcall.orders.models import Order, OrderEvent
from shelfcall.stores.models import Role

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise


class EventType(StrEnum):
    """Values are the webhook event names. Each type's payload schema is in PAYLOADS below."""

    CREATED = "order.created"
    CLAIMED = "order.claimed"
    UNCLAIMED = "order.unclaimed"
    REASSIGNED = "order.reassigned"
    CHECKED_IN = "order.checked_in"
    ESCALATED = "order.escalated"
    REMINDED = "order.reminded"
    MESSAGE_RESENT = "order.message_resent"
    PICKING = "order.picking"
    LINE_NOT_FOUND = "order.line_not_found"
    FULFILLED = "order.fulfilled"
    RESTAGED = "order.restaged"
    PAID = "order.paid"
    REFUND_DUE = "order.refund_due"
    REFUNDED = "order.refunded"
    COMPLETED = "order.completed"
    CANCELLED = "order.cancelled"
    LINES_CHANGED = "order.lines_changed"
    EXPIRED = "order.expired"
    SUB_STATUS_CHANGED = "order.sub_status_changed"
    SUBSTITUTE_PROPOSED = "order.substitute_proposed"
    SUBSTITUTE_ACCEPTED = "order.substitute_accepted"
    SUBSTITUTE_DECLINED = "order.substitute_declined"
    MOVED = "order.moved"


# One schema per type (tests check none is missing): what record() accepts, the feed and webhooks publish.
PAYLOADS: dict[EventType, type[payloads.EventPayload]] = {
    EventType.CREATED: payloads.CreatedPayload,
    EventType.CLAIMED: payloads.ClaimedPayload,
    EventType.UNCLAIMED: payloads.UnclaimedPayload,
    EventType.REASSIGNED: payloads.ReassignedPayload,
    EventType.CHECKED_IN: payloads.CheckedInPayload,
    EventType.ESCALATED: payloads.EscalatedPayload,
    EventType.REMINDED: payloads.RemindedPayload,
    EventType.MESSAGE_RESENT: payloads.MessageResentPayload,
    EventType.PICKING: payloads.PickingPayload,
    EventType.LINE_NOT_FOUND: payloads.LineNotFoundPayload,
    EventType.FULFILLED: payloads.FulfilledPayload,
    EventType.RESTAGED: payloads.RestagedPayload,
    EventType.PAID: payloads.PaidPayload,
    EventType.REFUND_DUE: payloads.RefundDuePayload,
    EventType.REFUNDED: payloads.RefundedPayload,
    EventType.COMPLETED: payloads.CompletedPayload,
    EventType.CANCELLED: payloads.CancelledPayload,
    EventType.LINES_CHANGED: payloads.LinesChangedPayload,
    EventType.EXPIRED: payloads.ExpiredPayload,
    EventType.SUB_STATUS_CHANGED: payloads.SubStatusChangedPayload,
    EventType.SUBSTITUTE_PROPOSED: payloads.SubstituteProposedPayload,
    EventType.SUBSTITUTE_ACCEPTED: payloads.SubstituteDecidedPayload,
    EventType.SUBSTITUTE_DECLINED: payloads.SubstituteDecidedPayload,
    EventType.MOVED: payloads.MovedPayload,
}


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
    EventType.PAID: _("took a payment"),
    EventType.REFUND_DUE: _("a refund is due"),
    EventType.REFUNDED: _("refunded the shopper"),
    EventType.COMPLETED: _("handed it over"),
    EventType.CANCELLED: _("cancelled it"),
    EventType.LINES_CHANGED: _("changed the items"),
    EventType.EXPIRED: _("it expired"),
    EventType.ESCALATED: _("escalated: nobody had started picking"),
    EventType.REMINDED: _("reminded the shopper to collect"),
    EventType.MESSAGE_RESENT: _("sent the shopper's message again"),
    EventType.SUB_STATUS_CHANGED: _("set the sub-status"),
    EventType.SUBSTITUTE_PROPOSED: _("offered a substitute"),
    EventType.SUBSTITUTE_ACCEPTED: _("accepted a substitute"),
    EventType.SUBSTITUTE_DECLINED: _("declined a substitute"),
    EventType.MOVED: _("moved it to another store"),
}


class ActorKind(StrEnum):
    """Who acts on an order. The values are what OrderEvent.actor_kind stores and the API shows."""

    STAFF = "staff"
    SHOPPER = "shopper"
    API = "api"
    SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    """Who did it: a staff user, the shopper (by their token), an API key, or the system's timers.

    `role` is a staff user's role in the order's store when the caller already knows it (the workspace
    does); the policy (orders/policy.py) looks it up otherwise."""

    kind: ActorKind
    user: User | None = field(default=None, compare=False)
    label: str = ""
    role: Role | None = field(default=None, compare=False)

    @classmethod
    def staff(cls, user: User, role: Role | None = None) -> "Actor":
        return cls(ActorKind.STAFF, user, display_name(user), role)

    @classmethod
    def api(cls, key_name: str) -> "Actor":
        return cls(ActorKind.API, None, key_name)

    @property
    def user_id(self) -> int | None:
        return self.user.pk if self.user is not None else None

    @property
    def is_staff_user(self) -> bool:
        return self.kind == ActorKind.STAFF


_INSERT_EVENT = CompiledInsert(OrderEvent)

SHOPPER = Actor(ActorKind.SHOPPER, None, "shopper")
SYSTEM = Actor(ActorKind.SYSTEM, None, "Shelfcall")


def record(order: Order, type: EventType, *, actor: Actor, **payload: Any) -> OrderEvent:
    return record_many([(order, type, payload)], actor=actor)[0]


def record_many(changes: Sequence[tuple[Order, EventType, dict[str, Any]]], *, actor: Actor) -> list[OrderEvent]:
    """One event per (order, type, payload), written in one INSERT: how a batch of timers is recorded.

    Each payload is validated against its type's schema first: one that does not fit raises
    pydantic.ValidationError (a programming error) and nothing is written."""
    now = clock.now()
    events = [
        OrderEvent(
            order=order,
            type=type,
            created_at=now,
            actor=actor.user,
            actor_kind=actor.kind.value,
            actor_label=actor.label,
            payload=payload_json(type, payload),
        )
        for order, type, payload in changes
    ]
    # One INSERT, compiled once per number of events (orders/compiled.py): most actions record one.
    _INSERT_EVENT.create_many(events)
    for event in events:
        # The order's latest event is its version (api/queries.py annotates it so): an action's caller
        # answers with the order as the action left it, without reading the version back.
        event.order.version = event.pk  # type: ignore[attr-defined]
        announce(event, store_id=event.order.store_id, team_id=event.order.team_id)
    hooks.notify_subscribers([(event, event.order) for event in events])
    return events


def of_stores(store_ids: Sequence[int]) -> Q:
    """The events the lists of these stores must hear of: their orders' events, and the move of an
    order away from one of them (the order belongs to another store now, and must leave its lists)."""
    return Q(order__store_id__in=store_ids) | Q(type=EventType.MOVED, payload__from_store_id__in=store_ids)


def payload_json(type: EventType, payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as stored and published: validated against its type's schema, in its canonical JSON."""
    return PAYLOADS[type].model_validate(payload).model_dump(mode="json")

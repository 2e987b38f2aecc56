"""Messages written in the business transaction (the outbox), chosen from the event that just happened."""

from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone, translation
from django.utils.formats import time_format
from django.utils.translation import gettext as _

from shelfcall.core import clock
from shelfcall.core.money import format_money
from shelfcall.notify import policies, wakeup
from shelfcall.notify.channels.sms import twilio_configured
from shelfcall.notify.channels.webhook import test_event
from shelfcall.notify.messages import Message, absolute_url, manage_order_url, status_url
from shelfcall.notify.models import Channel, ChannelKind, OutboxMessage
from shelfcall.orders.events import EventType
from shelfcall.orders.models import Order, OrderEvent

ITEMS_IN_ALERTS = 5

# Shopper messages, by the event that causes them.
SHOPPER_PURPOSES: dict[str, str] = {
    EventType.FULFILLED: "ready",
    EventType.REMINDED: "reminder",
    EventType.CANCELLED: "cancelled",
    EventType.EXPIRED: "cancelled",
    EventType.LINE_NOT_FOUND: "partial",
    EventType.MESSAGE_RESENT: "ready",  # or the payload's purpose ("status": the status link)
    EventType.MOVED: "moved",
}


def on_order_events(recorded: Sequence[tuple[OrderEvent, Order]]) -> None:
    """orders.hooks subscriber: queue what these events should tell whom, in the same transaction."""
    rows = [row for event, order in recorded for row in _rows_for(event, order)]
    if rows:
        OutboxMessage.objects.bulk_create(rows, ignore_conflicts=True)


def _rows_for(event: OrderEvent, order: Order) -> list[OutboxMessage]:
    store_policies = policies.for_store(order.store_id)
    rows: list[OutboxMessage] = []
    staff_channels = store_policies.channels_for(event.type, order.team_id)
    if staff_channels:
        message = staff_message(event, order)
        rows += [
            _row(f"{event.pk}:c{c.id}", message, event, order, kind=c.kind, channel_id=c.id) for c in staff_channels
        ]
    if event.type == EventType.ESCALATED:
        rows += _escalation_rows(event, order, store_policies)
    if event.type == EventType.CLAIMED and order.escalation_level:
        rows += _resolved_rows(event, order, store_policies)
    if event.type in SHOPPER_PURPOSES:
        rows += _shopper_rows(event, order)
    return rows


def _row(
    key: str,
    message: Message,
    event: OrderEvent | None,
    order: Order | None,
    *,
    kind: str,
    channel_id: int | None = None,
    destination: str = "",
) -> OutboxMessage:
    now = clock.now()
    return OutboxMessage(
        channel_id=channel_id,
        kind=kind,
        destination=destination,
        order=order,
        event=event,
        purpose=message.purpose,
        dedupe_key=key,
        body=message.to_json(),
        max_attempts=settings.SHELFCALL_OUTBOX_MAX_ATTEMPTS,
        next_attempt_at=now,
        created_at=now,
    )


def test_message() -> Message:
    """What "send a test" sends: for a webhook, an event of its own type and id (see webhook.test_event)."""
    return Message(
        "test",
        _("Shelfcall test message"),
        _("If you can read this, this channel works."),
        facts=[(_("Channel"), "")],
        url=absolute_url("/w/"),
        button=_("Open the workspace"),
        event=test_event(),
    )


def queue_test(channel: Channel) -> OutboxMessage:
    """A test message to `channel`, delivered by the worker as any other (retries included)."""
    message = test_message()
    row = _row(f"test:{message.event['id']}", message, None, None, kind=channel.kind, channel_id=channel.pk)
    row.save()
    wakeup.work_queued()
    return row


def _age(order: Order) -> str:
    return _("%(minutes)s min") % {"minutes": order.minutes_waiting(clock.now())}


def _items(order: Order, event: OrderEvent | None = None) -> list[str]:
    """The first items with quantities: from the creation event's own list, or from the order lines
    (which a caller alerting about many orders at once prefetches)."""
    if event is not None and event.type == EventType.CREATED:
        lines = [(line["qty"], line["name"], line["variant"]) for line in event.payload["lines"]]
    else:
        lines = [(line.requested_qty, line.name, line.variant) for line in order.lines.all()]
    items = [f"{qty} × {name}" + (f" ({variant})" if variant else "") for qty, name, variant in lines]
    if len(items) > ITEMS_IN_ALERTS:
        total = sum(qty for qty, _name, _variant in lines)
        items = [*items[:ITEMS_IN_ALERTS], _("… %(count)s items in all") % {"count": total}]
    return items


def _facts(order: Order) -> list[tuple[str, str]]:
    facts = [(_("Store"), order.store.name), (_("Order"), f"#{order.number}"), (_("Waiting"), _age(order))]
    if order.team is not None:
        facts.insert(1, (_("Team"), order.team.name))
    if order.shopper_name:
        facts.append((_("Shopper"), order.shopper_name))
    return facts


def staff_message(event: OrderEvent, order: Order) -> Message:
    with translation.override(settings.LANGUAGE_CODE), timezone.override(order.store.timezone):
        common: dict[str, Any] = {
            "facts": _facts(order),
            "url": manage_order_url(order.pk),
            "button": _("Manage This Order"),
            "event": webhook_event(event, order),
        }
        if event.type == EventType.CREATED:
            return Message(
                "new_order",
                _("New order #%(number)s") % {"number": order.number},
                _("A shopper is waiting for these items."),
                items=_items(order, event),
                **common,
            )
        if event.type == EventType.CLAIMED:
            name = event.payload["assignee_name"]
            return Message(
                "claimed",
                _("Picking — %(name)s") % {"name": name},
                _("%(name)s is picking order #%(number)s.") % {"name": name, "number": order.number},
                **common,
            )
        return Message(
            "event",
            f"#{order.number}: {event.type}",
            _("Order #%(number)s changed.") % {"number": order.number},
            **common,
        )


def webhook_event(event: OrderEvent, order: Order) -> dict:
    """What a webhook publishes: the event's id (its webhook-id, also its id in the events feed), type
    and time, and thin data that a receiver follows with a GET for the rest, with the event's payload
    (its type's schema: api/event_schemas.py documents each webhook)."""
    return {
        "id": str(event.pk),
        "type": event.type,
        "timestamp": event.created_at.isoformat(),
        "data": {
            "event_id": event.pk,
            "order_id": order.pk,
            "number": order.number,
            "status": order.status,
            "payment_status": order.payment_status,
            "store_id": order.store_id,
            "team_id": order.team_id,
            "external_id": order.external_id,
            "payload": event.payload,
        },
    }


def _escalation_rows(event: OrderEvent, order: Order, store_policies: policies.StorePolicies) -> list[OutboxMessage]:
    level = event.payload["level"]
    levels = store_policies.escalation_levels(order.team_id)
    if level > len(levels):
        return []
    channel_id, cancels = levels[level - 1].channel_id, levels[level - 1].cancels
    kind = next((c.kind for c in store_policies.channels if c.id == channel_id), ChannelKind.EMAIL)
    with translation.override(settings.LANGUAGE_CODE):
        if cancels:
            text = _("Escalation level %(level)s: the request is cancelled and its items are back on sale.")
        else:
            text = _("Escalation level %(level)s: please make sure someone takes it now.")
        message = Message(
            "escalation",
            _("Nobody has picked order #%(number)s for %(age)s") % {"number": order.number, "age": _age(order)},
            text % {"level": level},
            facts=_facts(order),
            items=_items(order),
            url=manage_order_url(order.pk),
            button=_("Manage This Order"),
            event=webhook_event(event, order),
        )
    return [_row(f"esc:{order.pk}:{level}", message, event, order, kind=kind, channel_id=channel_id)]


def _resolved_rows(event: OrderEvent, order: Order, store_policies: policies.StorePolicies) -> list[OutboxMessage]:
    """Everyone escalated to hears that it is resolved, by whom, after how long."""
    escalated = {
        level.channel_id for level in store_policies.escalation_levels(order.team_id)[: order.escalation_level]
    }
    kinds = {c.id: c.kind for c in store_policies.channels}
    name = event.payload["assignee_name"]
    with translation.override(settings.LANGUAGE_CODE):
        message = Message(
            "resolved",
            _("Resolved: %(name)s is picking order #%(number)s") % {"name": name, "number": order.number},
            _("Picking started after %(age)s.") % {"age": _age(order)},
            facts=_facts(order),
            url=manage_order_url(order.pk),
            button=_("Manage This Order"),
            event=webhook_event(event, order),
        )
    return [
        _row(
            f"resolved:{order.pk}:{channel_id}",
            message,
            event,
            order,
            kind=kinds.get(channel_id, ChannelKind.EMAIL),
            channel_id=channel_id,
        )
        for channel_id in sorted(escalated)
    ]


def _shopper_rows(event: OrderEvent, order: Order) -> list[OutboxMessage]:
    purpose = SHOPPER_PURPOSES[event.type]
    if event.type == EventType.REMINDED:
        purpose = event.payload["kind"]
    if event.type == EventType.MESSAGE_RESENT:
        purpose = event.payload["purpose"]
    message = shopper_message(purpose, order)
    destinations: Iterable[tuple[str, str]] = [
        (ChannelKind.SMS, order.shopper_phone) if order.shopper_phone and twilio_configured() else ("", ""),
        (ChannelKind.EMAIL, order.shopper_email) if order.shopper_email else ("", ""),
    ]
    only = event.payload.get("via") if event.type == EventType.MESSAGE_RESENT else None
    return [
        _row(f"{event.pk}:{kind}", message, event, order, kind=kind, destination=address)
        for kind, address in destinations
        if kind and only in (None, kind)
    ]


def shopper_message(purpose: str, order: Order) -> Message:
    """In the shopper's language, with the link to their live status page."""
    with translation.override(order.locale or settings.LANGUAGE_CODE), timezone.override(order.store.timezone):
        place = order.staged_location
        texts = {
            "ready": (
                _("Your order #%(number)s is ready") % {"number": order.number},
                _("Collect it at %(place)s. Show the barcode on your order page at the till.") % {"place": place},
            ),
            "reminder": (
                _("Your order #%(number)s is waiting") % {"number": order.number},
                _("It is ready at %(place)s whenever you are.") % {"place": place},
            ),
            "expiry_warning": (
                _("Your order #%(number)s will be released soon") % {"number": order.number},
                _("Collect it at %(place)s before %(time)s, or it goes back on the shelf.")
                % {"place": place, "time": _local_time(order)},
            ),
            "cancelled": (
                _("Your order #%(number)s is cancelled") % {"number": order.number},
                order.cancel_reason or _("Nothing was charged."),
            ),
            "status": (
                _("Your order #%(number)s") % {"number": order.number},
                _("Follow it live on your order page."),
            ),
            "moved": (
                _("Your order #%(number)s moved to %(store)s") % {"number": order.number, "store": order.store.name},
                _("Collect it at %(store)s; we will tell you when it is ready.") % {"store": order.store.name},
            ),
            "partial": (
                _("Part of your order #%(number)s is not available") % {"number": order.number},
                _("We could not find everything. New total: %(total)s.")
                % {"total": format_money(order.total_amount, order.currency)},
            ),
        }
        title, text = texts[purpose]
        return Message(
            purpose,
            f"{order.store.name}: {title}",
            text,
            url=status_url(order.public_token),
            button=_("See your order"),
        )


def _local_time(order: Order) -> str:
    expires = order.expires_at or (clock.now() + timedelta(hours=1))
    return time_format(timezone.localtime(expires), "TIME_FORMAT")

"""Messages written in the business transaction (the outbox), chosen from the event that just happened."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import timezone, translation
from django.utils.formats import time_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shelfcall.core import clock
from shelfcall.core.money import format_money
from shelfcall.notify import policies, wakeup
from shelfcall.notify.channels import REGISTRY, Audience
from shelfcall.notify.channels.webhook import test_event
from shelfcall.notify.messages import Message, absolute_url, manage_order_url, status_url
from shelfcall.notify.models import Channel, OutboxMessage
from shelfcall.orders.events import EventType
from shelfcall.orders.models import Order, OrderEvent
from shelfcall.stores.models import SubstituteDefault

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

ITEMS_IN_ALERTS = 5

# What staff alerts call each event (their title: "Order #12: ready for pickup"); every type has one.
EVENT_TITLES: dict[str, "StrPromise"] = {
    EventType.CREATED: gettext_lazy("new order"),
    EventType.CLAIMED: gettext_lazy("picking started"),
    EventType.UNCLAIMED: gettext_lazy("back in the queue"),
    EventType.REASSIGNED: gettext_lazy("reassigned"),
    EventType.CHECKED_IN: gettext_lazy("the shopper has arrived"),
    EventType.ESCALATED: gettext_lazy("escalated"),
    EventType.REMINDED: gettext_lazy("shopper reminded to collect"),
    EventType.MESSAGE_RESENT: gettext_lazy("shopper's message sent again"),
    EventType.PICKING: gettext_lazy("item picked"),
    EventType.LINE_NOT_FOUND: gettext_lazy("item not found"),
    EventType.FULFILLED: gettext_lazy("ready for pickup"),
    EventType.RESTAGED: gettext_lazy("moved to another pickup place"),
    EventType.PAID: gettext_lazy("paid"),
    EventType.REFUND_DUE: gettext_lazy("refund due"),
    EventType.REFUNDED: gettext_lazy("refunded"),
    EventType.COMPLETED: gettext_lazy("handed over"),
    EventType.CANCELLED: gettext_lazy("cancelled"),
    EventType.LINES_CHANGED: gettext_lazy("items changed"),
    EventType.EXPIRED: gettext_lazy("expired"),
    EventType.SUB_STATUS_CHANGED: gettext_lazy("sub-status changed"),
    EventType.SUBSTITUTE_PROPOSED: gettext_lazy("substitute offered"),
    EventType.SUBSTITUTE_ACCEPTED: gettext_lazy("substitute accepted"),
    EventType.SUBSTITUTE_DECLINED: gettext_lazy("substitute declined"),
    EventType.MOVED: gettext_lazy("moved to another store"),
}

# Shopper messages, by the event that causes them.
SHOPPER_PURPOSES: dict[str, str] = {
    EventType.FULFILLED: "ready",
    EventType.REMINDED: "reminder",
    EventType.CANCELLED: "cancelled",
    EventType.EXPIRED: "cancelled",
    EventType.LINE_NOT_FOUND: "partial",
    EventType.MESSAGE_RESENT: "ready",
    EventType.SUB_STATUS_CHANGED: "update",  # only when the sub-status says to tell the shopper
    EventType.MOVED: "moved",
}


def on_order_events(recorded: Sequence[tuple[OrderEvent, Order]]) -> None:
    """orders.hooks subscriber: queue what these events should tell whom, in the same transaction."""
    rows = [queued for event, order in recorded for queued in _rows_for(event, order)]
    rows += _substitute_offer_rows(recorded)
    if rows:
        OutboxMessage.objects.bulk_create(rows, ignore_conflicts=True)
        wakeup.messages_queued()


def _rows_for(event: OrderEvent, order: Order) -> list[OutboxMessage]:
    store_policies = policies.for_store(order.store_id)
    rows: list[OutboxMessage] = []
    staff_channels = store_policies.channels_for(event.type, order.team_id)
    if staff_channels:
        message = staff_message(event, order)
        rows += [
            row(f"{event.pk}:c{c.id}", message, event.pk, order.pk, kind=c.kind, channel_id=c.id)
            for c in staff_channels
        ]
    if event.type == EventType.ESCALATED:
        rows += _escalation_rows(event, order, store_policies)
    if event.type == EventType.CLAIMED and order.escalation_level:
        rows += _resolved_rows(event, order, store_policies)
    if event.type in SHOPPER_PURPOSES and event.payload.get("shopper_notified", True):
        rows += _shopper_rows(event, order)
    return rows


def row(
    key: str,
    message: Message,
    event_id: int | None,
    order_id: int | None,
    *,
    kind: str,
    channel_id: int | None = None,
    destination: str = "",
) -> OutboxMessage:
    """One message to queue (unsaved), due now; `key` makes it once only (OutboxMessage.dedupe_key)."""
    now = clock.now()
    return OutboxMessage(
        channel_id=channel_id,
        kind=kind,
        destination=destination,
        order_id=order_id,
        event_id=event_id,
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
    test = row(f"test:{message.event['id']}", message, None, None, kind=channel.kind, channel_id=channel.pk)
    test.save()
    wakeup.work_queued()
    return test


def queue_report(channel: Channel, message: Message, key: str) -> None:
    """A message about no one order (a periodic report) to `channel`, once per key: queued again, it is ignored."""
    OutboxMessage.objects.bulk_create(
        [row(key, message, None, None, kind=channel.kind, channel_id=channel.pk)], ignore_conflicts=True
    )
    wakeup.work_queued()


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
        if event.type == EventType.CHECKED_IN:
            return Message(
                "arrived",
                _("Shopper has arrived — order #%(number)s") % {"number": order.number},
                _("The shopper is in the store, waiting for these items."),
                items=_items(order),
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
            _("Order #%(number)s: %(event)s") % {"number": order.number, "event": event_title(event.type)},
            _("Order #%(number)s changed.") % {"number": order.number},
            **common,
        )


def event_title(event_type: str) -> str:
    """The event's human name; a type added without one shows its name rather than fail the alert."""
    title = EVENT_TITLES.get(event_type)
    return str(title) if title is not None else event_type


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
    kind = store_policies.kind_of(channel_id)
    if kind is None:  # switched off since the levels were read
        return []
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
    return [row(f"esc:{order.pk}:{level}", message, event.pk, order.pk, kind=kind, channel_id=channel_id)]


def _resolved_rows(event: OrderEvent, order: Order, store_policies: policies.StorePolicies) -> list[OutboxMessage]:
    """Everyone escalated to hears that it is resolved, by whom, after how long."""
    escalated = {
        level.channel_id for level in store_policies.escalation_levels(order.team_id)[: order.escalation_level]
    }
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
        row(f"resolved:{order.pk}:{channel_id}", message, event.pk, order.pk, kind=kind, channel_id=channel_id)
        for channel_id in sorted(escalated)
        if (kind := store_policies.kind_of(channel_id)) is not None
    ]


def _shopper_rows(event: OrderEvent, order: Order) -> list[OutboxMessage]:
    purpose = SHOPPER_PURPOSES[event.type]
    if event.type == EventType.REMINDED:
        purpose = event.payload["kind"]
    if event.type == EventType.MESSAGE_RESENT:
        purpose = event.payload["purpose"]  # "ready", or "status": the status link
    only = event.payload.get("via") if event.type == EventType.MESSAGE_RESENT else None
    addresses = _shopper_addresses(order, only)
    if not addresses:
        return []
    message = shopper_message(purpose, order)
    return [
        row(f"{event.pk}:{kind}", message, event.pk, order.pk, kind=kind, destination=address)
        for kind, address in addresses
    ]


def _shopper_addresses(order: Order, only: str | None = None) -> list[tuple[str, str]]:
    """(kind, address) of each shopper channel that is set up and that the order has an address for."""
    return [
        (plugin.kind, address)
        for plugin in REGISTRY.for_audience(Audience.SHOPPER)
        if only in (None, plugin.kind) and (address := plugin.shopper_address(order)) and plugin.is_configured()
    ]


def _substitute_offer_rows(recorded: Sequence[tuple[OrderEvent, Order]]) -> list[OutboxMessage]:
    """One message per proposal, with every substitute it offers: a proposal of several substitutes for
    a line records one event each, in one batch. Keyed by its first event, so it is written once."""
    proposals: dict[tuple[int, int], list[OrderEvent]] = {}
    orders: dict[int, Order] = {}
    for event, order in recorded:
        if event.type == EventType.SUBSTITUTE_PROPOSED:
            proposals.setdefault((order.pk, event.payload["for_line_id"]), []).append(event)
            orders[order.pk] = order
    rows = []
    for (order_id, _line_id), events in proposals.items():
        order = orders[order_id]
        message = _substitute_offer_message(order, [event.payload for event in events])
        rows += [
            row(f"{events[0].pk}:{kind}", message, events[0].pk, order_id, kind=kind, destination=address)
            for kind, address in _shopper_addresses(order)
        ]
    return rows


def _substitute_offer_message(order: Order, offers: list[dict[str, Any]]) -> Message:
    """In the shopper's language: what is offered, at what price, and until when they may answer (the
    store's default applies after), with the link to their order page, where they answer."""
    with translation.override(order.locale or settings.LANGUAGE_CODE), timezone.override(order.store.timezone):
        items = [
            f"{offer['qty']} × {offer['name']}"
            + (f" ({offer['variant']})" if offer["variant"] else "")
            + f" — {format_money(Decimal(offer['unit_price']), order.currency)}"
            for offer in offers
        ]
        decide_by = timezone.localtime(datetime.fromisoformat(offers[0]["decide_by"]))
        if order.store.substitute_default == SubstituteDefault.ACCEPT:
            text = _("We could not find an item and offer instead: %(offers)s. Answer by %(time)s, or we add it.")
        else:
            text = _("We could not find an item and offer instead: %(offers)s. Answer by %(time)s, or we leave it out.")
        return Message(
            "substitute",
            f"{order.store.name}: " + _("A substitute for your order #%(number)s") % {"number": order.number},
            text % {"offers": "; ".join(items), "time": time_format(decide_by, "TIME_FORMAT")},
            items=items,
            url=status_url(order.public_token),
            button=_("Accept or decline"),
        )


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
            "update": (
                _("News about your order #%(number)s") % {"number": order.number},
                order.sub_status.shopper_text(order.locale) if purpose == "update" and order.sub_status else "",
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

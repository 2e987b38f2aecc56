"""Reads of orders. get_* raise, find_* may return None, list_* return querysets."""

import re

from django.db.models import QuerySet

from shelfcall.orders.models import Order, OrderEvent

_NOT_DIGITS = re.compile(r"[^0-9]", re.ASCII)


def phone_key(phone: str) -> str:
    """The digits of a phone number, with its leading + if it has one: "06 12-34" and "0612 34" are one."""
    phone = phone.strip()
    digits = _NOT_DIGITS.sub("", phone)
    return f"+{digits}"[:32] if phone.startswith("+") and digits else digits[:32]


# token_urlsafe(24) gives 32 characters of [A-Za-z0-9_-]; anything else is not worth a query.
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{32}$")


def find_order_by_token(token: str) -> Order | None:
    """The order behind a shopper's status URL. Looked up by an indexed equality, never compared in Python."""
    if not _TOKEN_SHAPE.match(token):
        return None
    return (
        Order.objects.select_related("store", "assignee", "drop_zone", "sub_status").filter(public_token=token).first()
    )


def list_events_after(order_id: int, last_id: int) -> QuerySet[OrderEvent]:
    return OrderEvent.objects.filter(order_id=order_id, pk__gt=last_id).order_by("pk")


def last_event_id(order_id: int) -> int:
    return OrderEvent.objects.filter(order_id=order_id).order_by("-pk").values_list("pk", flat=True).first() or 0

"""The shopper says "I'm here": in the store, or curbside with where they parked."""

from typing import get_args

from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils.translation import pgettext

from shelfcall.core import clock
from shelfcall.orders.actions._common import fetch, refuse
from shelfcall.orders.errors import CheckInDetailsRequired
from shelfcall.orders.event_payloads import CheckInMode
from shelfcall.orders.events import SHOPPER, EventType, record
from shelfcall.orders.models import OPEN_STATUSES, Order

CHECK_IN_MODES = get_args(CheckInMode)


@transaction.atomic
def check_in(order_id: int, *, mode: str, note: str = "") -> Order:
    """May be repeated (say, after moving the car): the latest details win, the first arrival time stays.

    The same details again change nothing: no event, so no associate's queue is woken by a shopper
    pressing the button twice (or a script pressing it a thousand times)."""
    note = note.strip()[:200]
    if mode not in CHECK_IN_MODES or (mode == "curbside" and not note):
        raise CheckInDetailsRequired()
    now = clock.now()
    already_said = Q(checked_in_at__isnull=False, check_in_mode=mode, check_in_note=note)
    changed = Order.objects.filter(~already_said, pk=order_id, status__in=OPEN_STATUSES).update(
        checked_in_at=Coalesce(F("checked_in_at"), Value(now)),
        check_in_mode=mode,
        check_in_note=note,
        updated_at=now,
    )
    order = fetch(order_id)
    if not changed:
        if order.status not in OPEN_STATUSES:
            refuse(order, pgettext("order action", "checked in"))
        return order
    record(order, EventType.CHECKED_IN, actor=SHOPPER, mode=mode, note=note)
    return order

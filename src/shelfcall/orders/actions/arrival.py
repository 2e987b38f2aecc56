"""The shopper says "I'm here": in the store, or curbside with where they parked."""

from django.db import transaction
from django.utils.translation import pgettext

from shelfcall.core import clock
from shelfcall.orders.actions._common import move
from shelfcall.orders.errors import CheckInDetailsRequired
from shelfcall.orders.events import SHOPPER, EventType, record
from shelfcall.orders.models import OPEN_STATUSES, Order

CHECK_IN_MODES = ("in_store", "curbside")


@transaction.atomic
def check_in(order_id: int, *, mode: str, note: str = "") -> Order:
    """May be repeated (say, after moving the car): the latest details win, the first arrival time stays."""
    note = note.strip()[:200]
    if mode not in CHECK_IN_MODES or (mode == "curbside" and not note):
        raise CheckInDetailsRequired()
    current = Order.objects.filter(pk=order_id).values_list("checked_in_at", flat=True).first()
    order = move(
        order_id,
        from_statuses=OPEN_STATUSES,
        attempted=pgettext("order action", "checked in"),
        checked_in_at=current or clock.now(),
        check_in_mode=mode,
        check_in_note=note,
    )
    record(order, EventType.CHECKED_IN, actor=SHOPPER, mode=mode, note=note)
    return order

"""Orders told as stories: each step a number of minutes after the order was sent, done by the real
actions at that moment (the clock moved by time_machine), so every event is the one production writes."""

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Max

from shelfcall.catalog.models import Showcase
from shelfcall.insights import facts
from shelfcall.insights.models import RefreshCursor
from shelfcall.orders import actions
from shelfcall.orders.events import SYSTEM, Actor, EventType, record
from shelfcall.orders.models import Order, OrderEvent
from shelfcall.stores.models import DropZone
from tests.factories import submit


@dataclass(frozen=True)
class Story:
    """Minutes after sending at which each step happens; None: it never does."""

    claim: float | None = None
    ready: float | None = None  # every unit picked, then staged
    pay: float | None = None
    collect: float | None = None
    escalate: float | None = None
    expire: float | None = None
    cancel: float | None = None
    not_found: bool = False  # one unit of two is not on the shelf (when claimed)
    reject: bool = False  # one unit turned down at hand-off


def tell(time_machine, showcase: Showcase, at: datetime, story: Story, *, by: Actor, desk: DropZone) -> Order:
    product = showcase.items.first().product
    time_machine.move_to(at, tick=False)
    order = submit(showcase, {product: 2})
    line = order.lines.get()

    def at_minute(minutes: float) -> None:
        time_machine.move_to(at + timedelta(minutes=minutes), tick=False)

    if story.escalate is not None:
        at_minute(story.escalate)
        record(order, EventType.ESCALATED, actor=SYSTEM, level=1, waited_minutes=int(story.escalate))
    if story.claim is not None:
        at_minute(story.claim)
        actions.claim_order(order.pk, by=by)
        if story.not_found:
            actions.mark_line_not_found(order.pk, line.pk, by=by, qty=1)
    if story.ready is not None:
        at_minute(story.ready)
        actions.pick_line(order.pk, line.pk, by=by, qty=1 if story.not_found else 2)
        actions.stage_order(order.pk, by=by, drop_zone=desk)
    if story.pay is not None:
        at_minute(story.pay)
        actions.mark_paid(order.pk, by=by)
    if story.collect is not None:
        at_minute(story.collect)
        rejections = [actions.Rejection(line.pk, 1, "damaged")] if story.reject else []
        actions.hand_off_order(order.pk, by=by, rejections=rejections)
    if story.expire is not None:
        at_minute(story.expire)
        actions.expire_order(order.pk, reason="Nobody collected it in time.")
    if story.cancel is not None:
        at_minute(story.cancel)
        actions.cancel_order(order.pk, by=by)
    return order


def caught_up(attempts: int = 600) -> int:
    """The refresh job run until every committed event is in the facts; how many events it read.

    On PostgreSQL the job reads past an event only once every transaction older than it has ended, on
    any database of the server (the feed's horizon, api/feed.py): another session's long write holds
    it back for a while, and the job then reads nothing. Tries for up to a minute."""
    last = OrderEvent.objects.aggregate(last=Max("pk"))["last"] or 0
    read = 0
    for _attempt in range(attempts):
        read += facts.refresh_all()
        if not last or RefreshCursor.objects.filter(pk=1, event_id__gte=last).exists():
            return read
        time.sleep(0.1)
    raise AssertionError(f"the refresh job did not reach event {last}")

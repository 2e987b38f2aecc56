"""A store's past orders, each run through the real actions at the moments given (time travel)."""

from datetime import datetime, timedelta

import time_machine

from shelfcall.catalog.models import Showcase
from shelfcall.orders import actions
from shelfcall.orders.events import Actor
from shelfcall.orders.models import Order
from tests.factories import make_drop_zone, submit


def served(showcase: Showcase, by: Actor, sent: datetime, *, ready_after: int = 12, claimed_after: int = 2) -> Order:
    """An order sent at `sent`, claimed `claimed_after` minutes later, ready `ready_after` minutes after `sent`."""
    with time_machine.travel(sent, tick=False):
        order = submit(showcase)
    with time_machine.travel(sent + timedelta(minutes=claimed_after), tick=False):
        actions.claim_order(order.pk, by=by)
        for line in order.lines.all():
            actions.pick_line(order.pk, line.pk, by=by, qty=line.requested_qty)
    with time_machine.travel(sent + timedelta(minutes=ready_after), tick=False):
        return actions.stage_order(order.pk, by=by, drop_zone=make_drop_zone(showcase.store))


def daily(
    showcase: Showcase, by: Actor, first: datetime, days: int, *, ready_after: int = 12, per_day: int = 1
) -> list[Order]:
    """`per_day` orders a day, a minute apart, at the same wall-clock time of the store for `days` days."""
    orders = []
    for day in range(days):
        local = first + timedelta(days=day)  # the same tzinfo: the same wall-clock time across a DST change
        orders += [served(showcase, by, local + timedelta(minutes=n), ready_after=ready_after) for n in range(per_day)]
    return orders

"""Replays an order's event log, on its own, into the state the order should be in now, and compares.

The log is the audit trail, the shopper's timeline and the webhooks' source (DESIGN.md), so it must
tell the whole story: from `order.created` alone and the events after it, in id order, follow the status
(each transition starts from where the previous one ended: no transition is recorded twice), the lines'
quantities, the total and the money. Unit prices are the one thing the log does not carry: they are
fixed when a line is made, and read from the line rows.

`check_world` loads every order of a store, with its lines, events, reservations, journal, payments and
stock levels, in a few statements, and returns the problems found (an empty list when all is well).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Sum

from shelfcall.catalog.models import StockLevel
from shelfcall.orders.events import EventType
from shelfcall.orders.models import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentKind,
    PaymentStatus,
    Reservation,
    ReservationEntry,
    ReservationKind,
)

SUBMITTED, PICKING, READY = OrderStatus.SUBMITTED, OrderStatus.PICKING, OrderStatus.READY
COMPLETED, CANCELLED, EXPIRED = OrderStatus.COMPLETED, OrderStatus.CANCELLED, OrderStatus.EXPIRED
ZERO = Decimal("0")

# Each transition: the statuses it may start from, and where it ends.
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    EventType.CLAIMED: (frozenset({SUBMITTED}), PICKING),
    EventType.UNCLAIMED: (frozenset({PICKING}), SUBMITTED),
    EventType.REASSIGNED: (frozenset({SUBMITTED, PICKING}), PICKING),
    EventType.FULFILLED: (frozenset({PICKING}), READY),
    EventType.RESTAGED: (frozenset({READY}), READY),
    EventType.COMPLETED: (frozenset({READY}), COMPLETED),
    EventType.CANCELLED: (frozenset(OPEN_STATUSES), CANCELLED),
    EventType.EXPIRED: (frozenset(OPEN_STATUSES), EXPIRED),
}
# Events that change no status, and the statuses an order may be in when they are recorded.
HAPPENS_IN: dict[str, frozenset[str]] = {
    EventType.PICKING: frozenset({PICKING}),
    EventType.LINE_NOT_FOUND: frozenset({PICKING}),
    EventType.LINES_CHANGED: frozenset({SUBMITTED}),
    EventType.CHECKED_IN: frozenset(OPEN_STATUSES),
    EventType.ESCALATED: frozenset({SUBMITTED}),
    EventType.REMINDED: frozenset({READY}),
    EventType.MESSAGE_RESENT: frozenset({READY}),
    EventType.PAID: frozenset({*OPEN_STATUSES, COMPLETED}),
    EventType.REFUNDED: frozenset(OrderStatus),
    # Recorded right after the change that made the refund due, the closing one included; an accepted
    # substitute may leave one due on an order put back in the queue.
    EventType.REFUND_DUE: frozenset({SUBMITTED, PICKING, *CLOSED_STATUSES}),
    EventType.SUBSTITUTE_PROPOSED: frozenset({PICKING}),
    EventType.SUBSTITUTE_ACCEPTED: frozenset({SUBMITTED, PICKING}),
    EventType.SUBSTITUTE_DECLINED: frozenset({SUBMITTED, PICKING}),
}


@dataclass
class ReplayedLine:
    unit_price: Decimal
    requested: int
    picked: int = 0
    short: int = 0
    rejected: int = 0
    proposed: bool = False  # a substitute waiting for the shopper's answer: no part of the total

    @property
    def wanted(self) -> int:
        return 0 if self.proposed else self.requested - self.short - self.rejected


@dataclass
class Replayed:
    """An order as its events say it is."""

    status: str = ""
    lines: dict[int, ReplayedLine] = field(default_factory=dict)
    paid: Decimal = ZERO
    refunded: Decimal = ZERO
    escalation_level: int = 0

    @property
    def total(self) -> Decimal:
        if self.status in (CANCELLED, EXPIRED):
            return ZERO
        return sum((line.unit_price * line.wanted for line in self.lines.values()), ZERO)

    @property
    def owed(self) -> Decimal:
        return max(self.total - (self.paid - self.refunded), ZERO)

    @property
    def refund_due(self) -> Decimal:
        return max(self.paid - self.refunded - self.total, ZERO)

    @property
    def payment_status(self) -> str:
        """As DESIGN.md defines it from the sums now: "paid" is nothing owed (a refund may be due)."""
        if self.paid == ZERO:
            return PaymentStatus.UNPAID
        if self.owed > ZERO:
            return PaymentStatus.UNPAID if self.paid == self.refunded else PaymentStatus.PARTIALLY_PAID
        if self.refunded == ZERO:
            return PaymentStatus.PAID
        return PaymentStatus.REFUNDED if self.refunded == self.paid else PaymentStatus.PARTIALLY_REFUNDED


def amount(value: str) -> Decimal:
    return Decimal(value)


class ReplayError(AssertionError):
    pass


def replay(events: list[dict[str, Any]], prices: dict[int, Decimal]) -> Replayed:
    """The order its events describe; raises ReplayError at the first event that does not follow."""
    order = Replayed()
    for index, event in enumerate(events):
        kind, payload = event["type"], event["payload"]
        where = f"event #{index} ({kind}, id {event['pk']}) {payload}"
        if index == 0:
            if kind != EventType.CREATED:
                raise ReplayError(f"the log starts with {where}, not order.created")
            order.status = SUBMITTED
            order.lines = {
                line["line_id"]: ReplayedLine(prices[line["line_id"]], line["qty"]) for line in payload["lines"]
            }
            continue
        if kind == EventType.CREATED:
            raise ReplayError(f"a second order.created: {where}")
        if kind in TRANSITIONS:
            from_statuses, to_status = TRANSITIONS[kind]
            if order.status not in from_statuses:
                raise ReplayError(f"{where} starts from {order.status}, not from {sorted(from_statuses)}")
        elif order.status in HAPPENS_IN[kind]:
            to_status = order.status
        else:
            raise ReplayError(f"{where} while the order was {order.status}")
        _apply(order, kind, payload, prices, where)
        order.status = to_status
    return order


def _apply(order: Replayed, kind: str, payload: dict[str, Any], prices: dict[int, Decimal], where: str) -> None:
    def expect(condition: bool, what: str) -> None:
        if not condition:
            raise ReplayError(f"{where}: {what}")

    match kind:
        case EventType.UNCLAIMED:
            order.escalation_level = 0
        case EventType.ESCALATED:
            expect(payload["level"] == order.escalation_level + 1, f"level after {order.escalation_level}")
            order.escalation_level = payload["level"]
        case EventType.PICKING:
            line = order.lines[payload["line_id"]]
            line.picked += payload["qty"]
            expect(line.picked == payload["picked_qty"], f"picked so far is {line.picked}")
            expect(line.picked + line.short <= line.requested, "more picked than requested")
        case EventType.LINE_NOT_FOUND:
            line = order.lines[payload["line_id"]]
            line.short += payload["qty"]
            expect(line.short == payload["short_qty"], f"short so far is {line.short}")
            expect(line.picked + line.short <= line.requested, "more found and not found than requested")
        case EventType.FULFILLED:
            expect(all(line.picked + line.short == line.requested for line in order.lines.values()), "units open")
        case EventType.LINES_CHANGED:
            for change in payload["changes"]:
                line = order.lines.get(change["line_id"])
                if line is None:
                    expect(change["from_qty"] == 0, "a new line that had units before")
                    line = order.lines[change["line_id"]] = ReplayedLine(prices[change["line_id"]], 0)
                expect(line.requested == change["from_qty"], f"from_qty, the line had {line.requested}")
                line.requested = change["to_qty"]
            expect(amount(payload["total"]) == order.total, f"total, replayed {order.total}")
        case EventType.SUBSTITUTE_PROPOSED:
            expect(payload["line_id"] not in order.lines, "a substitute offered twice")
            expect(order.lines[payload["for_line_id"]].short > 0, "a substitute for a line with nothing short")
            order.lines[payload["line_id"]] = ReplayedLine(prices[payload["line_id"]], payload["qty"], proposed=True)
        case EventType.SUBSTITUTE_ACCEPTED | EventType.SUBSTITUTE_DECLINED:
            line = order.lines[payload["line_id"]]
            expect(line.proposed, "an answer to a substitute already answered")
            line.proposed = False
            if kind == EventType.SUBSTITUTE_DECLINED:
                line.requested = 0
            expect(amount(payload["total"]) == order.total, f"total, replayed {order.total}")
        case EventType.COMPLETED:
            for rejection in payload["rejected"]:
                order.lines[rejection["line_id"]].rejected += rejection["qty"]
            accepted = {line["line_id"]: line["qty"] for line in payload["accepted"]}
            expect(set(accepted) == set(order.lines), "accepted lists every line")
            for line_id, line in order.lines.items():
                expect(accepted[line_id] == line.picked - line.rejected, f"accepted qty of line {line_id}")
                expect(0 <= line.rejected <= line.picked, f"rejected qty of line {line_id}")
        case EventType.PAID:
            order.paid += amount(payload["amount"])
            expect(amount(payload["paid_total"]) == order.paid, f"paid_total, replayed {order.paid}")
            expect(amount(payload["owed"]) == order.owed, f"owed, replayed {order.owed}")
            expect(order.paid - order.refunded <= order.total, f"paid more than the total {order.total}")
        case EventType.REFUNDED:
            order.refunded += amount(payload["amount"])
            expect(amount(payload["refunded_total"]) == order.refunded, f"refunded_total, replayed {order.refunded}")
            expect(amount(payload["refund_due"]) == order.refund_due, f"refund_due, replayed {order.refund_due}")
            expect(order.paid - order.refunded >= order.total, f"refunded more than was due on {order.total}")
        case EventType.REFUND_DUE:
            # Recorded right after what made it due (a short pick, a rejection, the order closing).
            expect(amount(payload["amount"]) == order.refund_due > 0, f"refund due, replayed {order.refund_due}")
        case _:
            pass


@dataclass
class World:
    """Everything one store's orders are, read in a handful of statements."""

    orders: list[dict[str, Any]]
    lines: dict[int, list[dict[str, Any]]]
    events: dict[int, list[dict[str, Any]]]
    reservations: dict[int, dict[str, Any]]  # by line id
    journal: dict[tuple[int, str], int]  # (line id, kind) → units
    payments: dict[int, list[dict[str, Any]]]
    levels: list[dict[str, Any]]

    @classmethod
    def load(cls, store_id: int) -> "World":
        orders = list(Order.objects.filter(store_id=store_id).order_by("pk").values())
        lines, events, payments = defaultdict(list), defaultdict(list), defaultdict(list)
        for line in OrderLine.objects.filter(order__store_id=store_id).order_by("pk").values():
            lines[line["order_id"]].append(line)
        for event in (
            OrderEvent.objects.filter(order__store_id=store_id)
            .order_by("pk")
            .values("pk", "order_id", "type", "payload", "created_at")
        ):
            events[event["order_id"]].append(event)
        for payment in Payment.objects.filter(order__store_id=store_id).order_by("pk").values():
            payments[payment["order_id"]].append(payment)
        reservations = {r["line_id"]: r for r in Reservation.objects.filter(order__store_id=store_id).values()}
        journal = {
            (row["line_id"], row["kind"]): row["units"]
            for row in ReservationEntry.objects.filter(order__store_id=store_id)
            .values("line_id", "kind")
            .annotate(units=Sum("qty"))
            .order_by()
        }
        levels = list(StockLevel.objects.filter(store_id=store_id).order_by("pk").values())
        return cls(orders, lines, events, reservations, journal, payments, levels)

    def consumed(self, stock_level_id: int) -> int:
        """Units of the level handed over to shoppers so far (the journal's consumptions)."""
        return sum(
            units
            for (line_id, kind), units in self.journal.items()
            if kind == ReservationKind.CONSUME and self.reservations[line_id]["stock_level_id"] == stock_level_id
        )


TIMERS_BY_STATUS = {  # the timer columns an order may have set in each status
    SUBMITTED: {"next_escalation_at", "expires_at"},
    PICKING: set(),  # substitute_due_at is checked on its own
    READY: {"remind_at", "expires_at"},
}


def problems(world: World, expected_on_hand: dict[int, int]) -> list[str]:
    """Every invariant the world breaks, as sentences; `expected_on_hand`: level id → the units the last
    count said, less those handed over since."""
    found: list[str] = []
    for order in world.orders:
        found += [f"order {order['id']} (#{order['number']}): {p}" for p in _order_problems(world, order)]
    held_by_level: dict[int, int] = defaultdict(int)
    for reservation in world.reservations.values():
        held_by_level[reservation["stock_level_id"]] += reservation["held_qty"]
    for level in world.levels:
        name = f"stock level {level['id']} (product {level['product_id']})"
        if level["reserved"] != held_by_level[level["id"]]:
            found.append(f"{name}: reserved {level['reserved']} != {held_by_level[level['id']]} held by reservations")
        if level["reserved"] < 0 or level["on_hand"] < 0:
            found.append(f"{name}: negative stock, on hand {level['on_hand']}, reserved {level['reserved']}")
        if level["id"] in expected_on_hand and level["on_hand"] != expected_on_hand[level["id"]]:
            found.append(
                f"{name}: on hand {level['on_hand']}, the count less the handed over is {expected_on_hand[level['id']]}"
            )
    return found


def _order_problems(world: World, order: dict[str, Any]) -> list[str]:
    lines = world.lines[order["id"]]
    try:
        replayed = replay(world.events[order["id"]], {line["id"]: line["unit_price"] for line in lines})
    except ReplayError as broken:
        return [f"the event log does not replay: {broken}"]
    found = []

    def expect(condition: bool, what: str) -> None:
        if not condition:
            found.append(what)

    status = order["status"]
    expect(replayed.status == status, f"status {status}, its events say {replayed.status}")
    expect(set(replayed.lines) == {line["id"] for line in lines}, "its lines are not the lines its events made")
    for line in lines:
        again = replayed.lines.get(line["id"])
        got = (line["requested_qty"], line["picked_qty"], line["short_qty"], line["rejected_qty"])
        if again is not None:
            said = (again.requested, again.picked, again.short, again.rejected)
            expect(got == said, f"line {line['id']} (requested, picked, short, rejected) {got}, its events say {said}")
        found += [f"line {line['id']}: {p}" for p in _reservation_problems(world, line, status)]
    expect(order["held_units"] == sum(line["requested_qty"] for line in lines), "held_units != units requested")
    expect(order["escalation_level"] == replayed.escalation_level, "escalation level != its events' last level")

    totals = (order["total_amount"], order["paid_amount"], order["refunded_amount"])
    expect(
        totals == (replayed.total, replayed.paid, replayed.refunded),
        f"(total, paid, refunded) {totals}, replayed {(replayed.total, replayed.paid, replayed.refunded)}",
    )
    payments = world.payments[order["id"]]
    rows = {kind: sum((p["amount"] for p in payments if p["kind"] == kind), ZERO) for kind in PaymentKind}
    expect((rows[PaymentKind.PAYMENT], rows[PaymentKind.REFUND]) == totals[1:], f"payment rows add up to {rows}")
    events = {event["pk"]: event for event in world.events[order["id"]]}
    for payment in payments:
        event = events.get(payment["event_id"])
        kind = EventType.PAID if payment["kind"] == PaymentKind.PAYMENT else EventType.REFUNDED
        expect(
            event is not None and event["type"] == kind and amount(event["payload"]["amount"]) == payment["amount"],
            f"payment {payment['id']} is not announced by its own {kind} event",
        )
    expect(ZERO <= order["refunded_amount"] <= order["paid_amount"], "refunded more than was paid")
    # Whatever changed the total last (a payment, a line edit, a short pick, a rejection, the close).
    expect(
        order["payment_status"] == replayed.payment_status,
        f"payment status {order['payment_status']}, its sums say {replayed.payment_status}",
    )

    timers = {timer for timer in ("next_escalation_at", "remind_at", "expires_at") if order[timer] is not None}
    waiting = [line["decide_by"] for line in lines if line["substitution"] == "proposed"]
    if status in (SUBMITTED, PICKING):
        expect(order["substitute_due_at"] == min(waiting, default=None), "substitute_due_at != the first decide_by")
    else:
        expect(order["substitute_due_at"] is None, f"{status} with substitutes' timer set")
    expect(timers <= TIMERS_BY_STATUS.get(status, set()), f"{status} with timers {sorted(timers)} set")
    expect(status != SUBMITTED or order["expires_at"] is not None, "waiting for a picker with no expiry")
    expect((status in CLOSED_STATUSES) == (order["closed_at"] is not None), "closed_at does not match the status")
    return found


def _reservation_problems(world: World, line: dict[str, Any], status: str) -> list[str]:
    reservation = world.reservations.get(line["id"])
    if reservation is None:
        return ["holds no reservation"]
    held, released, consumed = reservation["held_qty"], reservation["released_qty"], reservation["consumed_qty"]
    journal = {kind: world.journal.get((line["id"], kind), 0) for kind in ReservationKind}
    found = []
    if line["requested_qty"] != held + released + consumed:
        found.append(f"requested {line['requested_qty']} != held {held} + released {released} + consumed {consumed}")
    in_journal = journal[ReservationKind.HOLD] - journal[ReservationKind.RELEASE] - journal[ReservationKind.CONSUME]
    if held != in_journal:
        found.append(f"holds {held}, its journal says {in_journal}")
    if consumed != journal[ReservationKind.CONSUME]:
        found.append(f"consumed {consumed}, its journal says {journal[ReservationKind.CONSUME]}")
    should_hold = line["requested_qty"] - line["short_qty"] if status in OPEN_STATUSES else 0
    if held != should_hold:
        found.append(f"{status} order's line holds {held}, not {should_hold}")
    should_consume = line["picked_qty"] - line["rejected_qty"] if status == COMPLETED else 0
    if consumed != should_consume:
        found.append(f"{status} order's line consumed {consumed}, not {should_consume}")
    return found

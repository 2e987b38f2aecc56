"""Stock held by order lines. StockLevel.reserved moves only here, always with its Reservation rows and
the order's reservation journal (ReservationEntry), in the caller's transaction.

Per reservation: requested = held + released + consumed, and held = Σ holds - Σ releases - Σ consumptions
in the journal. Stock rows are updated in primary-key order so that two transactions never wait on each
other in a cycle (PostgreSQL would abort one as a deadlock).
"""

from collections.abc import Iterable, Sequence

from django.db.models import F
from django.db.models.functions import Greatest

from shelfcall.catalog.models import StockLevel
from shelfcall.core import clock
from shelfcall.orders.events import Actor
from shelfcall.orders.models import Reservation, ReservationEntry, ReservationKind, ReservationReason


def hold(moves: Sequence[tuple[Reservation, int]], *, reason: ReservationReason, by: Actor) -> list[int]:
    """Reserve `qty` more units for each reservation (new ones, unsaved, start at 0 held); return the stock
    levels that fell short, writing nothing of the reservations then.

    Each hold is one conditional UPDATE, so two shoppers racing for the last unit cannot both win.
    The caller must roll back its transaction when the returned list is not empty.
    """
    short = []
    for reservation, qty in sorted(moves, key=lambda move: move[0].stock_level_id):
        won = StockLevel.objects.filter(pk=reservation.stock_level_id, on_hand__gte=F("reserved") + qty).update(
            reserved=F("reserved") + qty
        )
        if not won:
            short.append(reservation.stock_level_id)
    if short:
        return short
    existing = [reservation for reservation, _qty in moves if reservation.pk is not None]
    for reservation, qty in moves:
        reservation.held_qty += qty
    Reservation.objects.bulk_create([reservation for reservation, _qty in moves if reservation.pk is None])
    Reservation.objects.bulk_update(existing, ["held_qty"])
    _journal([(reservation, ReservationKind.HOLD, qty) for reservation, qty in moves], reason, by)
    return []


def withdraw(moves: Iterable[tuple[Reservation, int]], *, reason: ReservationReason, by: Actor) -> None:
    """The line asks for fewer units: they go back to the shelf and the reservation holds fewer. Requested
    drops with held (the caller lowers the line), so they are not counted as released."""
    moves = [(reservation, qty) for reservation, qty in sorted(moves, key=_by_level) if qty]
    for reservation, qty in moves:
        StockLevel.objects.filter(pk=reservation.stock_level_id).update(reserved=F("reserved") - qty)
        reservation.held_qty -= qty
    Reservation.objects.bulk_update([reservation for reservation, _qty in moves], ["held_qty"])
    _journal([(reservation, ReservationKind.RELEASE, qty) for reservation, qty in moves], reason, by)


def release(reservations: Iterable[tuple[Reservation, int]], *, reason: ReservationReason, by: Actor) -> None:
    """Give back `qty` units of each reservation to the shelf."""
    settle(((reservation, 0, qty) for reservation, qty in reservations), reason=reason, by=by)


def settle(
    moves: Iterable[tuple[Reservation, int, int]],
    *,
    reason: ReservationReason,
    by: Actor,
    release_reason: ReservationReason | None = None,
) -> None:
    """For each (reservation, consumed, released): consumed units leave the store, released go back.

    `release_reason` tells the released units' reason apart when it is not `reason` (hand-off: the
    accepted units are handed over, the turned-down ones go back)."""
    changed, entries = [], []
    for reservation, consumed, released in sorted(moves, key=lambda move: move[0].stock_level_id):
        if not consumed and not released:
            continue
        # Never below 0: units handed over beyond the last count (catalog.imports) mean the count was short.
        StockLevel.objects.filter(pk=reservation.stock_level_id).update(
            on_hand=Greatest(F("on_hand") - consumed, 0), reserved=F("reserved") - consumed - released
        )
        reservation.held_qty -= consumed + released
        reservation.consumed_qty += consumed
        reservation.released_qty += released
        changed.append(reservation)
        entries += [(reservation, ReservationKind.CONSUME, consumed), (reservation, ReservationKind.RELEASE, released)]
    if changed:
        Reservation.objects.bulk_update(changed, ["held_qty", "consumed_qty", "released_qty"])
    _journal(entries, reason, by, release_reason=release_reason)


def release_all(order_id: int, *, reason: ReservationReason, by: Actor) -> None:
    held = Reservation.objects.filter(order_id=order_id, held_qty__gt=0)
    release(((reservation, reservation.held_qty) for reservation in held), reason=reason, by=by)


def _by_level(move: tuple[Reservation, int]) -> int:
    return move[0].stock_level_id


def _journal(
    moves: Iterable[tuple[Reservation, ReservationKind, int]],
    reason: ReservationReason,
    by: Actor,
    *,
    release_reason: ReservationReason | None = None,
) -> None:
    """One INSERT for every move of the call; moves of 0 units are not written."""
    now = clock.now()
    ReservationEntry.objects.bulk_create(
        ReservationEntry(
            order_id=reservation.order_id,
            line_id=reservation.line_id,
            stock_level_id=reservation.stock_level_id,
            kind=kind,
            qty=qty,
            reason=release_reason if release_reason and kind == ReservationKind.RELEASE else reason,
            created_at=now,
            actor_kind=by.kind,
            actor_label=by.label[:120],
        )
        for reservation, kind, qty in moves
        if qty
    )

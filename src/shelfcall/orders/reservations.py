"""Stock held by order lines. StockLevel.reserved moves only here, always with its Reservation rows and
the order's reservation journal (ReservationEntry), in the caller's transaction.

Per reservation: requested = held + released + consumed, and held = Σ holds - Σ releases - Σ consumptions
in the journal. The stock levels of one call are written by one UPDATE … FROM (VALUES …) and the
reservations by another, whatever the number of lines. On PostgreSQL that UPDATE first locks its stock
rows in primary-key order, so two transactions never wait on each other in a cycle (PostgreSQL would
abort one as a deadlock); SQLite has one writer at a time.
"""

from collections import Counter
from collections.abc import Iterable, Sequence

from django.db import connection

from shelfcall.catalog.models import StockLevel
from shelfcall.core import clock
from shelfcall.orders.compiled import CompiledInsert
from shelfcall.orders.events import Actor
from shelfcall.orders.models import Reservation, ReservationEntry, ReservationKind, ReservationReason

# Every order holds, and hands over or releases, its stock: these INSERTs are compiled once (orders/compiled.py).
_INSERT_RESERVATIONS = CompiledInsert(Reservation)
_INSERT_ENTRIES = CompiledInsert(ReservationEntry)


def hold(moves: Sequence[tuple[Reservation, int]], *, reason: ReservationReason, by: Actor) -> list[int]:
    """Reserve `qty` more units for each reservation (new ones, unsaved, start at 0 held); return the stock
    levels that fell short, writing nothing of the reservations then.

    One conditional UPDATE holds them all, each level only while `on_hand >= reserved + qty` (checked on
    the row as it is once locked), so two shoppers racing for the last unit cannot both win. The caller
    must roll back its transaction when the returned list is not empty.
    """
    wanted: Counter[int] = Counter()
    for reservation, qty in moves:
        wanted[reservation.stock_level_id] += qty
    held = _update_stock(
        "reserved = {t}.reserved + m.column2", wanted.items(), where="{t}.on_hand >= {t}.reserved + m.column2"
    )
    if short := sorted(set(wanted) - held):
        return short
    existing = [reservation for reservation, _qty in moves if reservation.pk is not None]
    for reservation, qty in moves:
        reservation.held_qty += qty
    _INSERT_RESERVATIONS.create_many(reservation for reservation, _qty in moves if reservation.pk is None)
    Reservation.objects.bulk_update(existing, ["held_qty"])
    _journal([(reservation, ReservationKind.HOLD, qty) for reservation, qty in moves], reason, by)
    return []


def withdraw(moves: Iterable[tuple[Reservation, int]], *, reason: ReservationReason, by: Actor) -> None:
    """The line asks for fewer units: they go back to the shelf and the reservation holds fewer. Requested
    drops with held (the caller lowers the line), so they are not counted as released."""
    moves = [(reservation, qty) for reservation, qty in moves if qty]
    _update_stock("reserved = {t}.reserved - m.column2", [(r.stock_level_id, qty) for r, qty in moves])
    for reservation, qty in moves:
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
    moves = [(reservation, consumed, released) for reservation, consumed, released in moves if consumed or released]
    if not moves:
        return
    # Never below 0: units handed over beyond the last count (catalog.imports) mean the count was short.
    _update_stock(
        "on_hand = CASE WHEN {t}.on_hand > m.column2 THEN {t}.on_hand - m.column2 ELSE 0 END, "
        "reserved = {t}.reserved - m.column2 - m.column3",
        [(reservation.stock_level_id, consumed, released) for reservation, consumed, released in moves],
    )
    _update_from_values(
        Reservation._meta.db_table,
        "held_qty = {t}.held_qty - m.column2 - m.column3, consumed_qty = {t}.consumed_qty + m.column2, "
        "released_qty = {t}.released_qty + m.column3",
        [(reservation.pk, consumed, released) for reservation, consumed, released in moves],
    )
    entries = []
    for reservation, consumed, released in moves:
        reservation.held_qty -= consumed + released
        reservation.consumed_qty += consumed
        reservation.released_qty += released
        entries += [(reservation, ReservationKind.CONSUME, consumed), (reservation, ReservationKind.RELEASE, released)]
    _journal(entries, reason, by, release_reason=release_reason)


def release_all(order_id: int, *, reason: ReservationReason, by: Actor) -> None:
    held = Reservation.objects.filter(order_id=order_id, held_qty__gt=0)
    release(((reservation, reservation.held_qty) for reservation in held), reason=reason, by=by)


def _update_stock(assignments: str, rows: Iterable[tuple[int, ...]], *, where: str = "") -> set[int]:
    """Update the stock levels named by each row's first value; return the ids of those updated.

    On PostgreSQL the rows are first locked in id order (the same order in every transaction), then
    updated: `where` is checked on each row as it is once locked."""
    rows = sorted(rows)
    if not rows:
        return set()
    table = StockLevel._meta.db_table
    lock_first, lock_params = "", []
    if connection.vendor == "postgresql":
        lock_first = (
            f"WITH locked AS MATERIALIZED (SELECT id FROM {table} WHERE id IN ({', '.join(['%s'] * len(rows))}) "  # noqa: S608
            "ORDER BY id FOR UPDATE) "
        )
        lock_params = [row[0] for row in rows]
        where = " AND ".join(filter(None, [where, "{t}.id IN (SELECT id FROM locked)"]))
    return _update_from_values(table, assignments, rows, where=where, prefix=lock_first, prefix_params=lock_params)


def _update_from_values(
    table: str,
    assignments: str,
    rows: Sequence[tuple[int, ...]],
    *,
    where: str = "",
    prefix: str = "",
    prefix_params: Sequence[int] = (),
) -> set[int]:
    """One UPDATE of `table` for every (id, value, …) row, the values read as m.column2, m.column3, …
    (the names PostgreSQL and SQLite both give a VALUES list's columns); `{t}` stands for the table.
    Returns the ids of the rows updated."""
    width = len(rows[0])
    values = ", ".join(["(" + ", ".join(["%s"] * width) + ")"] * len(rows))
    condition = " AND ".join(filter(None, ["{t}.id = m.column1", where]))
    sql = (
        f"{prefix}UPDATE {{t}} SET {assignments} FROM (VALUES {values}) AS m "  # noqa: S608
        f"WHERE {condition} RETURNING {{t}}.id"
    ).replace("{t}", table)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*prefix_params, *(value for row in rows for value in row)])
        return {row[0] for row in cursor.fetchall()}


def _journal(
    moves: Iterable[tuple[Reservation, ReservationKind, int]],
    reason: ReservationReason,
    by: Actor,
    *,
    release_reason: ReservationReason | None = None,
) -> None:
    """One INSERT for every move of the call; moves of 0 units are not written."""
    now = clock.now()
    _INSERT_ENTRIES.create_many(
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

"""Stock held by order lines. StockLevel.reserved moves only here, always with its Reservation rows.

Stock rows are updated in primary-key order so that two transactions never wait on each other in a
cycle (PostgreSQL would abort one as a deadlock).
"""

from collections.abc import Iterable, Mapping

from django.db.models import F

from shelfcall.catalog.models import StockLevel
from shelfcall.orders.models import Reservation


def hold(levels: Mapping[int, StockLevel], wanted: Mapping[int, int]) -> list[int]:
    """Reserve `wanted[product_id]` units on each level; return the products that fell short.

    Each hold is one conditional UPDATE, so two shoppers racing for the last unit cannot both win.
    The caller must roll back its transaction when the returned list is not empty.
    """
    short = []
    for product_id, level in sorted(levels.items(), key=lambda item: item[1].pk):
        qty = wanted[product_id]
        won = StockLevel.objects.filter(pk=level.pk, on_hand__gte=F("reserved") + qty).update(
            reserved=F("reserved") + qty
        )
        if not won:
            short.append(product_id)
    return short


def release(reservations: Iterable[tuple[Reservation, int]]) -> None:
    """Give back `qty` units of each reservation to the shelf."""
    settle((reservation, 0, qty) for reservation, qty in reservations)


def settle(moves: Iterable[tuple[Reservation, int, int]]) -> None:
    """For each (reservation, consumed, released): consumed units leave the store, released go back."""
    changed = []
    for reservation, consumed, released in sorted(moves, key=lambda move: move[0].stock_level_id):
        if not consumed and not released:
            continue
        StockLevel.objects.filter(pk=reservation.stock_level_id).update(
            on_hand=F("on_hand") - consumed, reserved=F("reserved") - consumed - released
        )
        reservation.held_qty -= consumed + released
        reservation.consumed_qty += consumed
        reservation.released_qty += released
        changed.append(reservation)
    if changed:
        Reservation.objects.bulk_update(changed, ["held_qty", "consumed_qty", "released_qty"])


def release_all(order_id: int) -> None:
    held = Reservation.objects.filter(order_id=order_id, held_qty__gt=0)
    release((reservation, reservation.held_qty) for reservation in held)

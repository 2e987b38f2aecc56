"""The one writer of on-hand counts (outside orders/reservations.py, which moves `reserved` and settles
handed-over units). Everything that counts the shelf comes here: the admin, the ERP import, the demo seed.

Each write is one statement that sets `on_hand` and nothing else, the row as it is when locked, never a
read-modify-write of the whole row: an order holding units meanwhile keeps them (`reserved` is never
written here, except 0 on a level created). A count below what open orders hold is taken as sent and
reported back as oversold: availability shows 0 (StockLevel.available) until the count or the orders
change, and the caller tells whoever counted.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from shelfcall.catalog import bulk
from shelfcall.catalog.models import StockLevel
from shelfcall.core.errors import ShelfcallError

MAX_ON_HAND = 1_000_000_000

_TABLE = StockLevel._meta.db_table
_COLUMNS = (("store_id", "bigint"), ("product_id", "bigint"), ("on_hand", "integer"), ("reserved", "integer"))
_ON_CONFLICT = (
    "ON CONFLICT (store_id, product_id) DO UPDATE SET on_hand = excluded.on_hand "
    "RETURNING id, store_id, product_id, on_hand, reserved"
)


@dataclass(frozen=True)
class LevelCount:
    """A stock level as the write left it."""

    level_id: int
    store_id: int
    product_id: int
    on_hand: int
    reserved: int

    @property
    def oversold(self) -> bool:
        """Open orders hold more than the count: someone must recount, or some orders cannot be fulfilled."""
        return self.on_hand < self.reserved


class InvalidCount(ShelfcallError):
    code = "invalid_count"


def set_on_hand(store_id: int, product_id: int, on_hand: int) -> LevelCount:
    """The product's count in the store, creating its stock level if it has none."""
    counts = set_on_hand_of_levels([StockLevel(store_id=store_id, product_id=product_id, on_hand=on_hand)])
    return counts[store_id, product_id]


def set_on_hand_of_levels(levels: Iterable[StockLevel]) -> dict[tuple[int, int], LevelCount]:
    """Set each level's `on_hand`, by (store, product), creating those that do not exist: one
    `INSERT … ON CONFLICT DO UPDATE SET on_hand` a batch; the levels as written, by (store, product).
    Known levels (with a pk) are written first, in primary-key order as reservations lock them, so two
    writers never wait on each other in a cycle."""
    levels = sorted(levels, key=lambda level: (level.pk is None, level.pk or 0, level.store_id, level.product_id))
    for level in levels:
        _check(level.on_hand)
    rows = [(level.store_id, level.product_id, level.on_hand, 0) for level in levels]
    written = (LevelCount(*row) for row in bulk.upsert(_TABLE, _COLUMNS, rows, tail=_ON_CONFLICT))
    return {(count.store_id, count.product_id): count for count in written}


def _check(on_hand: int) -> None:
    if not 0 <= on_hand <= MAX_ON_HAND:
        raise InvalidCount(
            _("A count is between 0 and %(max)s units; %(count)s is not.") % {"max": MAX_ON_HAND, "count": on_hand},
            field="on_hand",
        )

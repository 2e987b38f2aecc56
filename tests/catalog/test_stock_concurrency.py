"""Counts set while orders hold the same units, on PostgreSQL where they really run at once."""

import pytest
from django.db import transaction

from shelfcall.catalog import stock
from shelfcall.catalog.models import StockLevel
from shelfcall.orders.models import Reservation
from tests.factories import make_product, make_showcase, make_store, stock_of, submit
from tests.orders.test_concurrency import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _count(levels: list[StockLevel], on_hand: int) -> None:
    with transaction.atomic():
        stock.set_on_hand_of_levels(
            StockLevel(pk=level.pk, store_id=level.store_id, product_id=level.product_id, on_hand=on_hand)
            for level in levels
        )


def test_counts_and_holds_of_the_same_levels_at_once_keep_every_held_unit():
    """Counts name the levels in either order and orders hold both: no deadlock, no hold lost."""
    store = make_store()
    first, second = make_product(store, on_hand=50), make_product(store, on_hand=50)
    showcase = make_showcase(store, products=[first, second])
    levels = [stock_of(first, store), stock_of(second, store)]

    results = race(
        [
            lambda: _count(levels, 40),
            lambda: _count(levels[::-1], 40),
            *[lambda: submit(showcase, {first: 2, second: 3}, contact=None) for _ in range(4)],
        ]
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    for product, each in [(first, 2), (second, 3)]:
        level = stock_of(product, store)
        held = sum(Reservation.objects.filter(stock_level=level).values_list("held_qty", flat=True))
        assert (level.on_hand, level.reserved, held) == (40, 4 * each, 4 * each)

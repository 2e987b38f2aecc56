"""Bugs the lifecycle state machine (test_lifecycle_state_machine.py) found, each as the shortest
sequence of actions that showed it."""

import pytest

from shelfcall.catalog.imports import StockRow, upsert_stock
from shelfcall.orders import actions
from shelfcall.orders.errors import ActionNotAllowed
from shelfcall.orders.events import SHOPPER
from shelfcall.orders.models import Payment
from shelfcall.stores.models import Role
from tests.factories import TILL, make_product, make_showcase, make_store, staff, staged, stock_of, submit

pytestmark = pytest.mark.django_db


class TestStock:
    def test_handing_over_more_than_the_last_count_leaves_none_on_hand_not_fewer(self):
        # The ERP counts none while an order holds one, then the associate hands that one over: the count
        # was short, and on hand says 0 until the next count (it said -1).
        store = make_store()
        product = make_product(store, on_hand=4)
        order = submit(make_showcase(store, products=[product]), {product: 1})
        ana = staff(store)
        staged(order, ana)
        counted = upsert_stock(
            store.organization_id, [(0, StockRow(sku=product.sku, on_hand=0))], only_store_id=store.pk
        )
        assert [level.sku for level in counted.oversold] == [product.sku]
        actions.mark_paid(order.pk, by=TILL)
        actions.hand_off_order(order.pk, by=ana)
        level = stock_of(product, store)
        assert (level.on_hand, level.reserved, level.available) == (0, 0, 0)


class TestRefunds:
    def test_only_a_supervisor_or_a_store_system_settles_a_refund(self):
        # refund_order did not ask the policy: an associate, even one of another store, could refund.
        store = make_store()
        order = submit(make_showcase(store))
        actions.mark_paid(order.pk, by=TILL)
        actions.cancel_order(order.pk, by=SHOPPER)
        outsider = staff(make_store(organization=store.organization), "Olga")
        for refuser in (staff(store, "Ana"), outsider, SHOPPER):
            with pytest.raises(ActionNotAllowed):
                actions.refund_order(order.pk, by=refuser)
        assert not Payment.objects.filter(order=order, kind="refund").exists()
        assert actions.refund_order(order.pk, by=staff(store, "Sam", Role.SUPERVISOR)).amount == order.total_amount

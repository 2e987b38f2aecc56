"""The cart page and the submit name the same problem for the same line: both ask orders.line_checks."""

from decimal import Decimal

import pytest
from django.contrib.sessions.backends.cache import SessionStore

from shelfcall.catalog.models import Product, ShowcaseItem
from shelfcall.orders.actions import ShopperContact, submit_showcase_order
from shelfcall.orders.errors import CartProblems
from shelfcall.shopper.cart import Cart, cart_rows
from tests.factories import make_product, make_showcase, make_store

pytestmark = pytest.mark.django_db


def _sold_out(product, showcase):
    product.stock_levels.update(on_hand=0)


def _two_left(product, showcase):
    product.stock_levels.update(on_hand=2)


def _price_up(product, showcase):
    Product.objects.filter(pk=product.pk).update(price=Decimal("12.00"))


def _off_the_showcase(product, showcase):
    ShowcaseItem.objects.filter(showcase=showcase, product=product).update(active=False)


def _nothing(product, showcase):
    pass


@pytest.mark.parametrize(
    ("qty", "change", "code"),
    [
        (1, _sold_out, "out_of_stock"),
        (3, _two_left, "not_enough"),
        (1, _price_up, "price_changed"),
        (1, _off_the_showcase, "unavailable"),
        (6, _nothing, "over_line_max"),  # the store's max_line_qty is 5 (and 9 are on hand)
        (6, _sold_out, "over_line_max"),  # both wrong: both name the same one first
        (0, _nothing, "bad_quantity"),
    ],
)
def test_cart_and_submit_name_the_same_problem(qty, change, code):
    store = make_store(max_order_qty=20)
    product = make_product(store, on_hand=9)
    showcase = make_showcase(store, products=[product])
    cart = Cart(SessionStore(), showcase.code)
    cart.add(product, qty)
    change(product, showcase)

    [row] = cart_rows(showcase, cart)
    with pytest.raises(CartProblems) as refused:
        submit_showcase_order(showcase, cart.as_order_lines(), contact=ShopperContact(), submission_key="k")

    assert row.problem is not None and row.problem.code == code
    assert [(p.code, p.message) for p in refused.value.problems] == [(row.problem.code, row.problem.message)]

"""What is wrong with one line of an order, for the cart page, the showcase submit, the API and line edits
alike: one function, so the cart never names another problem than the submit would for the same line."""

from collections import Counter
from collections.abc import Sequence
from decimal import Decimal

from django.utils.translation import gettext as _

from shelfcall.catalog.models import Product
from shelfcall.orders.errors import CartProblems, LineProblem
from shelfcall.stores.models import Store


def line_problem(
    product_id: int,
    qty: int,
    *,
    product: Product | None,
    available: int,
    store: Store,
    seen_price: Decimal | None = None,
) -> LineProblem | None:
    """`product` None: not offered (not on the showcase, inactive, or not in the catalogue). `seen_price`:
    the price the shopper agreed to (showcase orders); None when the order is priced from the catalogue."""
    if product is None:
        return LineProblem(product_id, "unavailable", _("This item is no longer offered here. Remove it to go on."))
    if qty < 1:
        return LineProblem(product_id, "bad_quantity", _("Choose a quantity of 1 or more."))
    if qty > store.max_line_qty:
        return LineProblem(
            product_id,
            "over_line_max",
            _("You can request at most %(max)s of this item.") % {"max": store.max_line_qty},
        )
    if problem := stock_problem(product_id, qty, available):
        return problem
    if seen_price is not None and product.price != seen_price:
        return LineProblem(product_id, "price_changed", _("The price changed. Check the new price, then send again."))
    return None


def stock_problem(product_id: int, qty: int, available: int) -> LineProblem | None:
    return shortage(product_id, available) if qty > available else None


def shortage(product_id: int, available: int) -> LineProblem:
    """Fewer units are free than the line asks for."""
    if available <= 0:
        return LineProblem(product_id, "out_of_stock", _("Sold out. Remove it to go on."), available=0)
    return LineProblem(
        product_id,
        "not_enough",
        _("Only %(count)s left. Lower the quantity.") % {"count": available},
        available=available,
    )


def check_order_size(store: Store, product_ids: Sequence[int], units: int) -> None:
    """What no order may be, whatever its lines: empty, a product twice, more units than the store allows."""
    if not product_ids:
        raise CartProblems([], _("Your cart is empty. Add a product first."))
    if twice := [pid for pid, times in Counter(product_ids).items() if times > 1]:
        raise CartProblems(
            [
                LineProblem(
                    pid, "duplicate", _("This item is in the order twice; give it once with the total quantity.")
                )
                for pid in twice
            ]
        )
    if units > store.max_order_qty:
        raise CartProblems(
            [],
            _("You can request at most %(max)s items in one order. Remove some and send the rest.")
            % {"max": store.max_order_qty},
        )

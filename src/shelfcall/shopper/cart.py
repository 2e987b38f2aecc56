"""The shopper's cart, kept in their session: a reload or a dropped connection loses nothing.

The session is a cookie (core/sessions.py), which a browser drops without a word past 4 KB: so a
session keeps the carts of the few showcases changed last, each of a bounded number of products
(tests/shopper/test_session_size.py proves the worst case fits)."""

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.sessions.backends.base import SessionBase

from shelfcall.catalog.models import Product, Showcase
from shelfcall.catalog.queries import Offer, list_offers
from shelfcall.orders.actions import CartLine
from shelfcall.orders.errors import LineProblem
from shelfcall.orders.line_checks import line_problem

SESSION_KEY = "shelfcall_carts"
MAX_LINES = 30  # different products in one cart
KEPT_CARTS = 3  # showcases whose carts a session keeps: those changed last


class Cart:
    """One cart per showcase: {"key": submission key, "lines": {product_id: {"qty": n, "price": "9.99"}}}."""

    def __init__(self, session: SessionBase, showcase_code: str) -> None:
        self._session = session
        self._showcase_code = showcase_code
        # Only read here: a visit that puts nothing in the cart must not write the session.
        stored = session.get(SESSION_KEY, {}).get(showcase_code)
        self._data = stored or {"key": secrets.token_urlsafe(16), "lines": {}}

    @property
    def submission_key(self) -> str:
        return self._data["key"]

    @property
    def lines(self) -> dict[str, dict]:
        return self._data["lines"]

    @property
    def unit_count(self) -> int:
        return sum(line["qty"] for line in self.lines.values())

    def qty_of(self, product_id: int) -> int:
        return self.lines.get(str(product_id), {}).get("qty", 0)

    def has_room_for(self, product_id: int) -> bool:
        return str(product_id) in self.lines or len(self.lines) < MAX_LINES

    def add(self, product: Product, qty: int = 1) -> None:
        line = self.lines.setdefault(str(product.pk), {"qty": 0, "price": str(product.price)})
        line["qty"] += qty
        self._changed()

    def set_qty(self, product_id: int, qty: int) -> None:
        if str(product_id) in self.lines:
            self.lines[str(product_id)]["qty"] = qty
            self._changed()

    def accept_price(self, product: Product) -> None:
        if str(product.pk) in self.lines:
            self.lines[str(product.pk)]["price"] = str(product.price)
            self._changed()

    def remove(self, product_id: int) -> None:
        if self.lines.pop(str(product_id), None) is not None:
            self._changed()

    def start_over(self) -> None:
        """After a successful submit: empty, with a new key so the next cart makes a new order."""
        self._data.update(key=secrets.token_urlsafe(16), lines={})
        self._changed()

    def as_order_lines(self) -> list[CartLine]:
        return [
            CartLine(product_id=int(pid), qty=line["qty"], seen_price=Decimal(line["price"]))
            for pid, line in self.lines.items()
        ]

    def _changed(self) -> None:
        """This cart becomes the last changed; the carts of older showcases beyond KEPT_CARTS go."""
        carts = {code: cart for code, cart in self._session.get(SESSION_KEY, {}).items() if code != self._showcase_code}
        carts[self._showcase_code] = self._data
        self._session[SESSION_KEY] = dict(list(carts.items())[-KEPT_CARTS:])


@dataclass(frozen=True)
class CartRow:
    product_id: int
    qty: int
    seen_price: Decimal
    offer: Offer | None  # None: no longer on this showcase
    problem: LineProblem | None

    @property
    def line_total(self) -> Decimal:
        return self.seen_price * self.qty


def cart_rows(showcase: Showcase, cart: Cart, problems: Sequence[LineProblem] = ()) -> list[CartRow]:
    """The cart against the showcase as it is now, each line with what (if anything) is wrong with it."""
    offers = {offer.product.pk: offer for offer in list_offers(showcase, [int(pid) for pid in cart.lines])}
    reported = {problem.product_id: problem for problem in problems}
    rows = []
    for pid, line in cart.lines.items():
        product_id, seen = int(pid), Decimal(line["price"])
        offer = offers.get(product_id)
        problem = reported.get(product_id) or _current_problem(showcase, product_id, line["qty"], seen, offer)
        rows.append(CartRow(product_id, line["qty"], seen, offer, problem))
    return rows


def _current_problem(
    showcase: Showcase, product_id: int, qty: int, seen: Decimal, offer: Offer | None
) -> LineProblem | None:
    """The very check the submit makes (orders.line_checks), against the showcase as it is now."""
    return line_problem(
        product_id,
        qty,
        product=offer.product if offer else None,
        available=offer.available if offer else 0,
        store=showcase.store,
        seen_price=seen,
    )

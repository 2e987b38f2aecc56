"""The session is a cookie, which browsers drop without a word past about 4 KB (and the shopper's
cart with it): at its largest it must stay well under that, and what bounds it must hold."""

import random
import string
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.http import HttpResponse
from django.test import Client

from shelfcall.catalog.models import Product
from shelfcall.core import sessions
from shelfcall.setup import first_password
from shelfcall.shopper import devices
from shelfcall.shopper.cart import KEPT_CARTS, MAX_LINES, Cart
from shelfcall.stores.idle import LAST_SEEN_KEY
from shelfcall.stores.signin import PIN_BACKEND, PIN_HASH_SESSION_KEY
from shelfcall.workspace.views.access import STORE_KEY
from tests.factories import make_product, make_showcase, make_store

SAFE_COOKIE = 3800  # bytes of the whole Set-Cookie value; browsers keep at least 4096
BIGGEST_QTY = 32767  # the largest limit a store can set (a small positive integer)


def set_cookie_header(session: sessions.SessionStore) -> str:
    """The Set-Cookie value SessionMiddleware would send for `session`, every attribute included."""
    session.save()
    response = HttpResponse()
    response.set_cookie(
        settings.SESSION_COOKIE_NAME,
        session.session_key,
        max_age=settings.SESSION_COOKIE_AGE,
        expires="Sun, 29 Nov 2026 09:59:59 GMT",
        domain="shelfcall.store-of-a-long-name.example.com",
        path=settings.SESSION_COOKIE_PATH,
        secure=True,
        httponly=True,
        samesite="Lax",
    )
    return response.cookies[settings.SESSION_COOKIE_NAME].OutputString()


def worst_case_session() -> sessions.SessionStore:
    """Everything the session can hold, each at its largest, of data that compresses badly."""
    draw = random.Random(12)  # fixed: the same session on every run
    session = sessions.SessionStore()
    for _ in range(KEPT_CARTS + 2):  # more showcases than are kept
        cart = Cart(session, "".join(draw.choices(string.ascii_uppercase + string.digits, k=16)))
        for _ in range(MAX_LINES):
            product = Product(pk=draw.randrange(10**8, 10**9), price=Decimal(draw.randrange(10**10)) / 100)
            cart.add(product, BIGGEST_QTY)
    session[devices.SESSION_KEY] = "d" * 22
    session["orders"] = ["".join(draw.choices(string.ascii_letters + string.digits, k=32)) for _ in range(10)]
    session["contact"] = {  # the contact form's longest fields, the name in letters that JSON escapes
        "name": "".join(chr(draw.randrange(0xAC00, 0xD7A4)) for _ in range(80)),
        "phone": "+" + "".join(draw.choices(string.digits, k=23)),
        "email": "".join(draw.choices(string.ascii_lowercase, k=64)) + "@" + "x" * 251 + ".com",
    }
    session[SESSION_KEY] = str(2**63 - 1)
    session[BACKEND_SESSION_KEY] = PIN_BACKEND
    session[HASH_SESSION_KEY] = "".join(draw.choices("0123456789abcdef", k=64))
    session[sessions.SIGN_IN_KEY] = "s" * 22
    session[PIN_HASH_SESSION_KEY] = "".join(draw.choices("0123456789abcdef", k=64))
    session[STORE_KEY] = 2**63 - 1
    session[LAST_SEEN_KEY] = 2**31
    session[first_password.SESSION_KEY] = True
    return session


def test_the_largest_session_fits_in_a_cookie():
    session = worst_case_session()
    assert len(session["shelfcall_carts"]) == KEPT_CARTS
    assert all(len(cart["lines"]) == MAX_LINES for cart in session["shelfcall_carts"].values())
    header = set_cookie_header(session)
    assert len(header.encode()) < SAFE_COOKIE, len(header)


def test_messages_are_kept_out_of_the_session():
    """Django's default keeps the messages that overflow their own cookie in the session."""
    assert settings.MESSAGE_STORAGE == "django.contrib.messages.storage.cookie.CookieStorage"


def test_a_session_keeps_the_carts_of_the_showcases_changed_last():
    session = sessions.SessionStore()
    codes = [f"SHOW{n}" for n in range(KEPT_CARTS + 1)]
    for n, code in enumerate(codes):
        Cart(session, code).add(Product(pk=n + 1, price=Decimal("1.00")))
    Cart(session, codes[1]).set_qty(2, 3)  # changed again: the most recent now
    assert list(session["shelfcall_carts"]) == [*codes[2:], codes[1]]
    assert Cart(session, codes[1]).unit_count == 3 and not Cart(session, codes[0]).lines


@pytest.mark.django_db
def test_a_full_cart_takes_no_other_product_and_says_so(rate_limits):
    store = make_store(max_order_qty=100)
    products = [make_product(store, on_hand=5) for _ in range(MAX_LINES + 1)]
    showcase = make_showcase(store, products=products)
    phone = Client()
    for product in products[:MAX_LINES]:
        phone.post(f"/s/{showcase.code}/add", {"product": product.pk})
    refused = phone.post(f"/s/{showcase.code}/add", {"product": products[-1].pk}, follow=True)
    assert f"Your cart holds {MAX_LINES} different items" in refused.content.decode()
    phone.post(f"/s/{showcase.code}/add", {"product": products[0].pk})  # one more of a product in it: room
    cart = Cart(phone.session, showcase.code)
    assert len(cart.lines) == MAX_LINES and cart.qty_of(products[0].pk) == 2

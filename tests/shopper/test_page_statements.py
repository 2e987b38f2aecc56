"""The SQL statements of each page a new shopper's phone loads for one order, counted exactly.

The pages and their order are those of benchmarks/web_lifecycle.py: the showcase, Add (and the
showcase it returns to), the cart, Send (and the status page it returns to). The phone is new (no
session until the first item goes in the cart); the process is not (it knows the store's policies).
Savepoints are left out: only the test's own wrapping transaction makes them."""

import re

import pytest
from django.test import Client

from shelfcall.core.middleware import STATEMENTS_HEADER
from shelfcall.orders.models import Order
from shelfcall.orders.promise import HISTORY_ROWS
from tests.factories import make_product, make_showcase, make_store, submit
from tests.workspace.test_page_statements import statements_of

pytestmark = pytest.mark.django_db

EXPECTED = {
    "showcase": 2,  # the showcase with its store, its offers with their stock; no session yet
    # No page reads or writes the session: it is a signed cookie (core/sessions.py).
    "add": 2,  # showcase, the offer
    "showcase again": 2,
    "cart": 2,  # the showcase, the cart's offers
    "submit": 10,  # showcase, the submission (9: orders/actions; its reads are one, orders/creation_read.py)
    # the order with its store, its last event id (for the stream) and its queue position, its lines; the
    # promise: the store's opening hours (its history figure is the process's: see below)
    "status": 3,
}


@pytest.fixture
def pages(time_machine) -> dict[str, list[str]]:
    time_machine.move_to("2026-11-23 10:20:00+00:00", tick=False)  # one hour of the store's history throughout
    store = make_store()
    product = make_product(store, on_hand=50)
    showcase = make_showcase(store, products=[product])
    make_showcase(store, products=[make_product(store)])  # another showcase's products are not read
    phone, code, counted = Client(), showcase.code, {}
    # A warm process: the store's notification policies are read once, then kept; so is its history at this hour.
    phone.get(f"/o/{submit(showcase).public_token}")

    def load(page: str, send, url: str, data: dict | None = None):
        responses = []
        counted[page] = statements_of(lambda: responses.append(send(url, data or {})))
        assert responses[0].status_code in {200, 302}, f"{page}: {responses[0].status_code}"
        return responses[0]

    load("showcase", phone.get, f"/s/{code}")
    load("add", phone.post, f"/s/{code}/add", {"product": product.pk})
    load("showcase again", phone.get, f"/s/{code}")
    cart = load("cart", phone.get, f"/s/{code}/cart").content.decode()
    key = re.search(r'name="submission_key" value="([^"]+)"', cart).group(1)
    sent = load("submit", phone.post, f"/s/{code}/submit", {"submission_key": key, "name": "Kim"})
    load("status", phone.get, sent["Location"])
    assert Order.objects.filter(submission_key=key).count() == 1
    return counted


@pytest.mark.parametrize("page", EXPECTED)
def test_page_statements(pages, page):
    statements = pages[page]
    assert len(statements) == EXPECTED[page], f"{page}: {len(statements)} statements\n" + "\n".join(statements)


def test_the_status_page_reads_the_stores_history_once_an_hour(time_machine):
    """The promise's history figure: one bounded statement for the first order of a store sent in an hour."""
    time_machine.move_to("2026-11-23 10:20:00+00:00", tick=False)
    showcase = make_showcase(make_store())
    page = f"/o/{submit(showcase).public_token}"
    phone = Client()  # no session, which costs no statement anyway
    first, again = statements_of(lambda: phone.get(page)), statements_of(lambda: phone.get(page))
    assert len(again) == EXPECTED["status"]
    assert len(first) == len(again) + 1 and next(sql for sql in first if sql not in again).endswith(
        f"LIMIT {HISTORY_ROWS}"
    )
    time_machine.move_to("2026-11-23 11:00:00+00:00", tick=False)
    assert len(statements_of(lambda: phone.get(page))) == len(again)  # the figure of the hour it was sent in
    later = f"/o/{submit(showcase).public_token}"
    assert len(statements_of(lambda: phone.get(later))) == len(again) + 1


def test_the_benchmarks_header_counts_what_the_page_ran(settings):
    """SHELFCALL_COUNT_STATEMENTS puts this middleware first; benchmarks/web_lifecycle.py reads its header."""
    settings.MIDDLEWARE = ["shelfcall.core.middleware.statement_count_middleware", *settings.MIDDLEWARE]
    showcase = make_showcase(make_store())
    responses = []
    statements = statements_of(lambda: responses.append(Client().get(f"/s/{showcase.code}")))
    assert responses[0][STATEMENTS_HEADER] == str(len(statements)) == str(EXPECTED["showcase"])

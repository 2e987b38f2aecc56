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
from tests.factories import make_product, make_showcase, make_store, submit
from tests.workspace.test_page_statements import statements_of

pytestmark = pytest.mark.django_db

EXPECTED = {
    "showcase": 2,  # the showcase with its store, its offers with their stock; no session yet
    "add": 4,  # showcase, the offer; a new session: its key checked unused, then written
    "showcase again": 3,  # + the session
    "cart": 3,  # the session, the showcase, the cart's offers
    "submit": 14,  # session, showcase, the submission (11: orders/actions), the session written back
    "status": 4,  # the session, the order with its store, its lines, its last event (for the stream)
}


@pytest.fixture
def pages() -> dict[str, list[str]]:
    store = make_store()
    product = make_product(store, on_hand=50)
    showcase = make_showcase(store, products=[product])
    make_showcase(store, products=[make_product(store)])  # another showcase's products are not read
    submit(showcase)  # a warm process: the store's notification policies are read once, then kept
    phone, code, counted = Client(), showcase.code, {}

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


def test_the_benchmarks_header_counts_what_the_page_ran(settings):
    """SHELFCALL_COUNT_STATEMENTS puts this middleware first; benchmarks/web_lifecycle.py reads its header."""
    settings.MIDDLEWARE = ["shelfcall.core.middleware.statement_count_middleware", *settings.MIDDLEWARE]
    showcase = make_showcase(make_store())
    responses = []
    statements = statements_of(lambda: responses.append(Client().get(f"/s/{showcase.code}")))
    assert responses[0][STATEMENTS_HEADER] == str(len(statements)) == str(EXPECTED["showcase"])

"""The SQL statements of each page an associate's browser loads for one order, counted exactly.

The pages and their order are those of benchmarks/web_lifecycle.py: the queue, the order page, Picking,
a scan, 1x for Customer, Mark Paid and the three hand-off steps, each button followed by the order
page it redirects to. The session is warm (signed in, store chosen), as on a device in use all day.
Savepoints are left out: only the test's own wrapping transaction makes them."""

import re
from collections.abc import Callable

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from shelfcall.orders.models import Order, OrderStatus
from shelfcall.orders.promise import HISTORY_ROWS
from tests.factories import make_drop_zone, make_product, make_showcase, make_store, make_user, signed_in, submit

pytestmark = pytest.mark.django_db

# No page reads the session (a signed cookie: core/sessions.py). Every workspace page reads the user
# with all its roles and whether its sign-in was revoked, in one statement (the sign-in backends'
# get_user: the policy asks nothing more); an order's screens read the order too. The rest is the
# page's own reads or its action's statements (orders/actions, counted there too).
EXPECTED = {
    # + the chosen store, one UNION ALL of the user's teams, the store's opening hours (for the promises) and
    # its last event (workspace.queries.read_queue_facts), the queue itself (the history figures are the
    # process's: see below)
    "queue": 4,
    # + one UNION ALL of the lines, the timeline (which gives the stream's last event id), the messages sent
    # and, where the staging form shows, the store's drop zones (workspace.queries.read_order_page_lists)
    "order": 3,
    "claim": 4,  # + the claim's conditional update and its event (the order read serves the claim)
    "order after claim": 3,
    "scan": 5,  # + the line the code matches, with its order; its conditional count, its event
    "order after scan": 3,  # the staging form's drop zones in the same UNION ALL
    "stage": 5,  # + the drop zone chosen, the staging's conditional update and its event (the order read serves it)
    "order after stage": 3,
    "pay": 6,  # + the order locked (what is owed is read under it); its sums, the event, the payment row
    "order after pay": 3,
    "hand-off form": 3,  # + the picked lines
    "hand-off review": 3,  # + the lines (the hand-off's own checks run on them: nothing written)
    # + the hand-off: the order locked with its lines, the order's update, the stock, the reservations, their
    # journal, the event (the reviewed answers need no lines read before it)
    "hand-off confirm": 8,
    "order after hand-off": 3,  # completed: no staging form, no drop zones
}


def statements_of(request: Callable[[], object]) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        request()
    return [query["sql"] for query in captured.captured_queries if "SAVEPOINT" not in query["sql"]]


class Lifecycle:
    """One order through the associate's pages, the statements of each page kept by name."""

    def __init__(self, browser: Client, order: Order, desk_id: int, upc: str) -> None:
        self.browser, self.order, self.desk_id, self.upc = browser, order, desk_id, upc
        self.statements: dict[str, list[str]] = {}
        self.sets_session: dict[str, bool] = {}

    def load(self, page: str, method: str, url: str, data: dict | None = None) -> str:
        send = self.browser.post if method == "POST" else self.browser.get
        responses = []
        self.statements[page] = statements_of(lambda: responses.append(send(url, data or {})))
        assert responses[0].status_code in {200, 302}, f"{page}: {responses[0].status_code}"
        self.sets_session[page] = settings.SESSION_COOKIE_NAME in responses[0].cookies
        return responses[0].content.decode()

    def run(self) -> None:
        page = f"/w/orders/{self.order.pk}"
        self.load("queue", "GET", "/w/")
        self.load("order", "GET", page)
        for action, data in [
            ("claim", {}),
            ("scan", {"code": self.upc}),
            ("stage", {"drop_zone": self.desk_id, "note": ""}),
            ("pay", {"reference": ""}),
        ]:
            self.load(action, "POST", f"{page}/{action}", data)
            self.load(f"order after {action}", "GET", page)
        self.load("hand-off form", "GET", f"{page}/handoff")
        review = self.load("hand-off review", "POST", f"{page}/handoff", {"pickup_code": f"SC{self.order.number}"})
        hidden = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', review))
        self.load("hand-off confirm", "POST", f"{page}/handoff", {**hidden, "confirm": "yes"})
        self.load("order after hand-off", "GET", page)


@pytest.fixture
def lifecycle(time_machine) -> Lifecycle:
    time_machine.move_to("2026-11-23 10:20:00+00:00", tick=False)  # one hour of the store's history throughout
    store = make_store()
    product = make_product(store, on_hand=50, upc="4006381333931")
    showcase = make_showcase(store, products=[product])
    desk = make_drop_zone(store)
    browser = signed_in(make_user(store))
    warm_up = submit(showcase)
    browser.get(f"/w/orders/{warm_up.pk}")  # signed in, store chosen, last request stamped
    browser.get("/w/")  # the store's history at this hour, for the promises
    walk = Lifecycle(browser, submit(showcase), desk.pk, product.upc)
    walk.run()
    walk.order.refresh_from_db()
    assert walk.order.status == OrderStatus.COMPLETED
    return walk


@pytest.mark.parametrize("page", EXPECTED)
def test_page_statements(lifecycle, page):
    statements = lifecycle.statements[page]
    assert len(statements) == EXPECTED[page], f"{page}: {len(statements)} statements\n" + "\n".join(statements)


def test_the_queue_reads_a_stores_history_once_an_hour(time_machine):
    """The promises' history figure: one bounded statement per hour the listed open orders were sent in."""
    time_machine.move_to("2026-11-23 10:50:00+00:00", tick=False)
    store = make_store()
    showcase = make_showcase(store, products=[make_product(store, on_hand=50)])
    browser = signed_in(make_user(store))
    browser.get(f"/w/orders/{submit(showcase).pk}")  # signed in, store chosen
    first, again = statements_of(lambda: browser.get("/w/")), statements_of(lambda: browser.get("/w/"))
    assert len(again) == EXPECTED["queue"]
    assert len(first) == len(again) + 1 and next(sql for sql in first if sql not in again).endswith(
        f"LIMIT {HISTORY_ROWS}"
    )
    time_machine.move_to("2026-11-23 11:05:00+00:00", tick=False)  # within the staff idle limit
    submit(showcase)
    browser.get("/w/stores")  # the session's last-request stamp is written here, not counted below
    assert len(statements_of(lambda: browser.get("/w/"))) == len(again) + 1  # the 11 o'clock figure
    assert len(statements_of(lambda: browser.get("/w/"))) == len(again)


def test_no_page_sends_a_warm_session_again(lifecycle):
    """The session changes when someone signs in or picks a store, not on every page they open: an
    unchanged session cookie is not sent again (its last-request stamp is a minute old at most here)."""
    assert lifecycle.sets_session and not any(lifecycle.sets_session.values()), lifecycle.sets_session


def test_a_longer_order_costs_its_pages_no_more_statements():
    """Five lines instead of one: the same statements on every page but the scans (one per unit)."""
    store = make_store(max_order_qty=50)
    products = [make_product(store, on_hand=50) for _ in range(5)]
    showcase = make_showcase(store, products=products)
    desk = make_drop_zone(store)
    browser = signed_in(make_user(store))
    browser.get(f"/w/orders/{submit(showcase).pk}")
    order = submit(showcase, dict.fromkeys(products, 1))
    browser.post(f"/w/orders/{order.pk}/claim")
    for product in products:
        browser.post(f"/w/orders/{order.pk}/scan", {"code": product.upc})
    browser.post(f"/w/orders/{order.pk}/stage", {"drop_zone": desk.pk})
    assert len(statements_of(lambda: browser.get(f"/w/orders/{order.pk}"))) == EXPECTED["order after stage"]
    assert len(statements_of(lambda: browser.get(f"/w/orders/{order.pk}/handoff"))) == EXPECTED["hand-off form"]

"""/hq/'s list: each filter, the search, paging, invalid input named, and a fixed number of statements."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from shelfcall.core import clock
from shelfcall.orders import actions
from shelfcall.orders.actions import ShopperContact
from shelfcall.orders.models import Order, OrderSource
from shelfcall.stores.models import Team
from tests.factories import TILL, claimed, signed_in, staff
from tests.orders.sub_status_factory import sub_status

pytestmark = pytest.mark.django_db


def _listed(client, query: str = "") -> list[int]:
    response = client.get(f"/hq/?{query}")
    assert response.status_code == 200
    return [order.pk for order in response.context["page"].orders]


@pytest.fixture
def cs(world):
    return signed_in(world.users["customer_service"])


def test_newest_first_across_stores(world, cs):
    first, second, third = world.order_a(), world.order_b(), world.order_a()
    assert _listed(cs) == [third.pk, second.pk, first.pk]
    assert _listed(cs, f"store={world.b.pk}") == [second.pk]


def test_status_source_team_filters(world, cs):
    waiting, picking = world.order_a(), world.order_a()
    claimed(picking, staff(world.a))
    online = actions.create_order(
        world.b,
        [actions.CartLine(world.product.pk, 1, world.product.price)],
        source=OrderSource.ONLINE,
        external_id="WEB-77",
        contact=ShopperContact(name="Noa"),
        by=TILL,
    ).order
    assert _listed(cs, "status=picking") == [picking.pk]
    assert _listed(cs, "source=online") == [online.pk]
    team = Team.objects.get(pk=waiting.team_id)
    assert set(_listed(cs, f"team={team.pk}")) == {waiting.pk, picking.pk}
    assert _listed(cs, "q=WEB-77") == [online.pk]


def test_overdue_escalated_payment_refund_and_dates(world, cs):
    late, escalated, paid, refund = world.order_a(), world.order_a(), world.order_b(), world.order_b()
    Order.objects.filter(pk=late.pk).update(due_at=clock.now() - timedelta(minutes=5))
    Order.objects.filter(pk__in=[escalated.pk, paid.pk, refund.pk]).update(due_at=clock.now() + timedelta(hours=1))
    Order.objects.filter(pk=escalated.pk).update(escalation_level=1)
    actions.mark_paid(paid.pk, by=TILL)
    actions.mark_paid(refund.pk, by=TILL)
    actions.cancel_order(refund.pk, by=TILL, reason="Out of stock")
    assert _listed(cs, "overdue=on") == [late.pk]
    assert _listed(cs, "escalated=on") == [escalated.pk]
    assert _listed(cs, "payment=paid") == [refund.pk, paid.pk]  # nothing owed: the cancelled one awaits its refund
    assert set(_listed(cs, "payment=unpaid")) == {late.pk, escalated.pk}
    assert _listed(cs, "refund_due=on") == [refund.pk]
    Order.objects.filter(pk=late.pk).update(created_at=F("created_at") - timedelta(days=10))
    day = (clock.now() - timedelta(days=10)).date().isoformat()
    assert _listed(cs, f"date_from={day}&date_to={day}") == [late.pk]
    assert late.pk not in _listed(cs, f"date_from={(clock.now()).date().isoformat()}")


@pytest.mark.parametrize(
    ("query", "who"),
    [
        ("Kim", "kim"),
        ("kim@EXAMPLE.com", "kim"),
        ("+33 6 12 34 56 78", "kim"),  # stored as 06 12 34 56 78
        ("06-12-34-56-78", "kim"),
        ("lou@example.com", "lou"),
    ],
)
def test_search_by_name_phone_email(world, cs, query, who):
    kim = world.order_a(phone="06 12 34 56 78", email="kim@example.com")
    lou = world.order_b(email="lou@example.com")
    assert _listed(cs, f"q={query.replace('+', '%2B')}") == [{"kim": kim, "lou": lou}[who].pk]


def test_search_by_number(world, cs):
    order = world.order_a()
    world.order_a()
    assert order.pk in _listed(cs, f"q=SC{order.number}")


def test_bad_filters_are_named_and_left_out(world, cs):
    order = world.order_a()
    response = cs.get("/hq/?status=lost&date_from=yesterday&store=999999")
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"status", "date_from", "store"} <= set(errors)
    assert [o.pk for o in response.context["page"].orders] == [order.pk]
    assert "Select a valid choice" in response.content.decode()


def test_pages_of_fifty_by_id(world, cs):
    from shelfcall.hq.queries import PAGE_SIZE

    orders = [world.order_a() for _ in range(PAGE_SIZE + 3)]
    first = cs.get("/hq/").context["page"]
    assert len(first.orders) == PAGE_SIZE and first.older == orders[3].pk
    second = _listed(cs, f"before={first.older}")
    assert second == [o.pk for o in reversed(orders[:3])]


def test_the_live_fragment_renders_the_rows_only(world, cs):
    order = world.order_a()
    body = cs.get("/hq/?fragment=1").content.decode()
    assert f"#{order.number}" in body and "<html" not in body


def _statements(client, query: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(f"/hq/?{query}").status_code == 200
    return [q["sql"] for q in captured.captured_queries]


@pytest.mark.parametrize("query", ["", "q=Kim&status=submitted&overdue=on&payment=unpaid&refund_due=on&escalated=on"])
def test_statements_do_not_grow_with_orders(world, cs, query):
    """The user, the stores one sees, the filter's choices, the page of orders, the stream's start (the
    session is a cookie: no statement)."""
    world.order_a()
    cs.get("/hq/")  # the session's first request writes it
    few = _statements(cs, query)
    for _ in range(15):
        world.order_a(2)
        world.order_b()
    many = _statements(cs, query)
    assert len(many) == len(few) <= 6, "\n".join(many)


def test_money_figures_are_not_floats(world):
    order = world.order_a(3)
    assert Order.objects.get(pk=order.pk).total_amount == Decimal("30.00")


def test_the_list_and_the_order_page_show_the_sub_status(world):
    order = world.order_a()
    waiting = sub_status(world.a, "submitted", "waiting-for-stock")
    actions.set_sub_status(order.pk, waiting.pk, by=TILL)
    client = signed_in(world.users["customer_service"])
    badge = '<span class="badge sub-status">Waiting For Stock</span>'
    assert badge in client.get("/hq/").content.decode()
    assert badge in client.get(f"/hq/orders/{order.pk}").content.decode()

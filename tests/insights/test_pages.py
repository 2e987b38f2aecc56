"""The insights page and its CSV exports: who sees what, the notices, bad input, and its statements."""

import csv
import io
import re
from datetime import UTC, date, datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from shelfcall.insights import facts, tables
from shelfcall.insights.figures import Period, build_dashboard
from shelfcall.orders.events import Actor
from shelfcall.orders.models import Order
from shelfcall.stores.models import Membership, Organization, Role
from tests.factories import make_drop_zone, make_product, make_showcase, make_store, make_user, signed_in
from tests.insights.stories import Story, tell

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)
URLS = ["/insights/", *(f"/insights/{section}.csv" for section in tables.SECTIONS)]


@pytest.fixture
def world(time_machine, store, showcase, associate, desk):
    """Two stores of one organization with a few orders each, and a stranger's store elsewhere."""
    sister = make_store(name="Opéra", organization=store.organization, pick_target_minutes=6)
    sister_showcase = make_showcase(sister, products=[make_product(sister, on_hand=1000)])
    for day in (17, 18, 24):
        tell(
            time_machine,
            showcase,
            datetime(2026, 11, day, 9, tzinfo=UTC),
            Story(claim=1, ready=5),
            by=associate,
            desk=desk,
        )
    tell(time_machine, sister_showcase, datetime(2026, 11, 24, 9, tzinfo=UTC), Story(), by=associate, desk=desk)
    facts.rebuild_facts(Order.objects.values_list("pk", flat=True))
    time_machine.move_to(NOW, tick=False)
    return store, sister


def _org_admin(store):
    user = get_user_model().objects.create_user("hq", password="x")
    Membership.objects.create(user=user, organization=store.organization, role=Role.ORG_ADMIN)
    return user


def _stranger():
    other = make_store(name="Elsewhere", organization=Organization.objects.create(name="Other", slug="other"))
    return make_user(other, role=Role.STORE_ADMIN)


ROLES = {
    "anonymous": lambda store: None,
    "associate": lambda store: make_user(store, role=Role.ASSOCIATE),
    "supervisor": lambda store: make_user(store, role=Role.SUPERVISOR),
    "store_admin": lambda store: make_user(store, role=Role.STORE_ADMIN),
    "org_admin": _org_admin,
    "admin_of_another_organization": lambda store: _stranger(),
}
# What each role gets at every insights URL, and which stores' orders it counts.
EXPECTED = {
    "anonymous": (302, None),
    "associate": (403, None),  # associates see no insights
    "supervisor": (200, {"Rivoli"}),
    "store_admin": (200, {"Rivoli"}),
    "org_admin": (200, {"Rivoli", "Opéra"}),
    "admin_of_another_organization": (200, {"Elsewhere"}),
}


@pytest.mark.parametrize("role", ROLES)
def test_every_url_answers_each_role(world, role):
    user = ROLES[role](world[0])
    browser = Client() if user is None else signed_in(user)
    status, stores = EXPECTED[role]
    for url in URLS:
        response = browser.get(url)
        assert response.status_code == status, url
        if status == 302:
            assert response["Location"].startswith("/w/login"), url
    if status == 200:
        response = browser.get("/insights/?start=2026-11-01&end=2026-11-30")
        names = set(re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', response.content.decode()))
        assert names == stores
        by_store = {group.label: group.current.requested for group in response.context["dashboard"].by.get("store", [])}
        orders = {"Rivoli": 3, "Opéra": 1, "Elsewhere": 0}
        assert by_store == {name: orders[name] for name in stores if orders[name]}


def test_a_supervisor_cannot_ask_for_another_store(world):
    store, sister = world
    response = signed_in(make_user(store, role=Role.SUPERVISOR)).get(f"/insights/?store={sister.pk}")
    assert response.status_code == 400
    assert "Select a valid choice" in response.context["form"].errors["store"][0]
    csv_response = signed_in(make_user(store, role=Role.SUPERVISOR)).get(f"/insights/funnel.csv?store={sister.pk}")
    assert csv_response.status_code == 400 and csv_response.content.decode().startswith("store: ")


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("start=2026-11-20&end=2026-11-10", "end", "Choose an end on or after the start (2026-11-20)."),
        ("start=yesterday", "start", "Enter a valid date."),
        ("start=2024-01-01&end=2026-11-25", "start", "Choose at most 366 days; start on 2025-11-25 or later."),
    ],
)
def test_bad_periods_are_refused_naming_the_field(world, query, field, message):
    response = signed_in(_org_admin(world[0])).get(f"/insights/?{query}")
    assert response.status_code == 400
    assert response.context["form"].errors[field] == [message]
    assert message.replace("(", "").split(" ")[0] in response.content.decode()


def test_each_csv_is_the_table_shown(world):
    admin = signed_in(_org_admin(world[0]))
    query = "start=2026-11-19&end=2026-11-25"
    page = admin.get(f"/insights/?{query}")
    shown = {table.slug: table for table in page.context["tables"]}
    html = page.content.decode()
    for section, table in shown.items():
        assert f'href="/insights/{section}.csv?{query.replace("&", "&amp;")}"' in html
        response = admin.get(f"/insights/{section}.csv?{query}")
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert list(csv.reader(io.StringIO(response.content.decode()))) == [table.headers, *table.rows]
    funnel = shown["funnel"].rows
    assert funnel[0][:2] == ["Requested", "2"] and funnel[3][:2] == ["Ready", "1"]


def test_an_unknown_table_is_not_found(world):
    assert signed_in(_org_admin(world[0])).get("/insights/nothing.csv").status_code == 404


def test_a_period_with_no_orders_says_so(world):
    response = signed_in(_org_admin(world[0])).get("/insights/?start=2026-10-01&end=2026-10-07")
    assert response.status_code == 200
    assert "No orders in this period" in response.content.decode()
    funnel = tables.funnel_table(response.context["dashboard"])
    assert funnel.rows[0] == ["Requested", "0", "—", "0", "—", "—"]


def test_few_orders_are_called_too_little_data(world):
    page = signed_in(_org_admin(world[0])).get("/insights/?start=2026-11-19&end=2026-11-25").content.decode()
    assert "Too little data: only 2 orders in this period." in page


def test_a_store_opened_yesterday(time_machine):
    store = make_store(name="New", timezone="Asia/Seoul")
    desk, associate = make_drop_zone(store), Actor.staff(make_user(store), Role.ASSOCIATE)
    showcase = make_showcase(store, products=[make_product(store, on_hand=1000)])
    for hour in (1, 2, 3):  # 10:00 to 12:00 in Seoul, 24 November
        tell(
            time_machine,
            showcase,
            datetime(2026, 11, 24, hour, tzinfo=UTC),
            Story(claim=1, ready=4),
            by=associate,
            desk=desk,
        )
    facts.rebuild_facts(Order.objects.values_list("pk", flat=True))
    time_machine.move_to(NOW, tick=False)
    response = signed_in(make_user(store, role=Role.STORE_ADMIN)).get("/insights/")
    dashboard = response.context["dashboard"]
    assert (dashboard.period, dashboard.first_day) == (
        Period(date(2026, 10, 29), date(2026, 11, 25)),
        date(2026, 11, 24),
    )
    page = response.content.decode()
    assert "The first order came on" in page and "Too little data: only 3 orders" in page
    assert tables.funnel_table(dashboard).rows[0][-1] == "—"  # no change: nothing to compare with
    assert [g.current.requested for g in dashboard.by["hour"]][10:13] == [1, 1, 1]


def test_the_target_is_each_stores_own(world):
    store, sister = world
    dashboard = build_dashboard([store, sister], Period(date(2026, 11, 1), date(2026, 11, 30)))
    assert dashboard.target_minutes is None
    assert tables.rates_table(dashboard).rows[-1][0] == "Ready within each store's target"
    assert tables.rates_table(build_dashboard([store], dashboard.period)).rows[-1][:2] == [
        "Ready within 10 minutes (the store's target)",
        "100.0 %",
    ]


def test_the_page_reads_a_fixed_number_of_statements(world, time_machine):
    """However many stores, teams, showcases, associates and products: the user (the session is a
    cookie: no statement), the stores they may see, the figures (overall, five breakdowns, products),
    the names of the teams, showcases and associates shown, whether the stores had orders before the
    period, the names of the products shown, and the refresh time."""
    admin = signed_in(_org_admin(world[0]))

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin.get("/insights/?start=2026-11-01&end=2026-11-30").status_code == 200
        return len([q for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]])

    count()  # the session is warm from here on (the first request stamps its activity)
    before = count()
    sister_desk = make_drop_zone(world[1])
    more = make_showcase(world[1], products=[make_product(world[1], on_hand=100) for _ in range(3)])
    for n in range(3):
        other = make_user(world[1], name=f"Sam{n}")
        tell(
            time_machine,
            more,
            datetime(2026, 11, 20, 9, tzinfo=UTC),
            Story(claim=1, ready=3),
            by=Actor.staff(other, Role.ASSOCIATE),
            desk=sister_desk,
        )
    facts.rebuild_facts(Order.objects.values_list("pk", flat=True))
    time_machine.move_to(NOW, tick=False)
    # PostgreSQL: + its sort memory, and the five breakdowns in one query (grouping sets) instead of five
    assert count() == before == (12 if connection.vendor == "postgresql" else 15)

"""The insights page in Chromium on a tablet: charts drawn from the self-hosted library, tables beside
them, the period changed by keyboard alone, a CSV downloaded, nothing fetched elsewhere, and no
serious or critical axe-core violation."""

import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from shelfcall.insights import facts
from shelfcall.orders import actions
from shelfcall.orders.events import Actor
from shelfcall.orders.models import Order
from shelfcall.stores.models import Membership, Role
from tests.e2e.conftest import TABLET, watch_offline
from tests.e2e.test_shopper_journey import serious_violations
from tests.factories import make_drop_zone, make_product, make_showcase, make_store, make_user, submit


@pytest.fixture
def admin(transactional_db):
    store = make_store(name="Rivoli", allow_pay_at_pickup=True)
    sister = make_store(name="Opéra", organization=store.organization)
    for shop in (store, sister):
        showcase = make_showcase(shop, products=[make_product(shop, on_hand=100)])
        associate = Actor.staff(make_user(shop, name="Ana"), Role.ASSOCIATE)
        desk = make_drop_zone(shop)
        for n in range(4):
            order = submit(showcase)
            actions.claim_order(order.pk, by=associate)
            if n:
                line = order.lines.get()
                actions.pick_line(order.pk, line.pk, by=associate, qty=line.requested_qty)
                actions.stage_order(order.pk, by=associate, drop_zone=desk)
            if n > 1:
                actions.mark_paid(order.pk, by=associate)
                actions.hand_off_order(order.pk, by=associate)
    facts.rebuild_facts(Order.objects.values_list("pk", flat=True))
    user = get_user_model().objects.create_user("hq", password="x", first_name="Hana")
    Membership.objects.create(user=user, organization=store.organization, role=Role.ORG_ADMIN)
    return user


def test_the_dashboard_on_a_tablet(open_page, admin, live_server_url):
    page: Page = open_page(TABLET, user=admin)
    outside, problems = watch_offline(page, live_server_url)
    page.goto("/insights/")
    expect(page.get_by_role("heading", name="Insights", exact=True)).to_be_visible()
    expect(page.locator("figure[data-chart] canvas")).to_have_count(3)  # funnel, times, hours
    funnel = page.get_by_role("region", name="Funnel: requested to collected")
    expect(funnel.get_by_role("row", name="Requested 8")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scrolling

    violations = serious_violations(page)
    assert not violations, "axe on the insights page:\n" + "\n".join(violations)
    assert not outside and not problems, (outside, problems)


def test_the_period_and_store_change_by_keyboard_alone(open_page, admin):
    page: Page = open_page(TABLET, user=admin)
    page.goto("/insights/")
    page.keyboard.press("Tab")  # the skip link
    for _ in range(12):
        if page.evaluate("document.activeElement.id") == "id_store":
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_store"
    page.keyboard.press("ArrowDown")  # All my stores → Opéra
    page.keyboard.press("Tab")
    page.keyboard.type("01012026")  # the date field's day, month, year
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"store=\d+&start=2026-01-01"))
    expect(
        page.get_by_role("region", name="Funnel: requested to collected").get_by_role("row", name="Requested 4")
    ).to_be_visible()

    with page.expect_download() as download:
        page.get_by_role("link", name="Download “By hour of day (store time)” as CSV").click()
    assert download.value.suggested_filename.startswith("insights-hour-2026-01-01-")
    assert Path(download.value.path()).read_text(encoding="utf-8").startswith("Hour,Requests,Requests before")

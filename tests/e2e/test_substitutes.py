"""Substitutes in real browsers: the associate offers one on a tablet, the shopper's phone shows it live and
the shopper accepts it there; the associate's page hears the answer and the order goes on to the till."""

import re

import pytest
from playwright.sync_api import Page, expect

from shelfcall.orders.events import Actor
from shelfcall.orders.models import Order, OrderLine, OrderStatus, Substitution
from tests.e2e.conftest import PHONE, TABLET
from tests.e2e.test_shopper_journey import serious_violations, wait_for_live_updates
from tests.factories import claimed, make_drop_zone, make_product, make_showcase, make_store, make_user, submit

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_passwords")]

LIVE_TIMEOUT = 5_000


@pytest.fixture
def shop():
    store = make_store(name="Hardware Hall", substitute_wait_minutes=15)
    drill = make_product(store, name="Cordless drill", price="99.00", on_hand=1)
    stronger = make_product(store, name="Brushless drill", price="129.00", on_hand=3)
    showcase = make_showcase(store, products=[drill, stronger], code="TOOLS234")
    make_drop_zone(store)
    alex = make_user(store, name="Alex")
    order = claimed(submit(showcase, {drill: 1}), Actor.staff(alex))
    return store, order, alex


def _no_serious_violations(page: Page) -> None:
    page.locator("details").evaluate_all("all => all.forEach(details => { details.open = true; })")
    violations = serious_violations(page)
    assert not violations, f"axe on {page.url}:\n" + "\n".join(violations)


def test_the_associate_offers_and_the_shopper_accepts_live(open_page, shop):
    _store, order, alex = shop
    shopper = open_page(PHONE)
    shopper.goto(f"/o/{order.public_token}")
    panel = shopper.locator("#status-panel")
    expect(panel).to_contain_text("Being picked by Alex")
    shopper.evaluate("window.__marker = 1")
    wait_for_live_updates(shopper)

    tablet = open_page(TABLET, user=alex)
    tablet.goto(f"/w/orders/{order.pk}")
    tablet.get_by_role("link", name="Not found? Offer a substitute").click()
    expect(tablet.get_by_role("heading", level=1)).to_have_text("Substitute for Cordless drill")
    _no_serious_violations(tablet)
    tablet.get_by_label("Units not found now").select_option("1")
    tablet.get_by_role("radio", name=re.compile(r"^Brushless drill · €129\.00 · 3 free")).check()
    tablet.get_by_role("button", name="Offer to the shopper").click()
    expect(tablet).to_have_url(re.compile(rf"/w/orders/{order.pk}$"))
    expect(tablet.locator(".messages")).to_contain_text("Brushless drill is offered to the shopper")
    expect(tablet.locator(".ws-lines")).to_contain_text("Substitute for Cordless drill · waiting for the shopper")

    offer = shopper.get_by_role("region", name="We could not find everything")
    expect(offer).to_contain_text("Instead of Cordless drill, we can give you:", timeout=LIVE_TIMEOUT)
    expect(offer).to_contain_text("1 × Brushless drill · €129.00")
    assert shopper.evaluate("window.__marker") == 1, "the status page reloaded instead of updating in place"
    _no_serious_violations(shopper)
    offer.get_by_role("button", name="Yes, add it").click()
    expect(
        shopper.get_by_role("status").filter(has_text="Thanks! Brushless drill is added to your order.")
    ).to_be_visible()
    expect(shopper.get_by_role("region", name="We could not find everything")).to_have_count(0)
    expect(shopper.locator(".total")).to_contain_text("€129.00")

    # The associate's page hears the answer through its own live stream and can pick the substitute.
    expect(tablet.locator(".ws-lines")).not_to_contain_text("waiting for the shopper", timeout=LIVE_TIMEOUT)
    expect(tablet.locator(".ws-lines")).to_contain_text("Substitute for Cordless drill")
    substitute = OrderLine.objects.get(order=order, substitution=Substitution.ACCEPTED)
    tablet.locator(".ws-line", has_text="1 × Brushless drill").get_by_role("button", name="Picked 1").click()
    expect(tablet.get_by_role("button", name="1x for Customer")).to_be_visible()
    _no_serious_violations(tablet)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PICKING and substitute.requested_qty == 1

"""Head office in Chromium on a tablet: the live list of every store's orders, and the shopper lookup
with its resend; axe-core finds no serious or critical violation."""

import pytest
from playwright.sync_api import expect

from shelfcall.catalog.models import StockLevel
from shelfcall.notify.models import OutboxMessage
from shelfcall.orders.actions import ShopperContact
from shelfcall.stores.models import Role
from tests.e2e.conftest import TABLET, watch_offline
from tests.e2e.test_shopper_journey import serious_violations, wait_for_live_updates
from tests.factories import make_org_member, make_product, make_showcase, make_store, submit

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_passwords")]

LIVE_TIMEOUT = 5_000


@pytest.fixture
def chain():
    alpha = make_store(name="Alpha")
    bravo = make_store(name="Bravo", organization=alpha.organization)
    shaver = make_product(alpha, name="Shaver", on_hand=20)
    StockLevel.objects.create(store=bravo, product=shaver, on_hand=20)
    return {
        "alpha": make_showcase(alpha, products=[shaver]),
        "bravo": make_showcase(bravo, products=[shaver]),
        "service": make_org_member(alpha.organization, name="Cy", role=Role.CUSTOMER_SERVICE),
    }


def test_the_list_is_live_filterable_and_accessible_on_a_tablet(open_page, live_server_url, chain):
    first = submit(chain["alpha"], contact=ShopperContact(name="Kim"))
    page = open_page(TABLET, user=chain["service"])
    outside, problems = watch_offline(page, live_server_url)
    page.goto("/hq/")
    rows = page.locator("#hq-orders tbody tr")
    expect(rows).to_have_count(1)
    wait_for_live_updates(page)
    second = submit(chain["bravo"], contact=ShopperContact(name="Lou"))
    expect(rows).to_have_count(2, timeout=LIVE_TIMEOUT)  # a new order of another store shows by itself
    expect(rows.first).to_contain_text(f"#{second.number}")
    expect(rows.first).to_contain_text("Bravo")
    assert serious_violations(page) == []
    page.get_by_label("Store", exact=True).select_option(label="Alpha")
    page.get_by_role("button", name="Show").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(f"#{first.number}")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= TABLET["viewport"]["width"], "the page fits the tablet's width"
    assert outside == [] and problems == []


def test_lookup_finds_the_shopper_across_stores_and_resends_the_link(open_page, live_server_url, chain):
    kim_alpha = submit(
        chain["alpha"], contact=ShopperContact(name="Kim", phone="06 12 34 56 78", email="kim@example.com")
    )
    kim_bravo = submit(chain["bravo"], contact=ShopperContact(name="Kim", phone="+33 6 12 34 56 78"))
    page = open_page(TABLET, user=chain["service"])
    page.goto("/hq/lookup")
    page.get_by_label("Phone").fill("+33612345678")
    page.get_by_role("button", name="Find their orders").click()
    found = page.locator(".hq-found > li")
    expect(found).to_have_count(2)
    expect(found.first).to_contain_text(f"#{kim_bravo.number}")
    assert serious_violations(page) == []
    page.get_by_role("link", name=f"#{kim_alpha.number} · Alpha").click()
    page.get_by_label("Send the status link by").select_option("email")
    page.get_by_role("button", name="Send the status link").click()
    expect(page.get_by_role("status")).to_contain_text("status link is on its way")
    assert OutboxMessage.objects.filter(order=kim_alpha, purpose="status", kind="email").count() == 1
    expect(page.get_by_role("heading", name="Stock reservation journal")).to_be_visible()
    assert serious_violations(page) == []


def test_a_bulk_cancel_shows_its_progress_and_result(open_page, live_server_url, chain):
    from shelfcall.core.jobs import queue
    from shelfcall.orders import actions
    from tests.factories import TILL

    kept = submit(chain["alpha"], contact=ShopperContact(name="Kim"))
    gone = submit(chain["bravo"], contact=ShopperContact(name="Lou"))
    page = open_page(TABLET, user=chain["service"])
    page.goto("/hq/")
    for order in (kept, gone):
        page.get_by_label(f"Select order {order.number} of {order.store.name}").check()
    page.get_by_label("Action").select_option("cancel")
    page.get_by_label("Reason (to cancel)").fill("Store closed for the day")
    actions.cancel_order(gone.pk, by=TILL, reason="Shopper called")  # it moves on before the job runs
    page.get_by_role("button", name="Run on the selected orders").click()
    expect(page.get_by_role("heading", name="Cancel with a reason")).to_be_visible()
    assert serious_violations(page) == []
    while queue.run_next():
        pass
    expect(page.get_by_role("status").last).to_contain_text("1 done, 1 refused", timeout=LIVE_TIMEOUT)
    expect(page.locator("progress")).to_have_attribute("value", "2")
    expect(page.get_by_role("link", name="Download the refused orders (CSV)")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Bravo")).to_contain_text("cancelled now")
    assert serious_violations(page) == []

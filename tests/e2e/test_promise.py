"""The pickup promise in a real browser: the position moves live as the queue does; the queue shows the promises."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from shelfcall.orders import actions
from shelfcall.stores.models import OpeningPeriod
from tests.e2e.conftest import PHONE, TABLET
from tests.e2e.test_shopper_journey import LIVE_TIMEOUT, serious_violations, wait_for_live_updates
from tests.factories import TILL, make_product, make_showcase, make_store, make_user, staff, submit
from tests.orders.history import daily

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def showcase():
    store = make_store(name="Hardware Hall", timezone="Europe/Paris")
    return make_showcase(store, products=[make_product(store, on_hand=1000)])


def with_history(showcase) -> None:
    """Two orders a day at this time of day for the five days before, each ready 12 minutes after it was sent."""
    now = datetime.now(PARIS)
    daily(showcase, staff(showcase.store, "Sam"), now - timedelta(days=6, minutes=5), days=5, per_day=2)


def test_the_position_moves_live_and_the_usual_time_shows(open_page, showcase):
    with_history(showcase)
    first, second, mine = submit(showcase), submit(showcase), submit(showcase)
    alex = staff(showcase.store, "Alex")
    phone: Page = open_page(PHONE)
    phone.goto(f"/o/{mine.public_token}")
    promise = phone.locator("#promise")
    expect(promise.locator(".queue-position")).to_have_text("2 requests are ahead of yours.")
    expect(promise.locator(".usual-time")).to_contain_text("Usually ready in about 12 minutes at this time of day")
    assert serious_violations(phone) == []
    phone.evaluate("window.__marker = 1")
    phone.evaluate("document.querySelector('#status-panel .barcode').dataset.kept = '1'")
    wait_for_live_updates(phone)

    actions.cancel_order(first.pk, by=TILL, reason="Changed their mind")
    expect(promise.locator(".queue-position")).to_have_text("1 request is ahead of yours.", timeout=LIVE_TIMEOUT)
    expect(phone.locator("#status-note")).to_contain_text("1 request is ahead of yours.")  # read out
    actions.claim_order(second.pk, by=alex)
    expect(promise.locator(".queue-position")).to_have_text("Yours is next in line.", timeout=LIVE_TIMEOUT)
    expect(phone.locator("#status-panel .barcode[data-kept]")).to_have_count(1)  # only the promise was sent
    actions.claim_order(mine.pk, by=alex)
    expect(phone.locator("#status-panel")).to_contain_text("Being picked by Alex", timeout=LIVE_TIMEOUT)
    expect(phone.locator(".queue-position")).to_have_count(0)
    expect(phone.locator("#promise .usual-time")).to_contain_text("around")
    assert phone.evaluate("window.__marker") == 1, "the status page reloaded instead of updating in place"

    tablet = open_page(TABLET, user=make_user(showcase.store, name="Lee"), store=showcase.store)
    tablet.goto("/w/")
    expect(tablet.locator(".queue-promise")).to_have_count(2)  # mine (picking) and the second: not ready yet
    expect(tablet.locator(".queue-promise").first).to_contain_text("Promised for")
    assert serious_violations(tablet) == []


def test_a_closed_store_says_when_it_opens_in_korean(open_page, showcase):
    in_two_days = (datetime.now(PARIS).weekday() + 2) % 7
    OpeningPeriod.objects.create(store=showcase.store, weekday=in_two_days, opens=time(9), closes=time(10))
    order = submit(showcase)
    phone: Page = open_page(PHONE | {"locale": "ko-KR"})
    phone.goto(f"/o/{order.public_token}")
    day = ["월요일", "화요일", "수요일", "목요일", "금요일", "토요일", "일요일"][in_two_days]
    expect(phone.locator("html")).to_have_attribute("lang", "ko")
    expect(phone.locator("#promise")).to_contain_text(day)
    expect(phone.locator("#promise")).to_contain_text("9:00")
    assert serious_violations(phone) == []

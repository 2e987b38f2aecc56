"""The pages reopen a live stream the browser gave up on (item 13): EventSource never retries after an
answer other than 200, such as the 503 a stream opening gets while the database restarts."""

import re

import pytest
from playwright.sync_api import Page, Route, expect

from shelfcall.orders import actions
from shelfcall.orders.models import OrderEvent
from tests.e2e.conftest import TABLET
from tests.factories import make_showcase, make_store, make_user, staff, submit

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

RECONNECTING = "Reconnecting… This page will update again in a moment."


class FlakyStreams:
    """Answers the page's stream openings with 503 while `down`, and remembers the URLs it was asked."""

    def __init__(self, page: Page, pattern: re.Pattern) -> None:
        self.down = True
        self.urls: list[str] = []
        page.route(pattern, self._answer)

    def _answer(self, route: Route) -> None:
        self.urls.append(route.request.url)
        if self.down:
            route.fulfill(status=503, headers={"Retry-After": "5"}, body="")
        else:
            route.continue_()


def test_the_status_page_reopens_its_stream_and_catches_up(phone: Page):
    order = submit(make_showcase(make_store()))
    rendered_id = OrderEvent.objects.filter(order=order).latest("pk").pk
    streams = FlakyStreams(phone, re.compile(r"/o/[^/]+/events"))
    phone.goto(f"/o/{order.public_token}")
    notice = phone.locator("#live-notice")
    expect(notice).to_have_text(RECONNECTING, timeout=10_000)
    assert notice.get_attribute("aria-live") == "polite"
    assert len(streams.urls) >= 2, "the page did not try again after the 503"

    actions.claim_order(order.pk, by=staff(order.store, "Alex"))  # while the page cannot hear of it
    streams.down = False
    expect(phone.locator("#status-panel")).to_contain_text("Being picked by Alex", timeout=20_000)
    expect(notice).to_have_text("")
    assert streams.urls[-1].endswith(f"last_event_id={rendered_id}")


def test_the_queue_reopens_its_stream_and_shows_what_came_meanwhile(open_page):
    store = make_store()
    showcase = make_showcase(store)
    page = open_page(TABLET, user=make_user(store, name="Alex"), store=store)
    streams = FlakyStreams(page, re.compile(r"/w/stream"))
    page.goto("/w/")
    expect(page.locator("#live-notice")).to_have_text(RECONNECTING, timeout=10_000)

    order = submit(showcase)
    streams.down = False
    expect(page.locator("#queue")).to_contain_text(f"#{order.number}", timeout=20_000)
    expect(page.locator("#live-notice")).to_have_text("")

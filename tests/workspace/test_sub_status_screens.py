"""Sub-statuses on the associate's screens, the shopper's status page and the API."""

import pytest

from shelfcall.orders.actions import ShopperContact
from shelfcall.orders.models import Order
from shelfcall.stores.models import Role
from tests.factories import TILL, claimed, make_showcase, make_store, make_user, signed_in, staff, submit
from tests.orders.sub_status_factory import sub_status

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return make_store()


@pytest.fixture
def order(store) -> Order:
    return submit(make_showcase(store), contact=ShopperContact(name="Kim"))


def test_the_picker_sets_a_sub_status_from_the_order_page_and_the_queue_shows_it(store, order):
    alex = make_user(store, name="Alex")
    engraving = sub_status(store, "picking", "engraving")
    sub_status(store, "picking", "gift-wrap", entry=False, follows=engraving)
    browser = signed_in(alex)
    browser.post(f"/w/orders/{order.pk}/claim")
    page = browser.get(f"/w/orders/{order.pk}").content.decode()
    assert f'<option value="{engraving.pk}">Engraving</option>' in page
    assert "Gift Wrap" not in page, "not allowed first"
    done = browser.post(f"/w/orders/{order.pk}/sub-status", {"sub_status": engraving.pk}, follow=True)
    assert "Sub-status set to Engraving." in done.content.decode()
    assert '<span class="badge sub-status">Engraving</span>' in browser.get("/w/").content.decode()


def test_a_refused_sub_status_names_the_allowed_ones_on_the_page(store, order):
    alex = make_user(store, name="Alex")
    engraving = sub_status(store, "picking", "engraving")
    late = sub_status(store, "picking", "late-step", entry=False)
    browser = signed_in(alex)
    browser.post(f"/w/orders/{order.pk}/claim")
    refused = browser.post(f"/w/orders/{order.pk}/sub-status", {"sub_status": late.pk}, follow=True)
    assert "it may go to: Engraving." in refused.content.decode()
    order.refresh_from_db()
    assert order.sub_status is None and engraving.pk


def test_a_store_without_sub_statuses_shows_no_choice(store, order):
    browser = signed_in(make_user(store, name="Alex"))
    browser.post(f"/w/orders/{order.pk}/claim")
    assert 'name="sub_status"' not in browser.get(f"/w/orders/{order.pk}").content.decode()


def test_the_status_page_shows_the_shopper_text_in_the_pages_language(client, store, order):
    waiting = sub_status(store, "submitted", "waiting", shopper_texts={"en": "Fetching it.", "ko": "가져오는 중."})
    from shelfcall.orders import actions

    actions.set_sub_status(order.pk, waiting.pk, by=staff(store, role=Role.SUPERVISOR))
    page = client.get(f"/o/{order.public_token}", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert '<p class="sub-status" role="status">가져오는 중.</p>' in page
    claimed(order, TILL)
    assert "가져오는 중." not in client.get(f"/o/{order.public_token}", HTTP_ACCEPT_LANGUAGE="ko").content.decode()

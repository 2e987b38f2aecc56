"""Item 16: a visit that stores nothing sets no session cookie, expired sessions are refused; a repeated
check-in records nothing and wakes nobody, and check-ins per order are limited; the printable sign is
rate limited like every other shopper page."""

from datetime import timedelta

import pytest
from django.db.models import F
from django.test import Client

from shelfcall.core.models import ThrottleCounter
from shelfcall.orders import actions
from shelfcall.orders.errors import WrongStatus
from shelfcall.orders.events import EventType
from shelfcall.orders.models import OrderEvent
from shelfcall.shopper.cart import Cart
from shelfcall.shopper.views import CHECK_INS_PER_ORDER
from tests.factories import make_product, make_showcase, make_store, staff, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def showcase():
    store = make_store()
    return make_showcase(store, products=[make_product(store, on_hand=50)], code="SIGN2345")


def add_to_cart(client: Client, showcase):
    return client.post(f"/s/{showcase.code}/add", {"product": showcase.items.get().product_id})


class TestSessions:
    def test_browsing_without_a_cookie_writes_no_session(self, client, showcase):
        for path in (f"/s/{showcase.code}", f"/s/{showcase.code}/cart", f"/s/{showcase.code}/sign"):
            response = client.get(path)
            assert response.status_code == 200 and "sessionid" not in response.cookies

    def test_the_device_is_made_by_the_first_thing_stored_and_used_by_the_order(self, client, showcase):
        assert "sessionid" in add_to_cart(client, showcase).cookies
        device = client.session["device"]
        client.get(f"/s/{showcase.code}")
        page = client.get(f"/s/{showcase.code}/cart").content.decode()
        key = page.split('name="submission_key" value="')[1].split('"')[0]
        client.post(f"/s/{showcase.code}/submit", {"submission_key": key, "name": "Kim"})
        assert client.session["device"] == device
        assert showcase.store.orders.get().device_id == device

    def test_a_product_qr_makes_the_device_too(self, client, showcase):
        assert "sessionid" in client.get(f"/p/{showcase.items.get().code}").cookies
        assert client.session.get("device")

    def test_an_expired_session_is_refused(self, showcase, time_machine):
        """The cookie's signed timestamp dates it: the browser's own expiry is not what ends it."""
        time_machine.move_to("2026-11-01 10:00:00+00:00", tick=False)
        kept, lapsed = Client(), Client()
        add_to_cart(kept, showcase)
        add_to_cart(lapsed, showcase)
        time_machine.move_to("2026-11-08 10:00:00+00:00", tick=False)
        add_to_cart(kept, showcase)  # written again: its two weeks start again
        time_machine.move_to("2026-11-15 10:00:01+00:00", tick=False)  # past the two weeks of the other
        assert Cart(kept.session, showcase.code).unit_count == 2
        assert lapsed.session.get("device") is None and not Cart(lapsed.session, showcase.code).lines


class TestCheckIn:
    def test_the_same_details_again_record_nothing_and_wake_nobody(self, showcase, django_capture_on_commit_callbacks):
        order = submit(showcase)
        first = actions.check_in(order.pk, mode="curbside", note="Bay 3, red Clio")
        # A wake-up is an event (PostgreSQL's trigger) or a callback after commit (SQLite's hub).
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            for _ in range(5):
                again = actions.check_in(order.pk, mode="curbside", note=" Bay 3, red Clio ")
        assert callbacks == []
        assert OrderEvent.objects.filter(order=order, type=EventType.CHECKED_IN).count() == 1
        assert again.updated_at == first.updated_at  # not even written

    def test_a_change_is_still_recorded_and_the_first_arrival_time_stays(self, showcase, time_machine):
        time_machine.move_to("2026-11-23 10:00:00+00:00", tick=False)
        order = submit(showcase)
        first = actions.check_in(order.pk, mode="in_store").checked_in_at
        time_machine.shift(timedelta(minutes=5))
        moved = actions.check_in(order.pk, mode="curbside", note="Bay 7")
        assert (moved.check_in_mode, moved.check_in_note, moved.checked_in_at) == ("curbside", "Bay 7", first)
        assert OrderEvent.objects.filter(order=order, type=EventType.CHECKED_IN).count() == 2

    def test_a_closed_order_is_still_refused(self, showcase):
        order = submit(showcase)
        actions.check_in(order.pk, mode="in_store")
        actions.cancel_order(order.pk, by=staff(showcase.store))
        with pytest.raises(WrongStatus):
            actions.check_in(order.pk, mode="in_store")  # the same details, but the order is closed

    def test_check_ins_per_order_are_limited(self, client, showcase, rate_limits):
        order, other = submit(showcase), submit(showcase)
        statuses = [
            client.post(f"/o/{order.public_token}/here", {"mode": "curbside", "note": f"Bay {n}"}).status_code
            for n in range(CHECK_INS_PER_ORDER.limit + 1)
        ]
        assert 429 not in statuses[:-1] and statuses[-1] == 429
        assert client.post(f"/o/{other.public_token}/here", {"mode": "in_store"}).status_code == 302
        events = OrderEvent.objects.filter(order=order, type=EventType.CHECKED_IN).count()
        assert events == CHECK_INS_PER_ORDER.limit


def test_the_sign_is_rate_limited(client, showcase, rate_limits):
    assert client.get(f"/s/{showcase.code}/sign").status_code == 200
    ThrottleCounter.objects.update(hits=F("hits") + 100_000)  # as if a flood had come from this address
    response = client.get(f"/s/{showcase.code}/sign")
    assert response.status_code == 429 and int(response["Retry-After"]) > 0

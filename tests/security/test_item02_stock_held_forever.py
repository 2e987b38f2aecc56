"""Item 2: nobody holds a store's stock forever: unclaimed requests lapse on the store's timer, and what
one client holds is capped by phone and by network address (a fresh cookie is a new phone, not a new
address)."""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from shelfcall.core.jobs.loop import fire_due_timers
from shelfcall.notify.models import OutboxMessage
from shelfcall.orders import actions
from shelfcall.orders.actions import ShopperContact
from shelfcall.orders.errors import AddressHoldsTooMuch, TooManyUnitsHeld
from shelfcall.orders.events import EventType
from shelfcall.orders.models import Order, OrderStatus
from tests.factories import make_product, make_showcase, make_store, staff, stock_of, submit
from tests.notify.factories import make_channel, make_escalation

pytestmark = pytest.mark.django_db
START = "2026-11-23 10:00:00+00:00"
KIM = ShopperContact(name="Kim", email="kim@example.com")


@pytest.fixture
def store():
    return make_store(unclaimed_expiry_minutes=45, max_units_per_device=10, max_units_per_address=20)


@pytest.fixture
def showcase(store):
    return make_showcase(store, products=[make_product(store, name="Cordless drill", on_hand=100)], code="TOOLS234")


class TestUnclaimedRequestsLapse:
    def test_the_store_timer_expires_it_releases_the_stock_and_tells_the_shopper(self, store, showcase, time_machine):
        time_machine.move_to(START, tick=False)
        product = showcase.items.get().product
        order = submit(showcase, {product: 3}, contact=KIM)
        assert order.expires_at == order.created_at + timedelta(minutes=45)
        time_machine.shift(timedelta(minutes=44, seconds=59))
        assert fire_due_timers() == 0
        time_machine.shift(timedelta(seconds=1))
        assert fire_due_timers() == 1
        order.refresh_from_db()
        assert order.status == OrderStatus.EXPIRED and stock_of(product, store).reserved == 0
        expired = order.events.get(type=EventType.EXPIRED)
        assert "Nobody could take your request in time" in expired.payload["reason"]
        told = OutboxMessage.objects.get(order=order, destination="kim@example.com")
        assert told.purpose == "cancelled" and "Nobody could take your request" in told.body["text"]

    def test_the_status_page_says_when_it_lapses(self, client, showcase, time_machine):
        time_machine.move_to(START, tick=False)
        order = submit(showcase)
        page = client.get(reverse("shopper:status", args=[order.public_token])).content.decode()
        assert "If nobody has started on it by 11:45" in page  # 10:45 UTC in Paris

    def test_claiming_stops_the_timer_and_putting_back_starts_it_again(self, store, showcase, time_machine):
        time_machine.move_to(START, tick=False)
        order, alex = submit(showcase), staff(store)
        assert actions.claim_order(order.pk, by=alex).expires_at is None
        time_machine.shift(timedelta(hours=3))
        assert fire_due_timers() == 0
        assert actions.unclaim_order(order.pk, by=alex).expires_at == order.created_at + timedelta(hours=3, minutes=45)

    def test_the_last_escalation_level_can_cancel_and_release(self, store, showcase, time_machine):
        time_machine.move_to(START, tick=False)
        store.unclaimed_expiry_minutes = 600
        store.save()
        team, manager = (make_channel(store, "https://chat.example/hook", events=[], name=n) for n in ("team", "mgr"))
        policy = make_escalation(store, [(5, team), (15, manager)])
        policy.levels.filter(after_minutes=15).update(cancel_and_release=True)
        product = showcase.items.get().product
        order = submit(showcase, {product: 2}, contact=KIM)
        time_machine.shift(timedelta(minutes=5))
        fire_due_timers()
        time_machine.shift(timedelta(minutes=10))
        fire_due_timers()  # the last level's alert goes out, then the expiry pass of the same sweep ends the order
        order.refresh_from_db()
        assert order.status == OrderStatus.EXPIRED and stock_of(product, store).reserved == 0
        assert list(order.events.values_list("type", flat=True)) == [
            EventType.CREATED,
            EventType.ESCALATED,
            EventType.ESCALATED,
            EventType.EXPIRED,
        ]
        alert = OutboxMessage.objects.get(order=order, channel=manager)
        assert "cancelled and its items are back on sale" in alert.body["text"]
        assert OutboxMessage.objects.filter(order=order, destination="kim@example.com", purpose="cancelled").exists()

    def test_the_setting_is_validated(self, store):
        store.unclaimed_expiry_minutes = 0
        with pytest.raises(ValidationError) as refused:
            store.full_clean()
        assert "unclaimed_expiry_minutes" in refused.value.message_dict


class TestWhatOneClientHolds:
    def test_a_phone_holds_at_most_its_cap(self, showcase):
        product = showcase.items.get().product
        submit(showcase, {product: 5}, device_id="phone-1", client_address="198.51.100.7")
        submit(showcase, {product: 5}, device_id="phone-1", client_address="198.51.100.7")
        with pytest.raises(TooManyUnitsHeld, match="10 items on hold"):
            submit(showcase, {product: 1}, device_id="phone-1", client_address="198.51.100.7")

    def test_fresh_cookies_from_one_address_stop_at_the_address_cap(self, showcase):
        product = showcase.items.get().product
        for phone in range(4):  # a script: a new cookie for every order
            submit(showcase, {product: 5}, device_id=f"cookie-{phone}", client_address="198.51.100.7")
        with pytest.raises(AddressHoldsTooMuch):
            submit(showcase, {product: 1}, device_id="cookie-new", client_address="198.51.100.7")
        assert submit(showcase, {product: 5}, device_id="cookie-new", client_address="203.0.113.9")

    def test_one_ipv6_subscriber_is_one_address(self, showcase):
        from django.test import RequestFactory

        from shelfcall.core.clients import address_key

        product = showcase.items.get().product
        for host in range(4):
            request = RequestFactory().get("/", REMOTE_ADDR=f"2001:db8:1:2::{host + 1}")
            submit(showcase, {product: 5}, device_id=f"cookie-{host}", client_address=address_key(request))
        with pytest.raises(AddressHoldsTooMuch):
            request = RequestFactory().get("/", REMOTE_ADDR="2001:db8:1:2:ffff::9")
            submit(showcase, {product: 1}, device_id="cookie-new", client_address=address_key(request))

    def test_closed_orders_hold_nothing(self, store, showcase):
        product = showcase.items.get().product
        first = submit(showcase, {product: 5}, device_id="phone-1", client_address="198.51.100.7")
        submit(showcase, {product: 5}, device_id="phone-1", client_address="198.51.100.7")
        actions.cancel_order(first.pk, by=staff(store))
        assert submit(showcase, {product: 5}, device_id="phone-1", client_address="198.51.100.7")

    def test_the_order_keeps_a_keyed_hash_not_the_address(self, showcase):
        order = submit(showcase, device_id="phone-1", client_address="198.51.100.7")
        assert order.client_key and "198.51.100.7" not in order.client_key
        assert not Order.objects.filter(client_key__contains="198.51").exists()

    def test_the_cart_page_says_why_in_the_shoppers_words(self, showcase):
        refused = None
        for _ in range(5):  # 5 units a time, each from a new cookie, all from one address
            shopper = Client(REMOTE_ADDR="198.51.100.7")
            for _unit in range(5):
                shopper.post(reverse("shopper:add", args=[showcase.code]), {"product": showcase.items.get().product_id})
            page = shopper.get(reverse("shopper:cart", args=[showcase.code])).content.decode()
            key = re.search(r'name="submission_key" value="([^"]+)"', page).group(1)
            refused = shopper.post(reverse("shopper:submit", args=[showcase.code]), {"submission_key": key})
        assert refused.status_code == 409
        assert "Too many items are on hold from your network" in refused.content.decode()
        assert Order.objects.count() == 4

    def test_caps_that_would_refuse_every_order_are_refused(self, store):
        store.max_order_qty, store.max_units_per_device = 10, 5
        with pytest.raises(ValidationError) as refused:
            store.full_clean()
        assert "max_units_per_device" in refused.value.message_dict


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_submissions_at_the_same_moment_are_counted_one_after_the_other(showcase):
    """Six fresh cookies from one address at once: the address cap (20) lets exactly four of five units in."""
    from tests.orders.test_concurrency import race

    product = showcase.items.get().product
    results = race(
        [
            lambda n=n: submit(showcase, {product: 5}, device_id=f"cookie-{n}", client_address="198.51.100.7")
            for n in range(6)
        ]
    )
    assert sum(isinstance(r, Order) for r in results) == 4, results
    assert sum(isinstance(r, AddressHoldsTooMuch) for r in results) == 2, results

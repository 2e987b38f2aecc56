"""Messages are written with the order change and delivered by the worker, whatever the channel does."""

import random
from datetime import timedelta

import pytest
from django.db import transaction

from shelfcall.notify.models import DeliveryAttempt, MessageStatus, OutboxMessage
from shelfcall.notify.outbox import on_order_events
from shelfcall.notify.worker import deliver_due, retry_now
from shelfcall.orders import actions
from shelfcall.orders.actions import Offer, ShopperContact
from shelfcall.orders.events import Actor, EventType
from shelfcall.orders.models import Order, OrderEvent
from tests.factories import make_drop_zone, make_product, make_showcase, make_store, staff, submit
from tests.notify.factories import make_channel

pytestmark = pytest.mark.django_db
SEEDED = random.Random(7)


@pytest.fixture
def store():
    return make_store(name="Downtown")


@pytest.fixture
def showcase(store):
    return make_showcase(store)


def deliver_all():
    while deliver_due(rng=SEEDED):
        pass


class TestEnqueue:
    def test_new_order_alert_is_written_with_the_order(self, store, showcase, receiver):
        make_channel(store, receiver.url)
        order = submit(showcase, contact=ShopperContact(name="Kim"))
        [message] = OutboxMessage.objects.all()
        assert (message.purpose, message.order, message.status) == ("new_order", order, MessageStatus.PENDING)
        assert message.body["title"] == f"New order #{order.number}"
        assert ["Shopper", "Kim"] in message.body["facts"] and message.body["items"] == [
            f"1 × {order.lines.get().name}"
        ]
        assert message.body["url"].endswith(f"/w/orders/{order.pk}")
        assert not receiver.received  # the order flow never waits for a channel

    def test_nothing_is_written_when_the_order_is_not(self, store, showcase, receiver):
        make_channel(store, receiver.url)
        with pytest.raises(RuntimeError), transaction.atomic():
            submit(showcase)
            raise RuntimeError("the request failed after submit")
        assert not OutboxMessage.objects.exists()

    def test_claim_follow_up_says_who(self, store, showcase, receiver):
        make_channel(store, receiver.url)
        order = submit(showcase)
        actions.claim_order(order.pk, by=staff(store, "Alex"))
        assert OutboxMessage.objects.get(purpose="claimed").body["title"] == "Picking — Alex"

    def test_channels_only_get_their_events_and_their_team(self, store, showcase, receiver):
        make_channel(store, receiver.url, events=["order.completed"])
        make_channel(store, receiver.url, team=make_showcase(store).team)  # another team
        submit(showcase)
        assert not OutboxMessage.objects.exists()

    def test_shopper_hears_when_ready(self, store, showcase, settings):
        order = submit(showcase, contact=ShopperContact(name="Kim", email="kim@example.com"))
        alex = staff(store)
        actions.claim_order(order.pk, by=alex)
        actions.pick_line(order.pk, order.lines.get().pk, by=alex)
        actions.stage_order(order.pk, by=alex, drop_zone=make_drop_zone(store))
        message = OutboxMessage.objects.get(purpose="ready")
        assert (message.kind, message.destination) == ("email", "kim@example.com")
        assert "Customer Service desk" in message.body["text"] and message.body["url"].endswith(order.public_token)


class TestWorker:
    def test_delivers_and_records_the_answer(self, store, showcase, receiver):
        make_channel(store, receiver.url)
        submit(showcase)
        deliver_all()
        message = OutboxMessage.objects.get()
        assert message.status == MessageStatus.DELIVERED and len(receiver.received) == 1
        attempt = DeliveryAttempt.objects.get()
        assert attempt.ok and attempt.status_code == 200

    def test_a_failing_channel_is_retried_with_backoff_then_succeeds(self, store, showcase, receiver, time_machine):
        time_machine.move_to("2026-11-23 10:00:00+00:00", tick=False)
        receiver.answers = [(500, 0), (503, 0), (200, 0)]
        make_channel(store, receiver.url)
        submit(showcase)
        deliver_all()
        message = OutboxMessage.objects.get()
        assert message.status == MessageStatus.PENDING and message.attempts == 1 and message.last_error
        first_retry = message.next_attempt_at
        assert timedelta(seconds=8) <= first_retry - message.created_at <= timedelta(seconds=12)
        time_machine.move_to(first_retry)
        deliver_all()
        message.refresh_from_db()
        assert message.attempts == 2 and message.next_attempt_at - first_retry >= timedelta(seconds=16)
        time_machine.move_to(message.next_attempt_at)
        deliver_all()
        message.refresh_from_db()
        assert message.status == MessageStatus.DELIVERED and message.delivery_attempts.count() == 3

    def test_gives_up_after_the_configured_attempts(self, store, showcase, receiver, settings, time_machine):
        settings.SHELFCALL_OUTBOX_MAX_ATTEMPTS = 3
        settings.SHELFCALL_HTTP_TIMEOUT = 0.2
        receiver.answers = [(200, 0.5)]  # too slow, every time
        make_channel(store, receiver.url)
        submit(showcase)
        for _ in range(3):
            deliver_all()
            time_machine.move_to(OutboxMessage.objects.get().next_attempt_at + timedelta(seconds=1))
        message = OutboxMessage.objects.get()
        assert message.status == MessageStatus.FAILED and message.last_error == "timed out"
        assert retry_now([message.pk]) == 1
        receiver.answers = [(200, 0)]
        deliver_all()
        message.refresh_from_db()
        assert message.status == MessageStatus.DELIVERED

    def test_refused_address_fails_without_stopping_the_others(self, store, showcase, receiver, caplog):
        bad = make_channel(store, "http://10.1.2.3/secret-path?token=abc", name="bad")
        bad.allow_private_network = False
        bad.save()
        make_channel(store, receiver.url, name="good")
        submit(showcase)
        deliver_all()
        assert OutboxMessage.objects.get(channel=bad).last_error.startswith("This address points into a private")
        assert len(receiver.received) == 1
        assert "secret-path" not in caplog.text and "token=abc" not in caplog.text

    def test_claimed_messages_are_not_sent_twice_by_a_second_pass(self, store, showcase, receiver):
        make_channel(store, receiver.url)
        for _ in range(3):
            submit(showcase)
        deliver_all()
        deliver_all()
        assert len(receiver.received) == 3
        assert len({r.headers.get("content-length") and r.body for r in receiver.received}) == 3


def test_order_timeline_lists_its_messages(store, showcase, receiver, client):
    from tests.factories import make_user

    make_channel(store, receiver.url)
    order = submit(showcase)
    deliver_all()
    client.force_login(make_user(store))
    page = client.get(f"/w/orders/{order.pk}").content.decode()
    assert "Messages" in page and "Delivered" in page


def test_associate_can_resend_the_ready_message(store, showcase, client):
    from tests.factories import make_user

    order = submit(showcase, contact=ShopperContact(email="kim@example.com"))
    alex = make_user(store)
    actor = Actor.staff(alex)
    actions.claim_order(order.pk, by=actor)
    actions.pick_line(order.pk, order.lines.get().pk, by=actor)
    actions.stage_order(order.pk, by=actor, note="Desk")
    client.force_login(alex)
    client.post(f"/w/orders/{order.pk}/resend")
    assert OutboxMessage.objects.filter(purpose="ready", destination="kim@example.com").count() == 2


class TestSubstituteOffer:
    """The shopper hears of a substitute by their own channels, not only on a page they keep open."""

    @pytest.fixture
    def offered(self, store, time_machine):
        time_machine.move_to("2026-11-23 10:00:00+00:00", tick=False)
        store.substitute_wait_minutes = 10
        store.save()
        wanted = make_product(store, name="Series 9 shaver", price="300.00")
        order = submit(
            make_showcase(store, products=[wanted]),
            {wanted: 2},
            contact=ShopperContact(name="Kim", email="kim@example.com"),
        )
        Order.objects.filter(pk=order.pk).update(locale="fr")
        alex = staff(store, "Alex")
        actions.claim_order(order.pk, by=alex)
        return order, order.lines.get(), alex

    def test_once_per_proposal_with_every_offer_and_the_link(self, store, offered):
        order, line, alex = offered
        series8 = make_product(store, name="Series 8 shaver", price="249.99")
        series7 = make_product(store, name="Series 7 shaver", price="199.00")
        offers = [Offer(series8.pk, 1), Offer(series7.pk, 1)]
        actions.propose_substitutes(order.pk, line.pk, by=alex, offers=offers, not_found_qty=1)
        [message] = OutboxMessage.objects.filter(purpose="substitute")
        assert (message.kind, message.destination) == ("email", "kim@example.com")
        assert message.body["url"].endswith(order.public_token)  # the status page, where they answer
        # in the shopper's language (French money), with the time the store's default applies (Paris time)
        assert message.body["items"] == ["1 × Series 8 shaver — 249,99\xa0€", "1 × Series 7 shaver — 199,00\xa0€"]
        assert "11:10" in message.body["text"] and "Series 7 shaver" in message.body["text"]

        actions.propose_substitutes(
            order.pk, line.pk, by=alex, offers=[Offer(make_product(store).pk, 1)], not_found_qty=1
        )
        assert OutboxMessage.objects.filter(purpose="substitute").count() == 2  # a new proposal, a new message

    def test_recorded_again_the_message_is_not_written_twice(self, store, offered):
        order, line, alex = offered
        actions.propose_substitutes(
            order.pk, line.pk, by=alex, offers=[Offer(make_product(store).pk, 1)], not_found_qty=1
        )
        events = OrderEvent.objects.filter(order=order, type=EventType.SUBSTITUTE_PROPOSED).select_related("order")
        on_order_events([(event, event.order) for event in events])
        assert OutboxMessage.objects.filter(purpose="substitute").count() == 1

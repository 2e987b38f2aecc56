"""Webhooks delivered by the worker are Standard Webhooks: thin event data with the event's typed payload,
the event id as webhook-id, and both secrets signing while one is rotated."""

import base64
import importlib
import random
from datetime import timedelta

import pytest
from django.apps import apps

from shelfcall.api.event_schemas import WEBHOOK_BODIES
from shelfcall.core import clock
from shelfcall.notify.channels.webhook import new_secret
from shelfcall.notify.models import Channel, OutboxMessage
from shelfcall.notify.worker import deliver_due
from shelfcall.orders.events import EventType
from shelfcall.orders.models import OrderEvent
from tests.factories import make_showcase, make_store, submit
from tests.notify.factories import make_channel
from tests.notify.receiver import TEST_WEBHOOK_SECRET

pytestmark = pytest.mark.django_db
NEW_SECRET = new_secret(lambda size: b"n" * size)


def order_alerted_by_webhook(receiver):
    store = make_store()
    channel = make_channel(store, receiver.url, kind="webhook", events=["order.created"])
    return channel, submit(make_showcase(store))


def test_the_body_is_thin_and_the_id_is_the_events(receiver):
    _channel, order = order_alerted_by_webhook(receiver)
    deliver_due(rng=random.Random(1))
    [received] = receiver.received
    event = OrderEvent.objects.get(order=order, type="order.created")
    assert received.verified and received.headers["webhook-id"] == str(event.pk)
    assert received.json() == {
        "type": "order.created",
        "timestamp": event.created_at.isoformat(),
        "data": {
            "event_id": event.pk,
            "order_id": order.pk,
            "number": order.number,
            "status": order.status,
            "payment_status": order.payment_status,
            "store_id": order.store_id,
            "team_id": order.team_id,
            "external_id": "",
            "payload": event.payload,
        },
    }
    assert WEBHOOK_BODIES[EventType.CREATED].model_validate(received.json()), "the body the OpenAPI document shows"


def test_a_rotated_secret_signs_beside_the_new_one_until_it_expires(receiver, time_machine):
    time_machine.move_to("2026-11-23 10:00:00+00:00", tick=False)
    channel, _order = order_alerted_by_webhook(receiver)
    channel.rotate_secret(NEW_SECRET, keep_previous_for=timedelta(hours=24))
    receiver.webhook_secrets = [TEST_WEBHOOK_SECRET]  # a receiver not yet told the new secret
    deliver_due(rng=random.Random(1))
    assert receiver.received[0].verified
    assert len(receiver.received[0].headers["webhook-signature"].split(" ")) == 2

    time_machine.shift(timedelta(hours=24, seconds=1))
    OutboxMessage.objects.update(status="pending", next_attempt_at=clock.now())
    receiver.webhook_secrets = [NEW_SECRET]
    deliver_due(rng=random.Random(1))
    assert receiver.received[1].verified
    assert len(receiver.received[1].headers["webhook-signature"].split(" ")) == 1


def test_a_blank_secret_is_made_when_the_channel_is_checked():
    store = make_store()
    channel = Channel(store=store, name="w", kind="webhook", target="http://127.0.0.1/x", allow_private_network=True)
    channel.full_clean()
    assert channel.secret.startswith("whsec_")


def test_an_old_plain_secret_is_migrated_to_the_same_key():
    migration = importlib.import_module("shelfcall.notify.migrations.0004_webhook_secret_rotation")
    store = make_store()
    channel = make_channel(store, "http://127.0.0.1/x", kind="webhook", secret="0123456789abcdef")
    migration.secrets_to_standard_webhooks(apps, None)
    channel.refresh_from_db()
    assert channel.secret == "whsec_" + base64.b64encode(b"0123456789abcdef").decode()

"""Webhook subscriptions of a store or a whole organization: who gets which events, at a flat cost."""

import importlib

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shelfcall.notify import policies
from shelfcall.notify.models import ALL_EVENTS, Channel, OutboxMessage
from shelfcall.notify.subscriptions import Reach, subscribe
from tests.factories import make_showcase, make_store, submit
from tests.notify.factories import make_channel

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _local_receivers_allowed(settings):
    settings.SHELFCALL_PRIVATE_HOSTS_ALLOWED = {"127.0.0.1"}


def organization_channel(store, *, events=(ALL_EVENTS,)) -> Channel:
    return subscribe(
        Reach(store.organization_id), url="http://127.0.0.1:9/hook", event_types=list(events), description=""
    )


def test_an_organization_subscription_gets_the_events_of_each_of_its_stores():
    first = make_store()
    second, stranger = make_store(organization=first.organization), make_store()
    channel = organization_channel(first)
    orders = [submit(make_showcase(store)) for store in (first, second, stranger)]
    assert sorted(OutboxMessage.objects.filter(channel=channel).values_list("order_id", flat=True)) == [
        orders[0].pk,
        orders[1].pk,
    ]


def test_a_store_subscription_gets_only_its_stores_events():
    store = make_store()
    sister = make_store(organization=store.organization)
    channel = subscribe(
        Reach(store.organization_id, store.pk), url="http://127.0.0.1:9/x", event_types=None, description=""
    )
    submit(make_showcase(sister))
    order = submit(make_showcase(store))
    assert list(OutboxMessage.objects.filter(channel=channel).values_list("order_id", flat=True)) == [order.pk]
    assert channel.organization_id == store.organization_id and channel.events == [ALL_EVENTS]


def test_event_types_filter_what_is_sent():
    store = make_store()
    organization_channel(store, events=["order.cancelled"])
    submit(make_showcase(store))
    assert not OutboxMessage.objects.exists()


def test_the_fan_out_costs_the_same_statements_for_one_channel_or_many():
    def statements_to_submit(store) -> int:
        showcase = make_showcase(store)
        policies.forget()  # the channels are read, not served from this process's cache
        with CaptureQueriesContext(connection) as queries:
            submit(showcase)
        return len(queries)

    one, many = make_store(), make_store()
    organization_channel(one)
    make_channel(one, "http://127.0.0.1:9/a", kind="webhook")
    for _ in range(6):
        organization_channel(many)
    make_channel(many, "http://127.0.0.1:9/a", kind="webhook")
    assert statements_to_submit(one) == statements_to_submit(many)
    assert OutboxMessage.objects.filter(order__store=many).count() == 7


def test_the_migration_gives_every_channel_its_stores_organization():
    migration = importlib.import_module("shelfcall.notify.migrations.0005_channel_organization_and_subscriptions")
    store = make_store()
    channel = make_channel(store, "http://127.0.0.1/x")
    Channel.objects.filter(pk=channel.pk).update(organization=make_store().organization)
    migration.organization_from_store(apps, None)
    channel.refresh_from_db()
    assert channel.organization_id == store.organization_id

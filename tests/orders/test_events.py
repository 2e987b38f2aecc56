"""The event log's writer: many events in one INSERT, each with its id and its messages."""

import pytest
from django.db import connection

from shelfcall.core.checks import database_returns_ids_from_bulk_inserts
from shelfcall.notify.models import OutboxMessage
from shelfcall.orders.events import SYSTEM, EventType, record_many
from shelfcall.orders.models import Order, OrderEvent
from tests.factories import make_product, make_showcase, make_store, submit
from tests.notify.factories import make_channel

pytestmark = pytest.mark.django_db


def test_many_events_in_one_insert_get_ids_and_their_messages(count_statements):
    store = make_store()
    make_channel(store, "http://127.0.0.1:9/", events=["order.reminded"])
    showcase = make_showcase(store, products=[make_product(store, on_hand=10)])
    submitted = [submit(showcase).pk for _ in range(3)]
    orders = list(Order.objects.select_related("store", "team").filter(pk__in=submitted).order_by("pk"))
    with count_statements(2):  # the events, then their messages (store and team loaded with the orders)
        events = record_many([(order, EventType.REMINDED, {"kind": "reminder"}) for order in orders], actor=SYSTEM)
    assert all(event.pk for event in events)
    assert [e.order_id for e in OrderEvent.objects.filter(type=EventType.REMINDED)] == [o.pk for o in orders]
    keys = set(OutboxMessage.objects.filter(event__in=events).values_list("dedupe_key", flat=True))
    assert keys == {f"{event.pk}:c{store.channels.get().pk}" for event in events}


def test_a_database_that_gives_no_ids_back_is_refused_at_start(monkeypatch):
    assert database_returns_ids_from_bulk_inserts() == []
    monkeypatch.setattr(type(connection.features), "can_return_rows_from_bulk_insert", False)
    [error] = database_returns_ids_from_bulk_inserts()
    assert error.id == "shelfcall.E001" and "SQLite 3.35" in error.msg and "PostgreSQL" in error.hint

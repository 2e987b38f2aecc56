import threading
import time

import pytest
from django.db import connection, transaction

from shelfcall.api.event_schemas import EVENT_SCHEMAS
from shelfcall.orders import actions
from shelfcall.orders.events import SYSTEM, EventType, record
from shelfcall.orders.models import OrderEvent
from tests.factories import make_showcase, make_store, staff, submit


def _feed(api_get, key, **params):
    response = api_get("/api/v1/events", key, **params)
    assert response.status_code == 200, response.content
    return response.json()


def _feed_once_ready(api_get, key, count: int, **params):
    """On PostgreSQL the feed waits for every older writing transaction of the server to finish, and
    the shared test server runs other test sessions' transactions: ask again until `count` are out."""
    deadline = time.monotonic() + 30
    while len(page := _feed(api_get, key, **params)["data"]) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return page


@pytest.mark.django_db(transaction=True)  # on PostgreSQL the feed shows only committed transactions' events
def test_each_event_once_in_order_and_only_the_keys_stores(api_get, till_key, store):
    order = submit(make_showcase(store))
    submit(make_showcase(make_store()))  # another organization's events are never served
    for reason in ["one", "two", "three"]:
        record(order, EventType.CANCELLED, actor=SYSTEM, reason=reason)
    mine = list(OrderEvent.objects.filter(order=order).order_by("pk").values_list("pk", flat=True))
    _feed_once_ready(api_get, till_key, len(mine) + 1)
    seen, cursor = [], None
    while True:
        page = _feed(api_get, till_key, limit=3, **({"after": cursor} if cursor else {}))
        seen += [event["id"] for event in page["data"]]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert seen == mine
    assert page["data"][-1] == {
        "id": mine[-1],
        "type": "order.cancelled",
        "order_id": order.pk,
        "store_id": store.pk,
        "created_at": page["data"][-1]["created_at"],
        "actor_kind": "system",
        "actor_label": "Shelfcall",
        "payload": {"reason": "three"},
    }
    # Polling with the last cursor gives nothing new, then only what came since.
    assert _feed(api_get, till_key, after=cursor) == {"data": [], "next_cursor": cursor, "has_more": False}
    later = record(order, EventType.CANCELLED, actor=SYSTEM, reason="four")
    assert [event["id"] for event in _feed_once_ready(api_get, till_key, 1, after=cursor)] == [later.pk]


@pytest.mark.django_db(transaction=True)
def test_each_event_has_its_types_schema(api_get, till_key, store):
    order = submit(make_showcase(store))
    alex = staff(store)
    actions.claim_order(order.pk, by=alex)
    actions.pick_line(order.pk, order.lines.get().pk, by=alex)
    actions.stage_order(order.pk, by=alex, note="Desk")
    events = _feed_once_ready(api_get, till_key, 4)
    assert [event["type"] for event in events] == ["order.created", "order.claimed", "order.picking", "order.fulfilled"]
    for event in events:
        typed = EVENT_SCHEMAS[EventType(event["type"])].model_validate(event)
        assert typed.payload.model_dump(mode="json") == event["payload"]
    assert events[-1]["payload"] == {"location": "Desk", "drop_zone_id": None}


@pytest.mark.django_db
def test_forged_cursor_is_refused_by_name(api_get, till_key):
    response = api_get("/api/v1/events", till_key, after="eyJ4Ijo5OTk5OX0")
    assert response.status_code == 422 and response.json()["error"]["field"] == "after"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_event_committed_after_a_later_numbered_one_is_not_skipped(api_get, till_key, store):
    """Transaction A writes event N and stays open; B writes N+1 and commits first. A reader going by
    'id > last seen' would take N+1 and never see N. The feed waits for A, then gives N, N+1."""
    order = submit(make_showcase(store))
    _feed_once_ready(api_get, till_key, 1)
    start = _feed(api_get, till_key)
    assert start["data"] and not start["has_more"]
    a_wrote, b_committed, a_may_commit = threading.Event(), threading.Event(), threading.Event()
    written: dict[str, int] = {}

    def in_transaction(name: str, before_commit) -> None:
        try:
            with transaction.atomic():
                written[name] = record(order, EventType.CANCELLED, actor=SYSTEM, reason=name).pk
                before_commit()
        finally:
            connection.close()

    a = threading.Thread(target=in_transaction, args=("A", lambda: (a_wrote.set(), a_may_commit.wait(10))))
    a.start()
    assert a_wrote.wait(10)
    b = threading.Thread(target=in_transaction, args=("B", lambda: None))
    b.start()
    b.join(10)
    b_committed.set()
    assert written["A"] < written["B"], "A took the smaller id"
    waiting = _feed(api_get, till_key, after=start["next_cursor"])
    assert waiting["data"] == [], "B's event waits until A, older, has finished"
    a_may_commit.set()
    a.join(10)
    after = _feed_once_ready(api_get, till_key, 2, after=waiting["next_cursor"])
    assert [event["id"] for event in after] == [written["A"], written["B"]]
    cursor = _feed(api_get, till_key, after=waiting["next_cursor"])["next_cursor"]
    assert _feed(api_get, till_key, after=cursor)["data"] == []

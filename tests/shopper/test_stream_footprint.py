"""What an open status stream keeps while it waits: at 10,000 open streams every KB kept is 10 MB
(benchmarks/sse_latency.py, "memory per open stream")."""

import pytest
from django.db.models import Model
from django.urls import resolve, reverse

from shelfcall.orders import actions
from shelfcall.orders.queries import last_event_id
from shelfcall.shopper.status import StatusPoll
from tests.factories import make_showcase, make_store, staff, submit


def test_a_status_stream_is_the_first_address_tried():
    """Its request keeps its URL match, and the match keeps every pattern tried before it."""
    match = resolve(reverse("shopper:events", args=["a" * 32]))
    assert match.view_name == "shopper:events"
    assert len(match.tried) == 1  # its own: the shopper's addresses, then the stream's


@pytest.mark.django_db
def test_a_status_poll_keeps_no_model_instance_before_or_after_a_read():
    order = submit(make_showcase(make_store()))
    poll = StatusPoll(order, "en", "csrf")
    opened_at = last_event_id(order.pk)
    assert not any(isinstance(kept, Model) for kept in vars(poll).values())

    actions.claim_order(order.pk, by=staff(order.store, "Alex"))
    message = poll.message(poll.read(opened_at))

    assert message is not None and message.data["status"] == "picking"
    assert poll.order.status == "picking" and poll.order.public_token == order.public_token
    assert poll.topics() == [f"order:{order.pk}"]  # taken: it no longer follows its queue
    assert not any(isinstance(kept, Model) for kept in vars(poll).values())

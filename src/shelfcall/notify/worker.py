"""Delivers the outbox: claim due messages with a lease, send, record the attempt, retry with backoff.

Claiming uses FOR UPDATE SKIP LOCKED, so any number of workers share the work without sending a
message twice. A worker killed mid-batch leaves its claimed messages leased: once the lease runs
out another worker sends them, with the same idempotency key, so a receiver can drop a repeat.

The lease is the message's next_attempt_at while it is claimed; a new claim always moves it later,
so it also tells whose lease it is. Before each send a worker makes sure its lease outlasts the
send's deadline (renewing it if not, or skipping a message another worker took over), and the
outcome is recorded only while the lease is still its own.
"""

import logging
import random
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet

from shelfcall.core import clock
from shelfcall.notify import wakeup
from shelfcall.notify.channels import PLUGINS, Delivery, Destination
from shelfcall.notify.channels.base import send_deadline_seconds
from shelfcall.notify.messages import Message
from shelfcall.notify.models import DeliveryAttempt, MessageStatus, OutboxMessage

log = logging.getLogger(__name__)

# Time a worker keeps in hand beyond a send's deadline: recording the outcome, clocks a little apart.
LEASE_MARGIN_SECONDS = 5
BACKOFF_BASE_SECONDS = 10
BACKOFF_CAP_SECONDS = 3600


def backoff(attempts: int, rng: random.Random) -> timedelta:
    """10 s, 20 s, 40 s … up to an hour, ±20 % so that retries of one outage spread out."""
    seconds = min(BACKOFF_BASE_SECONDS * 2 ** (attempts - 1), BACKOFF_CAP_SECONDS)
    return timedelta(seconds=seconds * rng.uniform(0.8, 1.2))


def claim_due(batch: int) -> list[OutboxMessage]:
    now = clock.now()
    with transaction.atomic():
        due = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(status=MessageStatus.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:batch]
        )
        if due:
            lease = timedelta(seconds=settings.SHELFCALL_OUTBOX_LEASE_SECONDS)
            OutboxMessage.objects.filter(pk__in=due).update(next_attempt_at=now + lease, attempts=F("attempts") + 1)
    return list(OutboxMessage.objects.filter(pk__in=due).select_related("channel").order_by("pk"))


def next_message_at() -> datetime | None:
    """When the earliest waiting message is due (a claimed one: when its lease runs out)."""
    waiting = OutboxMessage.objects.filter(status=MessageStatus.PENDING)
    return waiting.order_by("next_attempt_at").values_list("next_attempt_at", flat=True).first()


def deliver_due(*, batch: int = 20, rng: random.Random | None = None) -> int:
    """One pass: returns how many messages were tried."""
    rng = rng or random.Random()
    messages = claim_due(batch)
    for message in messages:
        deliver(message, rng=rng)
    return len(messages)


def deliver(message: OutboxMessage, *, rng: random.Random) -> Delivery | None:
    """Send one claimed message and record how it went; None if its lease went to another worker."""
    if not _lease_outlasts_a_send(message):
        log.info("Message %s is another worker's now; not sent here", message.pk)
        return None
    started, began = clock.now(), time.monotonic()
    delivery = _send(message)
    DeliveryAttempt.objects.create(
        message=message,
        started_at=started,
        duration_ms=int((time.monotonic() - began) * 1000),
        ok=delivery.ok,
        status_code=delivery.status_code,
        answer=delivery.answer[:500],
    )
    if not _record_outcome(message, delivery, rng):
        log.warning("Message %s: its lease ran out during the send; the outcome is left to its new worker", message.pk)
    elif not delivery.ok and (message.attempts >= message.max_attempts or delivery.final):
        log.warning(
            "Message %s to a %s channel failed for good after %s attempts", message.pk, message.kind, message.attempts
        )
    return delivery


def _still_leased(message: OutboxMessage) -> QuerySet[OutboxMessage]:
    return OutboxMessage.objects.filter(
        pk=message.pk, status=MessageStatus.PENDING, next_attempt_at=message.next_attempt_at
    )


def _lease_outlasts_a_send(message: OutboxMessage) -> bool:
    """True if this worker's lease covers one more send (renewing it if need be)."""
    now = clock.now()
    needed = timedelta(seconds=send_deadline_seconds() + LEASE_MARGIN_SECONDS)
    if message.next_attempt_at - now >= needed:
        return True
    renewed = now + timedelta(seconds=settings.SHELFCALL_OUTBOX_LEASE_SECONDS)
    if not _still_leased(message).update(next_attempt_at=renewed):
        return False
    message.next_attempt_at = renewed
    return True


def _record_outcome(message: OutboxMessage, delivery: Delivery, rng: random.Random) -> bool:
    if delivery.ok:
        outcome = {"status": MessageStatus.DELIVERED, "delivered_at": clock.now()}
    elif message.attempts >= message.max_attempts or delivery.final:
        outcome = {"status": MessageStatus.FAILED, "last_error": delivery.answer[:300]}
    else:
        outcome = {"next_attempt_at": clock.now() + backoff(message.attempts, rng), "last_error": delivery.answer[:300]}
    return bool(_still_leased(message).update(**outcome))


def _send(message: OutboxMessage) -> Delivery:
    plugin = PLUGINS.get(message.kind)
    channel = message.channel
    if plugin is None or (message.channel_id and (channel is None or not channel.active)):
        return Delivery(False, None, "channel removed or switched off")
    if message.destination or channel is None:  # a shopper's address, or one device of a push channel
        destination = Destination(message.destination, channel_id=message.channel_id)
    else:
        destination = channel.destination()
    try:
        return plugin.deliver(destination, Message.from_json(message.body), idempotency_key=message.dedupe_key)
    except Exception as error:  # a refused address or a plugin bug must not stop the other messages
        log.warning("Message %s to a %s channel raised %s", message.pk, message.kind, type(error).__name__)
        return Delivery(False, None, str(error)[:300] or type(error).__name__)


def retry_now(message_ids: list[int]) -> int:
    """An admin's "try again" on failed messages: back to the queue with fresh attempts."""
    return _queue_again(OutboxMessage.objects.filter(pk__in=message_ids).exclude(status=MessageStatus.DELIVERED))


def replay(message_id: int) -> bool:
    """Send a delivered or failed message again (same webhook-id), with fresh attempts; False if it is
    still waiting to be sent (it will be: nothing to replay)."""
    return bool(_queue_again(OutboxMessage.objects.filter(pk=message_id).exclude(status=MessageStatus.PENDING)))


def _queue_again(messages: QuerySet[OutboxMessage]) -> int:
    with transaction.atomic():
        count = messages.update(status=MessageStatus.PENDING, attempts=0, next_attempt_at=clock.now(), last_error="")
        if count:
            wakeup.work_queued()
    return count

"""Generic webhooks: the event as JSON, signed with HMAC-SHA256 over "timestamp.body".

Receivers verify `Shelfcall-Signature: v1=<hex>` with their secret, reject stale timestamps, and
use `Idempotency-Key` (also the body's "id") to ignore a redelivery.
"""

import hashlib
import hmac
import json
import time

from shelfcall.notify.channels.base import ChannelPlugin, Delivery, Destination, post
from shelfcall.notify.messages import Message


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def webhook_body(message: Message, idempotency_key: str) -> bytes:
    payload = {"id": idempotency_key, **message.event}
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode()


class WebhookChannel(ChannelPlugin):
    kind = "webhook"

    def deliver(self, destination: Destination, message: Message, *, idempotency_key: str) -> Delivery:
        body = webhook_body(message, idempotency_key)
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": idempotency_key,
            "Shelfcall-Event": message.event.get("type", message.purpose),
            "Shelfcall-Timestamp": timestamp,
            "Shelfcall-Signature": sign(destination.secret, timestamp, body),
        }
        return post(destination, content=body, headers=headers)

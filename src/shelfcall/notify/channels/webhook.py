"""Generic webhooks in the Standard Webhooks 1.0 format (standardwebhooks.com), so that any of its
libraries verifies them.

Headers: `webhook-id` (the event's id: the same on every retry, for the receiver to drop repeats),
`webhook-timestamp` (Unix seconds of this attempt, for the receiver to refuse replays) and
`webhook-signature`: `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, one per secret in use,
space-separated (two while a secret is being rotated). Secrets are `whsec_` + base64 of the key.
"""

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from shelfcall.core import clock
from shelfcall.notify.channels.base import Delivery, Destination, WebAddressPlugin, post
from shelfcall.notify.messages import Message

if TYPE_CHECKING:
    from shelfcall.notify.models import Channel

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
MIN_KEY_BYTES = 24  # the Standard Webhooks minimum
TEST_EVENT_TYPE = "shelfcall.test"


def new_secret(random_bytes: Callable[[int], bytes] = secrets.token_bytes) -> str:
    return SECRET_PREFIX + base64.b64encode(random_bytes(SECRET_BYTES)).decode("ascii")


def signing_key(secret: str) -> bytes | None:
    """The HMAC key a `whsec_` secret stands for; None if `secret` is not one."""
    if not secret.startswith(SECRET_PREFIX):
        return None
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        return None


def is_valid_secret(secret: str) -> bool:
    key = signing_key(secret)
    return key is not None and len(key) >= MIN_KEY_BYTES


def signature(secret: str, webhook_id: str, timestamp: str, body: bytes) -> str:
    key = signing_key(secret)
    if key is None:
        raise ValueError("a webhook secret must be whsec_ followed by base64")
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode("ascii")


def test_event(random_bytes: Callable[[int], bytes] = secrets.token_bytes) -> dict:
    """A test event with an id of its own, so that a receiver dropping repeats still shows each test."""
    webhook_id = "test_" + random_bytes(8).hex()
    return {"id": webhook_id, "type": TEST_EVENT_TYPE, "timestamp": clock.now().isoformat(), "data": {}}


def webhook_body(message: Message) -> bytes:
    event = message.event
    payload = {"type": event["type"], "timestamp": event["timestamp"], "data": event["data"]}
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


class WebhookChannel(WebAddressPlugin):
    kind = "webhook"
    label = _("Webhook (signed JSON)")
    target_help = _("The receiver's URL; the signing secret is made for you if you leave it empty.")

    def clean(self, channel: "Channel") -> None:
        super().clean(channel)
        if not channel.secret:
            channel.secret = new_secret()
        elif not is_valid_secret(channel.secret):
            raise ValidationError(
                {
                    "secret": _(
                        "Write whsec_ followed by base64 of at least 24 bytes, or leave it empty to have one made."
                    )
                }
            )

    def deliver(self, destination: Destination, message: Message, *, idempotency_key: str) -> Delivery:
        body = webhook_body(message)
        webhook_id = str(message.event.get("id") or idempotency_key)
        timestamp = str(int(clock.now().timestamp()))
        in_use = [destination.secret, *([destination.previous_secret] if destination.previous_secret else [])]
        headers = {
            "Content-Type": "application/json",
            "webhook-id": webhook_id,
            "webhook-timestamp": timestamp,
            "webhook-signature": " ".join(signature(secret, webhook_id, timestamp, body) for secret in in_use),
        }
        return post(destination, content=body, headers=headers)

"""Standard Web Push to associates' devices, with no vendor account: the server's own VAPID key
(RFC 8292) and the message encrypted for each device (RFC 8291, aes128gcm content coding, RFC 8188).

A push channel's message is fanned out when the worker delivers it: one outbox row per device of the
people it reaches who are on shift, so that each device is retried (with backoff) on its own and
shows in the delivery history on its own. A push service answering 404 or 410 says the subscription
has expired: it is removed, and that message fails at once.
"""

import base64
import json
import logging
import os
from collections.abc import Callable
from datetime import timedelta
from email.utils import parseaddr
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes, hmac, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from shelfcall.core import clock
from shelfcall.notify import outbox, wakeup
from shelfcall.notify.channels.base import Delivery, Destination, post
from shelfcall.notify.messages import Message
from shelfcall.notify.models import Channel, OutboxMessage, PushSubscription, Shift, VapidKey
from shelfcall.stores.models import Store

log = logging.getLogger(__name__)

KIND = "push"
DEVICE_PREFIX = "device:"  # OutboxMessage.destination of one device's message
RECORD_SIZE = 4096
PAYLOAD_LIMIT = 3000  # bytes of JSON: one record, well under what every push service takes
ITEMS_SHOWN = 3
JWT_LIFETIME = timedelta(hours=12)  # RFC 8292: at most 24 hours
TIME_TO_LIVE_SECONDS = 3600  # an alert nobody sees within the hour is stale
GONE = {404, 410}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _public_bytes(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


# --- The server's key -------------------------------------------------------------------------------


def _server_key() -> ec.EllipticCurvePrivateKey:
    """The VAPID private key, made (once, whichever process asks first) and kept in the database."""

    def new_pem() -> str:
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return pem.decode("ascii")

    row = VapidKey.objects.filter(pk=1).first()
    if row is None:
        row, _created = VapidKey.objects.get_or_create(pk=1, defaults={"private_key_pem": new_pem()})
    key = serialization.load_pem_private_key(row.private_key_pem.encode("ascii"), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


def application_server_key() -> str:
    """The public key browsers subscribe with (PushManager.subscribe's applicationServerKey)."""
    return b64url(_public_bytes(_server_key().public_key()))


def _hmac(key: bytes, data: bytes) -> bytes:
    mac = hmac.HMAC(key, hashes.SHA256())
    mac.update(data)
    return mac.finalize()


def vapid_authorization(endpoint: str, key: ec.EllipticCurvePrivateKey) -> str:
    """`Authorization: vapid t=<ES256 JWT>, k=<public key>` for the endpoint's push service (RFC 8292)."""
    parts = urlsplit(endpoint)
    contact = parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "shelfcall@localhost"
    claims = {
        "aud": f"{parts.scheme}://{parts.netloc}",
        "exp": int((clock.now() + JWT_LIFETIME).timestamp()),
        "sub": f"mailto:{contact}",
    }
    header = b64url(json.dumps({"typ": "JWT", "alg": "ES256"}, separators=(",", ":")).encode())
    signed = f"{header}.{b64url(json.dumps(claims, separators=(',', ':')).encode())}"
    r, s = decode_dss_signature(key.sign(signed.encode("ascii"), ec.ECDSA(hashes.SHA256())))
    token = f"{signed}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"
    return f"vapid t={token}, k={b64url(_public_bytes(key.public_key()))}"


# --- Encryption (RFC 8291) --------------------------------------------------------------------------


def encrypt(
    plaintext: bytes,
    p256dh: str,
    auth: str,
    *,
    random_bytes: Callable[[int], bytes] = os.urandom,
    ephemeral: Callable[[], ec.EllipticCurvePrivateKey] = lambda: ec.generate_private_key(ec.SECP256R1()),
) -> bytes:
    """The aes128gcm body of one push message for the subscription's keys: a single record."""
    if len(plaintext) + 1 + 16 > RECORD_SIZE:  # the padding delimiter and the GCM tag share the record
        raise ValueError("a push message holds one record of at most 4 KB")
    ua_public_bytes = b64url_decode(p256dh)
    ua_public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), ua_public_bytes)
    as_private = ephemeral()
    as_public_bytes = _public_bytes(as_private.public_key())
    shared = as_private.exchange(ec.ECDH(), ua_public)
    # HKDF(auth, shared, "WebPush: info" || 0 || ua_public || as_public, 32)
    prk_key = _hmac(b64url_decode(auth), shared)
    ikm = _hmac(prk_key, b"WebPush: info\x00" + ua_public_bytes + as_public_bytes + b"\x01")
    salt = random_bytes(16)
    prk = _hmac(salt, ikm)
    cek = _hmac(prk, b"Content-Encoding: aes128gcm\x00\x01")[:16]
    nonce = _hmac(prk, b"Content-Encoding: nonce\x00\x01")[:12]
    ciphertext = AESGCM(cek).encrypt(nonce, plaintext + b"\x02", None)  # 0x02: the last (only) record
    header = salt + RECORD_SIZE.to_bytes(4, "big") + bytes([len(as_public_bytes)]) + as_public_bytes
    return header + ciphertext


# --- What a device shows ----------------------------------------------------------------------------


def payload(message: Message) -> dict:
    """What the service worker shows: the title, the store and the waiting time, the first items; a tap
    opens `url` (the order in the workspace). `tag` makes a newer alert about an order replace the older."""
    with translation.override(settings.LANGUAGE_CODE):  # the language the facts were written in
        facts = dict(message.facts)
        store, waiting = facts.get(_("Store")), facts.get(_("Waiting"))
        more_text = _("and %(count)s more")
    lines = [" · ".join(value for value in (store, waiting) if value)]
    items = message.items[:ITEMS_SHOWN]
    if items:
        more = len(message.items) - len(items)
        lines.append(", ".join(items) + (f" {more_text % {'count': more}}" if more > 0 else ""))
    order_id = message.event.get("data", {}).get("order_id")
    data = {
        "title": message.title,
        "body": "\n".join(line for line in lines if line) or message.text,
        # A path: the service worker opens it on its own origin, whatever BASE_URL says (or does not).
        "url": _path_of(message.url) or reverse("workspace:queue"),
        "tag": f"order-{order_id}" if order_id else message.purpose,
        "purpose": message.purpose,
    }
    while len(json.dumps(data).encode()) > PAYLOAD_LIMIT:
        data["body"] = data["body"][: len(data["body"]) // 2]
    return data


def _path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


# --- Delivery ---------------------------------------------------------------------------------------


def staff_of(store: Store) -> QuerySet[User]:
    """Everyone working in the store: its own staff and its organization's."""
    members = Q(memberships__store=store) | Q(
        memberships__store__isnull=True, memberships__organization_id=store.organization_id
    )
    return User.objects.filter(members, is_active=True).distinct()


def people_reached(channel: Channel, order_team_id: int | None) -> QuerySet[User]:
    """A person's channel: that person. Otherwise the team of the channel, or else of the order (the
    team's devices); with neither, the store's own staff."""
    if channel.store is None:
        return User.objects.none()
    if channel.target:
        return staff_of(channel.store).filter(username=channel.target)
    team_id = channel.team_id or order_team_id
    if team_id is not None:
        return User.objects.filter(memberships__teams=team_id, is_active=True).distinct()
    return User.objects.filter(memberships__store=channel.store, is_active=True).distinct()


def on_shift_devices(people: QuerySet[User]) -> QuerySet[PushSubscription]:
    return PushSubscription.objects.filter(user__in=people).exclude(user__shift__on_shift=False).order_by("pk")


def fan_out(destination: Destination, message: Message, idempotency_key: str) -> Delivery:
    """A push channel's message becomes one message per device on shift (each retried on its own)."""
    channel = Channel.objects.filter(pk=destination.channel_id or 0).select_related("store", "team").first()
    if channel is None:
        return Delivery(False, None, "channel removed", final=True)
    # The channel's message being fanned out: its devices' messages belong to the same order and event.
    parent = (
        OutboxMessage.objects.filter(dedupe_key=idempotency_key)
        .values_list("order_id", "event_id", "order__team_id")
        .first()
    )
    order_id, event_id, order_team_id = parent or (None, None, None)
    devices = list(on_shift_devices(people_reached(channel, order_team_id)).values_list("pk", flat=True))
    rows = [
        outbox.row(
            f"{idempotency_key}:d{device}"[:120],
            message,
            event_id,
            order_id,
            kind=KIND,
            channel_id=channel.pk,
            destination=f"{DEVICE_PREFIX}{device}",
        )
        for device in devices
    ]
    with transaction.atomic():
        OutboxMessage.objects.bulk_create(rows, ignore_conflicts=True)  # a repeat fan-out adds nothing
        if rows:
            wakeup.work_queued()
    return Delivery(True, None, f"queued for {len(rows)} device(s) on shift")


def send_to_device(subscription_id: int, message: Message) -> Delivery:
    device = PushSubscription.objects.filter(pk=subscription_id).first()
    if device is None:
        return Delivery(False, None, "device removed (alerts turned off, or the subscription expired)", final=True)
    if message.purpose != "test" and Shift.objects.filter(user_id=device.user_id, on_shift=False).exists():
        return Delivery(True, None, "not sent: off shift")
    body = encrypt(json.dumps(payload(message), ensure_ascii=False).encode(), device.p256dh, device.auth)
    headers = {
        "Authorization": vapid_authorization(device.endpoint, _server_key()),
        "Content-Encoding": "aes128gcm",
        "Content-Type": "application/octet-stream",
        "TTL": str(TIME_TO_LIVE_SECONDS),
        "Urgency": "high",
    }
    delivery = post(Destination(device.endpoint), content=body, headers=headers)
    if delivery.status_code in GONE:
        device.delete()
        log.info("Push subscription %s expired (%s): removed", subscription_id, delivery.status_code)
        return Delivery(False, delivery.status_code, "the subscription expired: device removed", final=True)
    if delivery.ok:
        PushSubscription.objects.filter(pk=device.pk).update(last_alert_at=clock.now(), last_error="")
    else:
        answer = f"{delivery.status_code or ''} {delivery.answer}".strip()[:300]
        PushSubscription.objects.filter(pk=device.pk).update(last_error=answer)
    return delivery


def queue_device_test(device: PushSubscription) -> OutboxMessage:
    """A test alert to one device, through the outbox like any other (retries, history)."""
    message = Message(
        "test",
        _("Shelfcall test alert"),
        _("Alerts work on this device."),
        url=reverse("workspace:devices"),
    )
    test = outbox.row(
        f"test:push:{device.pk}:{b64url(os.urandom(9))}",
        message,
        None,
        None,
        kind=KIND,
        destination=f"{DEVICE_PREFIX}{device.pk}",
    )
    test.save()
    wakeup.work_queued()
    return test

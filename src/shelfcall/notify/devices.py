"""A person's devices with alerts (Web Push subscriptions) and their shift: the only writers of both.

Each person sees and changes only their own devices: every read here is scoped to the person.
"""

import binascii
import hmac
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from shelfcall.core import clock
from shelfcall.core.errors import ShelfcallError
from shelfcall.notify.models import PushSubscription, Shift
from shelfcall.notify.netguard import UnsafeDestination, check_destination
from shelfcall.notify.webpush import b64url_decode

NAME_MAX_LENGTH = 80
P256_POINT_BYTES = 65  # an uncompressed P-256 public key
AUTH_BYTES = 16
# A phone, a tablet, a till or two: more is a script posting subscriptions, each of which every alert
# would then be sent to.
MAX_DEVICES_PER_PERSON = 10


class BadSubscription(ShelfcallError):
    code = "bad_subscription"
    status = 400


def devices_of(user: User) -> QuerySet[PushSubscription]:
    return PushSubscription.objects.filter(user=user).order_by("-created_at", "-pk")


def _check_endpoint(endpoint: str) -> None:
    """A push service's https address on a public host (http only to an allowed local host)."""
    parts = urlsplit(endpoint)
    if len(endpoint) > 1000 or parts.scheme not in {"https", "http"} or not parts.hostname:
        raise BadSubscription(_("The browser gave no push service address. Turn alerts on again."), field="endpoint")
    local = parts.hostname in settings.SHELFCALL_PRIVATE_HOSTS_ALLOWED
    if parts.scheme != "https" and not local:
        raise BadSubscription(_("The push service address must start with https://."), field="endpoint")
    if not local and not _is_push_service(parts.hostname):
        # Only browsers' push services: any other host would have every alert posted to it for nothing.
        raise BadSubscription(
            _("%(host)s is not a known push service. Turn alerts on from a browser on this device.")
            % {"host": parts.hostname},
            field="endpoint",
        )
    try:
        check_destination(endpoint)
    except UnsafeDestination as refused:
        raise BadSubscription(refused.message, field="endpoint") from None


def _is_push_service(host: str) -> bool:
    host = host.lower().rstrip(".")
    return any(host == known or host.endswith(f".{known}") for known in settings.SHELFCALL_PUSH_SERVICE_HOSTS)


def _check_key(value: str, length: int, field: str) -> None:
    try:
        decoded = b64url_decode(value)
    except (binascii.Error, ValueError):
        decoded = b""
    if len(decoded) != length or (field == "p256dh" and not _is_p256_point(decoded)):
        raise BadSubscription(
            _("The browser's %(field)s key is not valid. Turn alerts on again.") % {"field": field}, field=field
        )


def _is_p256_point(encoded: bytes) -> bool:
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), encoded)
    except ValueError:
        return False
    return True


def subscribe(user: User, *, endpoint: str, p256dh: str, auth: str, name: str) -> PushSubscription:
    """Turn on alerts on a device. The same browser subscribing again (or for another person, on a
    shared device) updates its one row: a device alerts the person who last turned alerts on there."""
    _check_endpoint(endpoint)
    _check_key(p256dh, P256_POINT_BYTES, "p256dh")
    _check_key(auth, AUTH_BYTES, "auth")
    name = " ".join(name.split())[:NAME_MAX_LENGTH] or _("My device")
    with transaction.atomic():
        known = PushSubscription.objects.select_for_update().filter(endpoint=endpoint).first()
        if known is not None and known.user_id != user.pk and known.auth != auth:
            # Only the browser that holds this subscription knows its auth secret: a stranger who learnt
            # the address cannot move another person's alerts to themselves.
            raise BadSubscription(_("This browser's subscription is not valid. Turn alerts on again."), field="auth")
        if known is None and devices_of(user).count() >= MAX_DEVICES_PER_PERSON:
            raise BadSubscription(
                _("You have alerts on %(max)s devices already: remove one first.") % {"max": MAX_DEVICES_PER_PERSON},
                field="endpoint",
            )
        device, _created = PushSubscription.objects.update_or_create(
            endpoint=endpoint,
            defaults={"user": user, "p256dh": p256dh, "auth": auth, "name": name, "last_error": ""},
            create_defaults={"user": user, "p256dh": p256dh, "auth": auth, "name": name, "created_at": clock.now()},
        )
    return device


def hand_over(*, endpoint: str, auth: str, to: User) -> bool:
    """A shared device switched person (by PIN): its alerts follow the person now using it, so the one
    who left stops getting them. Only the browser holding the subscription knows its auth secret, so
    only it can move it. A person with the most devices already gets nothing: the device's alerts stop.
    True if the device's alerts moved (or stopped)."""
    if not endpoint or not auth:
        return False
    with transaction.atomic():
        device = PushSubscription.objects.select_for_update().filter(endpoint=endpoint).first()
        if device is None or not hmac.compare_digest(device.auth.encode(), auth.encode()):
            return False
        if device.user_id == to.pk:
            return False
        if devices_of(to).count() >= MAX_DEVICES_PER_PERSON:
            device.delete()
        else:
            PushSubscription.objects.filter(pk=device.pk).update(user=to, last_alert_at=None, last_error="")
    return True


def rename(user: User, device_id: int, name: str) -> bool:
    name = " ".join(name.split())[:NAME_MAX_LENGTH]
    if not name:
        raise BadSubscription(_("Give the device a name, e.g. Till tablet."), field="name")
    return bool(devices_of(user).filter(pk=device_id).update(name=name))


def remove(user: User, device_id: int) -> bool:
    """False if it was not one of the person's devices (or is already gone)."""
    deleted, _rows = devices_of(user).filter(pk=device_id).delete()
    return bool(deleted)


def is_on_shift(user: User) -> bool:
    return not Shift.objects.filter(user=user, on_shift=False).exists()


def set_shift(user: User, *, on_shift: bool) -> None:
    Shift.objects.update_or_create(user=user, defaults={"on_shift": on_shift, "changed_at": clock.now()})

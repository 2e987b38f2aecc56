"""A person's devices with alerts (Web Push subscriptions) and their shift: the only writers of both.

Each person sees and changes only their own devices: every read here is scoped to the person.
"""

import binascii
from urllib.parse import urlsplit

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
    if parts.scheme != "https" and parts.hostname not in settings.SHELFCALL_PRIVATE_HOSTS_ALLOWED:
        raise BadSubscription(_("The push service address must start with https://."), field="endpoint")
    try:
        check_destination(endpoint)
    except UnsafeDestination as refused:
        raise BadSubscription(refused.message, field="endpoint") from None


def _check_key(value: str, length: int, field: str) -> None:
    try:
        decoded = b64url_decode(value)
    except (binascii.Error, ValueError):
        decoded = b""
    if len(decoded) != length or (field == "p256dh" and decoded[:1] != b"\x04"):
        raise BadSubscription(
            _("The browser's %(field)s key is not valid. Turn alerts on again.") % {"field": field}, field=field
        )


def subscribe(user: User, *, endpoint: str, p256dh: str, auth: str, name: str) -> PushSubscription:
    """Turn on alerts on a device. The same browser subscribing again (or for another person, on a
    shared device) updates its one row: a device alerts the person who last turned alerts on there."""
    _check_endpoint(endpoint)
    _check_key(p256dh, P256_POINT_BYTES, "p256dh")
    _check_key(auth, AUTH_BYTES, "auth")
    name = " ".join(name.split())[:NAME_MAX_LENGTH] or _("My device")
    with transaction.atomic():
        device, _created = PushSubscription.objects.update_or_create(
            endpoint=endpoint,
            defaults={"user": user, "p256dh": p256dh, "auth": auth, "name": name, "last_error": ""},
            create_defaults={"user": user, "p256dh": p256dh, "auth": auth, "name": name, "created_at": clock.now()},
        )
    return device


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

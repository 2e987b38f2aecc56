"""Opaque paging cursors: a signed position, so a client can neither forge one into a query nor
mistake its shape for a contract."""

from django.core import signing
from django.utils.translation import gettext as _

from shelfcall.api.errors import InvalidInput

_SALT = "shelfcall.api.cursor"


def encode(kind: str, position: list) -> str:
    return signing.dumps([kind, *position], salt=_SALT, compress=False)


def decode(kind: str, cursor: str, field: str) -> list:
    try:
        found = signing.loads(cursor, salt=_SALT)
    except signing.BadSignature:
        found = None
    if not isinstance(found, list) or not found or found[0] != kind:
        raise InvalidInput(_("This cursor is not one the API gave for this list; start without it."), field=field)
    return found[1:]

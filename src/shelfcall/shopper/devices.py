"""A shopper's phone, as their session knows it: the unit that one shopper's limits count by.

The device id is created when the shopper first puts something in a cart, not on a visit: a visit
that stores nothing sets no session cookie. It lives in the signed session, so a client cannot choose
it; a client that drops its cookie simply has no device, and is counted with every other such client
behind its address (see `newcomer_key`)."""

import secrets

from django.http import HttpRequest

from shelfcall.core.clients import address_key

SESSION_KEY = "device"


def device_id(request: HttpRequest) -> str | None:
    """The device of this request (also its key for one shopper's limits), or None before the first."""
    return request.session.get(SESSION_KEY)


def ensure_device(request: HttpRequest) -> str:
    """The device id, made now if this is the shopper's first step that stores something."""
    if SESSION_KEY not in request.session:
        request.session[SESSION_KEY] = secrets.token_urlsafe(16)
    return request.session[SESSION_KEY]


def newcomer_key(request: HttpRequest) -> str | None:
    """Rate-limit key of a request without a device: all of them from one address share one count,
    so a script that drops its cookie to look new each time gains nothing by it."""
    return None if device_id(request) else address_key(request)

"""Outgoing HTTP only to public addresses, unless an admin allowed a private one for that channel."""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from shelfcall.core.errors import ShelfcallError


class UnsafeDestination(ShelfcallError):
    code = "unsafe_destination"
    field = "target"


def check_destination(url: str, *, allow_private_network: bool = False) -> None:
    parts = urlsplit(url)
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        raise UnsafeDestination(_("Use a full web address starting with https://."))
    if allow_private_network or parts.hostname in settings.SHELFCALL_PRIVATE_HOSTS_ALLOWED:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror:
        raise UnsafeDestination(_("This address does not resolve. Check the host name.")) from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise UnsafeDestination(
                _("This address points into a private or local network. An admin can allow it for this channel.")
            )

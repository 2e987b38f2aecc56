"""Outgoing HTTP only to public addresses, unless an admin allowed a private one for that channel.

A host name is resolved once, every address it resolves to is checked, and the connection goes to
those checked addresses (channels/connect.py): resolving again at connect time would let a DNS server
answer a public address to the check and a private one to the connection (DNS rebinding).
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from shelfcall.core.errors import ShelfcallError

# IPv6 forms that carry an IPv4 address, which is what a gateway on the way connects to.
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052, the well-known prefix: IPv4 in the last 32 bits
NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215: a site's own translator, never public
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # deprecated ::a.b.c.d


class UnsafeDestination(ShelfcallError):
    code = "unsafe_destination"
    field = "target"


def check_destination(url: str, *, allow_private_network: bool = False) -> None:
    """What an admin may save: a full web address that reaches only public addresses, unless allowed."""
    hostname, _port = _host_and_port(url)
    if not _private_allowed(hostname, allow_private_network):
        checked_addresses(url)


def checked_addresses(url: str, *, allow_private_network: bool = False) -> list[str]:
    """The addresses to connect to for `url`, resolved once and each one checked. Connect to these
    (never resolve the name again), and verify TLS against the host name."""
    hostname, port = _host_and_port(url)
    try:
        infos = socket.getaddrinfo(hostname, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise UnsafeDestination(_("This address does not resolve. Check the host name.")) from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))  # an IPv6 sockaddr types its host loosely
    if not _private_allowed(hostname, allow_private_network) and not all(map(is_public_address, addresses)):
        raise UnsafeDestination(
            _("This address points into a private or local network. An admin can allow it for this channel.")
        )
    return addresses


def is_public_address(text: str) -> bool:
    """Globally reachable, and so is any IPv4 address it carries (NAT64, 6to4, IPv4-mapped or -compatible)."""
    address = ipaddress.ip_address(text)
    if address.version == 6 and address in NAT64_LOCAL_USE:
        return False
    embedded = _embedded_ipv4(address) if address.version == 6 else None
    return address.is_global and (embedded is None or embedded.is_global)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped or address.sixtofour:
        return address.ipv4_mapped or address.sixtofour
    if address in NAT64 or address in IPV4_COMPATIBLE:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _host_and_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        port = 0
    if parts.scheme not in {"https", "http"} or not parts.hostname or not port:
        raise UnsafeDestination(_("Use a full web address starting with https://."))
    return parts.hostname, port


def _private_allowed(hostname: str, allow_private_network: bool) -> bool:
    return allow_private_network or hostname in settings.SHELFCALL_PRIVATE_HOSTS_ALLOWED

"""Who is asking: the client's address as a trusted proxy saw it, never as a client claims it.

Behind a load balancer every request arrives from the balancer's address; the real client is in
`X-Forwarded-For`. Anyone can send that header, so it is believed only when the request comes from a
proxy listed in `SHELFCALL_TRUSTED_PROXIES`, and read from the right: the first address that is not
one of our proxies is the client (whatever a client prepends on the left is ignored)."""

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest
from django.utils.deprecation import MiddlewareMixin

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# Headers only a trusted proxy may set; from anyone else they are dropped before Django reads them.
FORWARDED_HEADERS = (
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_REAL_IP",
    "HTTP_FORWARDED",
)
# An IPv6 subscriber gets a whole /64: counting per address would give one attacker 2^64 of them.
IPV6_CLIENT_PREFIX = 64


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def trusted_proxies() -> tuple[Network, ...]:
    return _networks(tuple(settings.SHELFCALL_TRUSTED_PROXIES))


def _parse(text: str) -> Address | None:
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def _is_trusted(address: Address, networks: Iterable[Network]) -> bool:
    return any(address in network for network in networks)


def resolve_client(peer: str, forwarded_for: str, networks: tuple[Network, ...]) -> str:
    """The client's address from the connection's peer and its X-Forwarded-For chain."""
    client = _parse(peer)
    if client is None or not _is_trusted(client, networks):
        return str(client) if client else peer
    for hop in reversed(forwarded_for.split(",") if forwarded_for else []):
        address = _parse(hop)
        if address is None:
            break  # garbage in the chain: the last proxy that wrote a real address is what we know
        client = address
        if not _is_trusted(address, networks):
            break
    return str(client)


class ForwardedHeadersMiddleware(MiddlewareMixin):
    """Sets REMOTE_ADDR to the real client and drops forwarded headers that no trusted proxy sent, so
    that Django (SECURE_PROXY_SSL_HEADER, rate limits, logs) never believes a forged one. A mixin
    middleware, so live streams stay async."""

    def process_request(self, request: HttpRequest) -> None:
        apply_forwarded_headers(request)


def apply_forwarded_headers(request: HttpRequest) -> None:
    networks = trusted_proxies()
    peer = request.META.get("REMOTE_ADDR", "")
    parsed_peer = _parse(peer)
    if parsed_peer is not None and _is_trusted(parsed_peer, networks):
        request.META["REMOTE_ADDR"] = resolve_client(peer, request.META.get("HTTP_X_FORWARDED_FOR", ""), networks)
        return
    for header in FORWARDED_HEADERS:
        request.META.pop(header, None)


def client_address(request: HttpRequest) -> str:
    """The client's address (set by ForwardedHeadersMiddleware, which runs first)."""
    return request.META.get("REMOTE_ADDR", "")


def address_key(request: HttpRequest) -> str:
    """The unit one client is counted by: its IPv4 address, or its IPv6 /64 network."""
    address = _parse(client_address(request))
    if address is None:
        return "unknown"
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/{IPV6_CLIENT_PREFIX}", strict=False))
    return str(address)

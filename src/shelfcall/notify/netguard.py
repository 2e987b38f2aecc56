"""Outgoing HTTP only to public addresses, unless an admin allowed a private one for that channel.

A host name is resolved once, every address it resolves to is checked, and the connection goes to
those checked addresses (channels/connect.py): resolving again at connect time would let a DNS server
answer a public address to the check and a private one to the connection (DNS rebinding).

A lookup is waited for no longer than its caller may wait (a send: the time left before its
deadline; a save: SHELFCALL_ADDRESS_CHECK_TIMEOUT): a name server that never answers must neither
stall the worker's deliveries nor an admin's page.
"""

import ipaddress
import queue
import socket
import threading
from concurrent.futures import Future
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from shelfcall.core.errors import ShelfcallError

# IPv6 forms that carry an IPv4 address, which is what a gateway on the way connects to.
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052, the well-known prefix: IPv4 in the last 32 bits
NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215: a site's own translator, never public
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # deprecated ::a.b.c.d

# A name server that does not answer holds a lookup's thread until the system resolver gives up
# (minutes, with its retries). A few threads let other names resolve meanwhile; the bound keeps a
# stuck name server from costing a process more threads than this.
LOOKUP_THREADS = 4
# Lookups that may wait for a thread; beyond, a lookup fails at once (see Resolver).
LOOKUPS_WAITING = 4


class UnsafeDestination(ShelfcallError):
    code = "unsafe_destination"
    field = "target"


class Resolver:
    """getaddrinfo on a few daemon threads, so that its caller waits no longer than it may.

    getaddrinfo cannot be interrupted: a lookup its caller gave up on is left to finish on its thread.
    One still waiting for a thread is skipped, but keeps its place until a thread reaches it, so once
    the name server stops answering, `threads + waiting` lookups time out in full and the next ones
    fail at once, until it answers again. Not a ThreadPoolExecutor: Python joins its threads at exit,
    and one stuck in a lookup would hold up a worker's shutdown.
    """

    def __init__(self, *, threads: int, waiting: int) -> None:
        self._threads = threads
        self._places = threading.BoundedSemaphore(threads + waiting)
        self._lookups: queue.SimpleQueue[tuple[Future[list[str]], str, int]] = queue.SimpleQueue()
        self._started = 0
        self._starting = threading.Lock()

    def addresses(self, hostname: str, port: int, *, timeout: float) -> list[str]:
        """What `hostname` resolves to. TimeoutError if that takes more than `timeout` seconds, or if
        too many lookups are under way already."""
        if not self._places.acquire(blocking=False):
            raise TimeoutError("too many name lookups under way")
        lookup: Future[list[str]] = Future()
        self._lookups.put((lookup, hostname, port))
        self._start_threads()
        try:
            return lookup.result(timeout=max(timeout, 0.0))
        except TimeoutError:
            lookup.cancel()  # skipped if no thread has taken it up yet
            raise

    def _start_threads(self) -> None:
        with self._starting:
            while self._started < self._threads:
                threading.Thread(target=self._take_lookups, name="shelfcall-resolver", daemon=True).start()
                self._started += 1

    def _take_lookups(self) -> None:
        while True:
            lookup, hostname, port = self._lookups.get()
            try:
                if lookup.set_running_or_notify_cancel():
                    _resolve_into(lookup, hostname, port)
            finally:
                self._places.release()


def _resolve_into(lookup: "Future[list[str]]", hostname: str, port: int) -> None:
    try:
        infos = socket.getaddrinfo(hostname, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except Exception as error:  # the caller's to judge (a name that does not exist, one that is not valid)
        lookup.set_exception(error)
        return
    # Each address once, as text (an IPv6 sockaddr types its host loosely).
    lookup.set_result(list(dict.fromkeys(str(info[4][0]) for info in infos)))


RESOLVER = Resolver(threads=LOOKUP_THREADS, waiting=LOOKUPS_WAITING)


def check_destination(url: str, *, allow_private_network: bool = False) -> None:
    """What an admin may save: a full web address that reaches only public addresses, unless allowed."""
    hostname, _port = _host_and_port(url)
    if not _private_allowed(hostname, allow_private_network):
        checked_addresses(url, timeout=settings.SHELFCALL_ADDRESS_CHECK_TIMEOUT)


def checked_addresses(url: str, *, allow_private_network: bool = False, timeout: float) -> list[str]:
    """The addresses to connect to for `url`, resolved once (within `timeout` seconds) and each one
    checked. Connect to these (never resolve the name again), and verify TLS against the host name."""
    hostname, port = _host_and_port(url)
    try:
        addresses = _written_as_numbers(hostname) or RESOLVER.addresses(hostname, port, timeout=timeout)
    except (socket.gaierror, UnicodeError):
        raise UnsafeDestination(_("This address does not resolve. Check the host name.")) from None
    except TimeoutError:
        raise UnsafeDestination(
            _(
                "The host name did not resolve in time: its name server is slow or does not answer. "
                "Check the host name, or try again in a moment."
            )
        ) from None
    if not _private_allowed(hostname, allow_private_network) and not all(map(is_public_address, addresses)):
        raise UnsafeDestination(
            _("This address points into a private or local network. An admin can allow it for this channel.")
        )
    return addresses


def _written_as_numbers(hostname: str) -> list[str]:
    """An IP address needs no name server: it is never left waiting behind stuck lookups."""
    try:
        return [str(ipaddress.ip_address(hostname))]
    except ValueError:
        return []


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

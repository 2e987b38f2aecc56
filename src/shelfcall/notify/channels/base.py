"""The one small interface every channel implements. Channels get a rendered Message, never an Order."""

import base64
import codecs
import functools
import json
import ssl
from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import urlencode

import httpcore
import httpx
from django.conf import settings
from django.core.exceptions import ValidationError

from shelfcall.notify.channels.connect import CheckedBackend, Deadline
from shelfcall.notify.messages import Message
from shelfcall.notify.netguard import UnsafeDestination, check_destination, checked_addresses

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

    from shelfcall.notify.models import Channel
    from shelfcall.orders.models import Order

ANSWER_LIMIT = 500  # bytes of an answer kept (for the admin's list of attempts), and the most ever read


@dataclass(frozen=True)
class Destination:
    target: str  # URL, email address or phone number
    secret: str = ""
    allow_private_network: bool = False
    previous_secret: str = ""  # webhooks: also signed with it while a rotation is under way
    channel_id: int | None = None  # the configured channel it comes from (None: a shopper's address)


@dataclass(frozen=True)
class Delivery:
    """What the other side answered. `ok` False means: try again later (or give up after the last try)."""

    ok: bool
    status_code: int | None = None
    answer: str = ""
    final: bool = False  # not ok and never will be (the device is gone): failed now, no retries


class Audience(StrEnum):
    """Whom a kind of channel reaches: staff (a channel an admin configures) or shoppers (their own
    contact details, given with the order)."""

    STAFF = "staff"
    SHOPPER = "shopper"


class ChannelPlugin(ABC):
    """A kind of channel: everything the core needs to know about it, so that adding one is a new
    plugin registered in channels.REGISTRY (from any app's ready()), never an edit to the core."""

    kind: ClassVar[str]  # what Channel.kind and OutboxMessage.kind store; at most 20 characters
    label: "ClassVar[StrPromise]"
    audiences: ClassVar[frozenset[Audience]] = frozenset({Audience.STAFF})
    # The channel's configuration: what its address (Channel.target) is, shown beside the field.
    target_help: "ClassVar[StrPromise]"

    @abstractmethod
    def deliver(self, destination: Destination, message: Message, *, idempotency_key: str) -> Delivery: ...

    def clean(self, channel: "Channel") -> None:
        """Validate (and complete) a channel's configuration: raise ValidationError naming the field."""
        return None

    def is_configured(self) -> bool:
        """False while a setting it needs is missing: nothing is queued to it for shoppers."""
        return True

    def shopper_address(self, order: "Order") -> str:
        """Shopper kinds: where this order's shopper hears from it ("" if they gave no such address)."""
        return ""


class WebAddressPlugin(ChannelPlugin):
    """A kind whose address is a web URL: refused unless public, or allowed for this channel."""

    def clean(self, channel: "Channel") -> None:
        try:
            check_destination(channel.target, allow_private_network=channel.allow_private_network)
        except UnsafeDestination as refused:
            raise ValidationError({"target": refused.message}) from None


@functools.cache
def tls_context() -> ssl.SSLContext:
    """Built once per process: loading the CA bundle takes ~25 ms, longer than most deliveries."""
    return httpx.create_ssl_context()


def send_deadline_seconds() -> float:
    """The whole call (name lookup, connect, send, answer) ends within this: well inside the worker's
    lease on the message, which another worker takes over once it runs out."""
    return min(settings.SHELFCALL_HTTP_TIMEOUT, settings.SHELFCALL_OUTBOX_LEASE_SECONDS / 2)


def post(
    destination: Destination,
    *,
    content: bytes,
    headers: dict[str, str],
    url: str | None = None,
    auth: tuple[str, str] | None = None,
    form: dict | None = None,
) -> Delivery:
    """One POST, no redirects (one could lead a checked public URL to a private address), within the
    send's deadline (the name's lookup included), to the addresses netguard checked."""
    url = url or destination.target
    deadline = Deadline(send_deadline_seconds())
    addresses = checked_addresses(url, allow_private_network=destination.allow_private_network, timeout=deadline.left())
    if form is not None:
        content, headers = urlencode(form).encode(), {**headers, "Content-Type": "application/x-www-form-urlencoded"}
    if auth is not None:
        headers = {**headers, "Authorization": _basic_auth(*auth)}
    try:
        return _exchange(httpx.URL(url), content, headers, CheckedBackend(addresses, deadline))
    except httpcore.TimeoutException:
        return Delivery(False, None, "timed out")
    except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol) as error:
        return Delivery(False, None, f"connection failed: {type(error).__name__}")


def _basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def _exchange(target: httpx.URL, content: bytes, headers: dict[str, str], backend: CheckedBackend) -> Delivery:
    timeout = settings.SHELFCALL_HTTP_TIMEOUT
    url = httpcore.URL(scheme=target.raw_scheme, host=target.raw_host, port=target.port, target=target.raw_path)
    # identity: a compressed answer could unpack to far more than the bytes read
    headers = {"User-Agent": "Shelfcall", "Accept-Encoding": "identity", **headers}
    timeouts = {"connect": min(5.0, timeout), "read": timeout, "write": timeout, "pool": timeout}
    with (
        httpcore.ConnectionPool(ssl_context=tls_context(), network_backend=backend) as pool,
        pool.stream(
            "POST", url, headers=list(headers.items()), content=content, extensions={"timeout": timeouts}
        ) as response,
    ):
        answer = _answer_start(response)
    return Delivery(200 <= response.status < 300, response.status, answer)


def _answer_start(response: httpcore.Response) -> str:
    """The first ANSWER_LIMIT bytes of the answer as text; the rest is never read (the connection closes)."""
    kept = b""
    for chunk in response.iter_stream():
        kept += chunk[: ANSWER_LIMIT - len(kept)]
        if len(kept) >= ANSWER_LIMIT:
            break
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    return decoder.decode(kept)  # not final: a character cut at the limit is left out


def post_json(destination: Destination, payload: dict, *, headers: dict[str, str] | None = None) -> Delivery:
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return post(destination, content=body, headers={"Content-Type": "application/json", **(headers or {})})

"""The one small interface every channel implements. Channels get a rendered Message, never an Order."""

import functools
import json
import ssl
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import httpx
from django.conf import settings

from shelfcall.notify.messages import Message
from shelfcall.notify.netguard import check_destination

ANSWER_LIMIT = 500


@dataclass(frozen=True)
class Destination:
    target: str  # URL, email address or phone number
    secret: str = ""
    allow_private_network: bool = False


@dataclass(frozen=True)
class Delivery:
    """What the other side answered. `ok` False means: try again later (or give up after the last try)."""

    ok: bool
    status_code: int | None = None
    answer: str = ""


class ChannelPlugin(ABC):
    kind: ClassVar[str]

    @abstractmethod
    def deliver(self, destination: Destination, message: Message, *, idempotency_key: str) -> Delivery: ...


@functools.cache
def tls_context() -> ssl.SSLContext:
    """Built once per process: loading the CA bundle takes ~25 ms, longer than most deliveries."""
    return httpx.create_ssl_context()


def http_client() -> httpx.Client:
    """No redirects: a redirect could lead a checked public URL to a private address."""
    timeout = httpx.Timeout(settings.SHELFCALL_HTTP_TIMEOUT, connect=min(5.0, settings.SHELFCALL_HTTP_TIMEOUT))
    return httpx.Client(
        timeout=timeout, follow_redirects=False, headers={"User-Agent": "Shelfcall"}, verify=tls_context()
    )


def post(
    destination: Destination,
    *,
    content: bytes,
    headers: dict[str, str],
    url: str | None = None,
    auth: tuple[str, str] | None = None,
    form: dict | None = None,
) -> Delivery:
    url = url or destination.target
    check_destination(url, allow_private_network=destination.allow_private_network)
    try:
        with http_client() as client:
            if form is not None:
                response = client.post(url, data=form, headers=headers, auth=auth)
            else:
                response = client.post(url, content=content, headers=headers, auth=auth)
    except httpx.TimeoutException:
        return Delivery(False, None, "timed out")
    except httpx.HTTPError as error:
        return Delivery(False, None, f"connection failed: {type(error).__name__}")
    return Delivery(response.is_success, response.status_code, response.text[:ANSWER_LIMIT])


def post_json(destination: Destination, payload: dict, *, headers: dict[str, str] | None = None) -> Delivery:
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return post(destination, content=body, headers={"Content-Type": "application/json", **(headers or {})})

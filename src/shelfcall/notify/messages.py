"""Messages rendered from order events, in the reader's language, ready for any channel."""

from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.urls import reverse


@dataclass(frozen=True)
class Message:
    # new_order, arrived, claimed, escalation, resolved, ready, reminder, expiry_warning, cancelled, partial,
    # substitute, event, test
    purpose: str
    title: str
    text: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    url: str = ""
    button: str = ""
    event: dict = field(default_factory=dict)  # webhooks: the event and order data

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "Message":
        return cls(**{**data, "facts": [tuple(fact) for fact in data.get("facts", [])]})


def absolute_url(path: str) -> str:
    return f"{settings.BASE_URL or 'http://localhost:8000'}{path}"


def manage_order_url(order_id: int) -> str:
    return absolute_url(reverse("workspace:order", args=[order_id]))


def status_url(token: str) -> str:
    return absolute_url(reverse("shopper:status", args=[token]))

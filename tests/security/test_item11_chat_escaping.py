"""Item 11: what a shopper (or a product's name) says reaches Slack and Teams as text, never as a
mention of the whole channel or a disguised link."""

import pytest

from shelfcall.notify.channels.slack import slack_payload
from shelfcall.notify.channels.teams import adaptive_card
from shelfcall.notify.messages import Message
from shelfcall.notify.models import OutboxMessage
from shelfcall.orders.actions import ShopperContact
from tests.factories import make_product, make_showcase, make_store, submit
from tests.notify.factories import make_channel

pytestmark = pytest.mark.django_db

SHOPPER = "<!channel> [Refund](https://evil.example/pay) <https://evil.example|Pay>"  # 80 characters at most
PRODUCT = "Drill <!here> <@U012AB3CD> **[click](https://evil.example)**"


@pytest.fixture
def alert() -> Message:
    """The staff alert of a new order whose shopper and product names are hostile."""
    store = make_store()
    make_channel(store, "https://hooks.example.com/x", kind="slack", events=["order.created"])
    showcase = make_showcase(store, products=[make_product(store, name=PRODUCT)])
    submit(showcase, contact=ShopperContact(name=SHOPPER))
    return Message.from_json(OutboxMessage.objects.get().body)


def mrkdwn_texts(payload: dict) -> list[str]:
    texts = [payload["text"]]
    for block in payload["blocks"]:
        for text in [block.get("text"), *block.get("fields", [])]:
            if text and text["type"] == "mrkdwn":
                assert text.get("verbatim") is True  # Slack auto-links nothing in it
                texts.append(text["text"])
    return texts


def test_slack_gets_no_mention_and_no_link_from_shopper_text(alert):
    texts = mrkdwn_texts(slack_payload(alert))
    every = "\n".join(texts)
    assert "<" not in every and ">" not in every  # no <!channel>, <!here>, <@user>, <url|text>
    assert "&lt;!channel&gt; [Refund]" in every and "Drill &lt;!here&gt;" in every


def test_teams_gets_no_markdown_from_shopper_text(alert):
    nodes = list(_nodes(adaptive_card(alert)))
    # Text only in TextRuns, which Adaptive Cards never read as Markdown (TextBlocks and facts are).
    assert {node["type"] for node in nodes if "text" in node} == {"TextRun"}
    assert not [node for node in nodes if node.get("type") in {"TextBlock", "FactSet"}]
    runs = [node["text"] for node in nodes if node["type"] == "TextRun"]
    assert SHOPPER in runs and f"• 1 × {PRODUCT}" in runs


def _nodes(value):
    if isinstance(value, dict):
        yield value
        for child in value.values():
            yield from _nodes(child)
    elif isinstance(value, list):
        for child in value:
            yield from _nodes(child)

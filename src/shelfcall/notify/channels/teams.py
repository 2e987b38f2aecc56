"""Microsoft Teams through a Workflows "When a Teams webhook request is received" URL: an Adaptive Card.

Every text is shown as typed, whoever typed it (a shopper's name, a product's): TextBlocks and facts
are read as Markdown, where `[text](https://…)` is a link, so the card carries all text in TextRuns,
which Adaptive Cards never read as Markdown (backslash escapes render differently from one Teams
client to another).
"""

import json

from django.utils.translation import gettext_lazy as _

from shelfcall.notify.channels.base import Delivery, Destination, WebAddressPlugin, post_json
from shelfcall.notify.messages import Message

# Teams refuses cards above 28 KB; stay well under it whatever the order holds.
CARD_LIMIT_BYTES = 24_000
MAX_ITEMS = 8


def text_run(text: str, **style: str) -> dict:
    return {"type": "TextRun", "text": text, **style}


def plain_text(*runs: dict) -> dict:
    return {"type": "RichTextBlock", "inlines": list(runs)}


def adaptive_card(message: Message) -> dict:
    body: list[dict] = [
        plain_text(text_run(message.title, weight="Bolder", size="Medium")),
        plain_text(text_run(message.text)),
    ]
    if message.facts:
        facts = [plain_text(text_run(f"{k}: ", weight="Bolder"), text_run(v)) for k, v in message.facts]
        body.append({"type": "Container", "items": facts})
    items = message.items[:MAX_ITEMS]
    if items:
        body.append({"type": "Container", "items": [plain_text(text_run(f"• {item}")) for item in items]})
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    if message.url:
        card["actions"] = [{"type": "Action.OpenUrl", "title": message.button, "url": message.url}]
    while len(json.dumps(card).encode()) > CARD_LIMIT_BYTES and len(body) > 2:
        body.pop()  # drop the longest parts (items, then facts) rather than fail
    return card


def teams_payload(message: Message) -> dict:
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": adaptive_card(message),
            }
        ],
    }


class TeamsChannel(WebAddressPlugin):
    kind = "teams"
    label = _("Microsoft Teams (Workflows webhook)")
    target_help = _("The workflow's URL (When a Teams webhook request is received).")

    def deliver(self, destination: Destination, message: Message, *, idempotency_key: str) -> Delivery:
        return post_json(destination, teams_payload(message))

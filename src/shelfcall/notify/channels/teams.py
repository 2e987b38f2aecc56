"""Microsoft Teams through a Workflows "When a Teams webhook request is received" URL: an Adaptive Card."""

import json

from shelfcall.notify.channels.base import ChannelPlugin, Delivery, Destination, post_json
from shelfcall.notify.messages import Message

# Teams refuses cards above 28 KB; stay well under it whatever the order holds.
CARD_LIMIT_BYTES = 24_000
MAX_ITEMS = 8


def adaptive_card(message: Message) -> dict:
    body: list[dict] = [
        {"type": "TextBlock", "text": message.title, "weight": "Bolder", "size": "Medium", "wrap": True},
        {"type": "TextBlock", "text": message.text, "wrap": True},
    ]
    if message.facts:
        body.append({"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in message.facts]})
    items = message.items[:MAX_ITEMS]
    if items:
        body.append({"type": "TextBlock", "text": "\n".join(f"- {item}" for item in items), "wrap": True})
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


class TeamsChannel(ChannelPlugin):
    kind = "teams"

    def deliver(self, destination: Destination, message: Message, *, idempotency_key: str) -> Delivery:
        return post_json(destination, teams_payload(message))

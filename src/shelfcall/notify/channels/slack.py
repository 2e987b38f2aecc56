"""Slack incoming webhook with Block Kit: the message, its facts, and a Manage This Order button."""

from shelfcall.notify.channels.base import ChannelPlugin, Delivery, Destination, post_json
from shelfcall.notify.messages import Message

MAX_ITEMS = 8


def slack_payload(message: Message) -> dict:
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": message.title[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": message.text[:3000]}},
    ]
    if message.facts:
        fields = [{"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in message.facts[:10]]
        blocks.append({"type": "section", "fields": fields})
    if message.items:
        items = "\n".join(f"• {item}" for item in message.items[:MAX_ITEMS])
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": items}})
    if message.url:
        button = {
            "type": "button",
            "text": {"type": "plain_text", "text": message.button},
            "url": message.url,
            "style": "primary",
            "action_id": "manage_order",
        }
        blocks.append({"type": "actions", "elements": [button]})
    return {"text": f"{message.title}: {message.text}", "blocks": blocks}


class SlackChannel(ChannelPlugin):
    kind = "slack"

    def deliver(self, destination: Destination, message: Message, *, idempotency_key: str) -> Delivery:
        return post_json(destination, slack_payload(message))

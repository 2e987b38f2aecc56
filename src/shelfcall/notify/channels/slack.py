"""Slack incoming webhook with Block Kit: the message, its facts, and a Manage This Order button.

Every text is shown as typed, whoever typed it (a shopper's name, a product's): in mrkdwn, `<!channel>`
would notify the whole channel and `<https://…|text>` would plant a disguised link.
"""

from django.utils.translation import gettext_lazy as _

from shelfcall.notify.channels.base import Delivery, Destination, WebAddressPlugin, post_json
from shelfcall.notify.messages import Message

MAX_ITEMS = 8


def escape(text: str) -> str:
    """Slack's own escaping: with &, < and > as entities, no mention, link or channel can be spelled."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn(text: str) -> dict:
    """Already escaped text; verbatim: Slack links no bare URL or channel name of its own accord."""
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def slack_payload(message: Message) -> dict:
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": message.title[:150]}},
        {"type": "section", "text": mrkdwn(escape(message.text[:3000]))},
    ]
    if message.facts:
        fields = [mrkdwn(f"*{escape(k)}*\n{escape(v)}") for k, v in message.facts[:10]]
        blocks.append({"type": "section", "fields": fields})
    if message.items:
        items = "\n".join(f"• {escape(item)}" for item in message.items[:MAX_ITEMS])
        blocks.append({"type": "section", "text": mrkdwn(items)})
    if message.url:
        button = {
            "type": "button",
            "text": {"type": "plain_text", "text": message.button},
            "url": message.url,
            "style": "primary",
            "action_id": "manage_order",
        }
        blocks.append({"type": "actions", "elements": [button]})
    return {"text": escape(f"{message.title}: {message.text}"), "blocks": blocks}


class SlackChannel(WebAddressPlugin):
    kind = "slack"
    label = _("Slack (incoming webhook)")
    target_help = _("The incoming webhook's URL.")

    def deliver(self, destination: Destination, message: Message, *, idempotency_key: str) -> Delivery:
        return post_json(destination, slack_payload(message))

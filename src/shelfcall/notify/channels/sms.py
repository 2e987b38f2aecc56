"""SMS through Twilio's Messages API; off unless its three settings are given."""

import re
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from shelfcall.notify.channels.base import Audience, ChannelPlugin, Delivery, Destination, post
from shelfcall.notify.messages import Message

if TYPE_CHECKING:
    from shelfcall.notify.models import Channel
    from shelfcall.orders.models import Order

SMS_LIMIT = 320  # two segments


def sms_text(message: Message) -> str:
    text = f"{message.title}. {message.text}"
    if message.url:
        text = f"{text} {message.url}"
    return text[:SMS_LIMIT]


def twilio_configured() -> bool:
    return bool(
        settings.SHELFCALL_TWILIO_ACCOUNT_SID
        and settings.SHELFCALL_TWILIO_AUTH_TOKEN
        and settings.SHELFCALL_TWILIO_FROM
    )


class TwilioSmsChannel(ChannelPlugin):
    kind = "sms"
    label = _("SMS (Twilio)")
    audiences = frozenset({Audience.STAFF, Audience.SHOPPER})
    target_help = _("The phone number in international form, e.g. +33612345678.")

    def clean(self, channel: "Channel") -> None:
        if not re.fullmatch(r"\+[1-9][0-9]{6,14}", channel.target):
            raise ValidationError({"target": _("Enter the number in international form, e.g. +33612345678.")})

    def is_configured(self) -> bool:
        return twilio_configured()

    def shopper_address(self, order: "Order") -> str:
        return order.shopper_phone

    def deliver(self, destination: Destination, message: Message, *, idempotency_key: str) -> Delivery:
        if not twilio_configured():
            return Delivery(False, None, "SMS is off: set the SHELFCALL_TWILIO_* settings")
        account = settings.SHELFCALL_TWILIO_ACCOUNT_SID
        url = f"{settings.SHELFCALL_TWILIO_API_BASE}/2010-04-01/Accounts/{account}/Messages.json"
        # Twilio's own API address is public by definition; a test or proxy base may be local.
        api = Destination(url, allow_private_network=settings.SHELFCALL_TWILIO_API_BASE != "https://api.twilio.com")
        form = {"To": destination.target, "From": settings.SHELFCALL_TWILIO_FROM, "Body": sms_text(message)}
        return post(
            api,
            content=b"",
            headers={"I-Twilio-Idempotency-Token": idempotency_key[:64]},
            auth=(account, settings.SHELFCALL_TWILIO_AUTH_TOKEN),
            form=form,
        )

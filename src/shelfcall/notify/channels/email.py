"""Email through Django's mail backends (SMTP in production, the console in the demo)."""

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from shelfcall.notify.channels.base import Audience, ChannelPlugin, Delivery, Destination
from shelfcall.notify.messages import Message

if TYPE_CHECKING:
    from shelfcall.notify.models import Channel
    from shelfcall.orders.models import Order


def email_text(message: Message) -> str:
    lines = [message.text, ""]
    lines += [f"{k}: {v}" for k, v in message.facts]
    lines += [f"- {item}" for item in message.items]
    if message.url:
        lines += ["", f"{message.button}: {message.url}"]
    return "\n".join(lines)


class EmailChannel(ChannelPlugin):
    kind = "email"
    label = _("Email")
    audiences = frozenset({Audience.STAFF, Audience.SHOPPER})
    target_help = _("The address, e.g. team@example.com.")

    def clean(self, channel: "Channel") -> None:
        try:
            validate_email(channel.target)
        except ValidationError:
            raise ValidationError({"target": _("Enter an email address, e.g. team@example.com.")}) from None

    def shopper_address(self, order: "Order") -> str:
        return order.shopper_email

    def deliver(self, destination: Destination, message: Message, *, idempotency_key: str) -> Delivery:
        email = EmailMessage(
            subject=message.title,
            body=email_text(message),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[destination.target],
            headers={"X-Shelfcall-Message": idempotency_key},
        )
        try:
            sent = email.send()
        except OSError as error:  # SMTP down, refused, timed out
            return Delivery(False, None, f"mail server: {type(error).__name__}")
        return Delivery(bool(sent), None, "accepted by the mail server" if sent else "not accepted")

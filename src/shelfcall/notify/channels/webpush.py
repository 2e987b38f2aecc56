"""Web Push to associates' devices (notify/webpush.py): the devices of a team (the channel's, or the
order's), of a store's staff, or of one person; only those on shift are alerted."""

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from shelfcall.notify.channels.base import ChannelPlugin, Delivery, Destination
from shelfcall.notify.messages import Message

if TYPE_CHECKING:
    from shelfcall.notify.models import Channel


class WebPushChannel(ChannelPlugin):
    kind = "push"
    label = _("Web Push (associates' devices)")
    target_help = _(
        "Empty: the team's devices (the channel's team, or else the order's; orders of no team: the "
        "store's staff). Or a person's user name: that person's devices."
    )

    def clean(self, channel: "Channel") -> None:
        from shelfcall.notify.webpush import staff_of

        if channel.store is None:
            raise ValidationError({"store": _("Choose the store whose staff's devices this channel alerts.")})
        if channel.target and not staff_of(channel.store).filter(username=channel.target).exists():
            raise ValidationError(
                {
                    "target": _(
                        "Nobody working in this store has the user name %(name)s. "
                        "Leave it empty for the team's devices."
                    )
                    % {"name": channel.target}
                }
            )

    def deliver(self, destination: Destination, message: Message, *, idempotency_key: str) -> Delivery:
        from shelfcall.notify import webpush

        if destination.target.startswith(webpush.DEVICE_PREFIX):
            return webpush.send_to_device(int(destination.target.removeprefix(webpush.DEVICE_PREFIX)), message)
        return webpush.fan_out(destination, message, idempotency_key)

"""Channel plugins by kind. Adding one (WhatsApp, say) is a new module here, not a change to orders."""

from shelfcall.notify.channels.base import ChannelPlugin, Delivery, Destination
from shelfcall.notify.channels.email import EmailChannel
from shelfcall.notify.channels.slack import SlackChannel
from shelfcall.notify.channels.sms import TwilioSmsChannel
from shelfcall.notify.channels.teams import TeamsChannel
from shelfcall.notify.channels.webhook import WebhookChannel

PLUGINS: dict[str, ChannelPlugin] = {
    plugin.kind: plugin
    for plugin in (TeamsChannel(), SlackChannel(), EmailChannel(), TwilioSmsChannel(), WebhookChannel())
}

__all__ = ["PLUGINS", "ChannelPlugin", "Delivery", "Destination"]

"""Channel plugins by kind. Adding one (WhatsApp, say) is a plugin registered in REGISTRY, from a module
here or from any app's AppConfig.ready(): not a change to the core, nor to orders."""

from shelfcall.notify.channels.base import Audience, ChannelPlugin, Delivery, Destination
from shelfcall.notify.channels.email import EmailChannel
from shelfcall.notify.channels.registry import REGISTRY
from shelfcall.notify.channels.slack import SlackChannel
from shelfcall.notify.channels.sms import TwilioSmsChannel
from shelfcall.notify.channels.teams import TeamsChannel
from shelfcall.notify.channels.webhook import WebhookChannel
from shelfcall.notify.channels.webpush import WebPushChannel

for _plugin in (TeamsChannel(), SlackChannel(), EmailChannel(), TwilioSmsChannel(), WebhookChannel(), WebPushChannel()):
    REGISTRY.register(_plugin)

PLUGINS = REGISTRY  # the name the tests and older callers know

__all__ = ["PLUGINS", "REGISTRY", "Audience", "ChannelPlugin", "Delivery", "Destination"]

"""Adding a kind of channel is registering a plugin: no edit to the models, the admin, the outbox or the
worker, and no migration. The plugins below exist only in these tests."""

import re
from dataclasses import dataclass, field

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils.translation import gettext_lazy as _

from shelfcall.notify.channels import REGISTRY, Audience, ChannelPlugin, Delivery, Destination
from shelfcall.notify.messages import Message
from shelfcall.notify.models import Channel, MessageStatus, OutboxMessage
from shelfcall.notify.outbox import EVENT_TITLES
from shelfcall.notify.worker import deliver_due
from shelfcall.orders import actions
from shelfcall.orders.actions import ShopperContact
from shelfcall.orders.events import EventType
from tests.factories import make_drop_zone, make_showcase, make_store, staff, submit

pytestmark = pytest.mark.django_db


@dataclass
class WhatsAppChannel(ChannelPlugin):
    """A staff and shopper kind whose address is a WhatsApp number."""

    kind = "whatsapp"
    label = _("WhatsApp")
    audiences = frozenset({Audience.STAFF, Audience.SHOPPER})
    target_help = _("A WhatsApp number, e.g. wa:+33612345678.")
    sent: list[tuple[str, Message]] = field(default_factory=list)
    configured: bool = True

    def clean(self, channel: Channel) -> None:
        if not re.fullmatch(r"wa:\+[0-9]{8,15}", channel.target):
            raise ValidationError({"target": "Write wa: and the number, e.g. wa:+33612345678."})

    def is_configured(self) -> bool:
        return self.configured

    def shopper_address(self, order) -> str:
        return f"wa:{order.shopper_phone}" if order.shopper_phone else ""

    def deliver(self, destination: Destination, message: Message, *, idempotency_key: str) -> Delivery:
        self.sent.append((destination.target, message))
        return Delivery(True, 200, "sent")


@pytest.fixture
def whatsapp():
    plugin = REGISTRY.register(WhatsAppChannel())
    yield plugin
    REGISTRY.unregister(plugin.kind)


@pytest.fixture
def store():
    return make_store(name="Downtown")


def whatsapp_channel(store, **fields) -> Channel:
    channel = Channel(store=store, name="Floor", kind="whatsapp", target="wa:+33612345678", **fields)
    channel.full_clean()
    channel.save()
    return channel


def test_a_registered_kind_is_a_choice_validated_by_its_plugin(store, whatsapp):
    assert ("whatsapp", "WhatsApp") in Channel._meta.get_field("kind").choices
    whatsapp_channel(store)
    with pytest.raises(ValidationError) as refused:
        Channel(store=store, name="Floor", kind="whatsapp", target="+336").full_clean()
    assert refused.value.message_dict["target"] == ["Write wa: and the number, e.g. wa:+33612345678."]


def test_an_unregistered_kind_is_refused_naming_the_field(store):
    with pytest.raises(ValidationError) as refused:
        Channel(store=store, name="Floor", kind="whatsapp", target="wa:+33612345678").full_clean()
    assert "kind" in refused.value.message_dict


def test_a_new_kind_needs_no_migration(whatsapp):
    call_command("makemigrations", "notify", "--check", "--dry-run", verbosity=0)  # exits 1 on a change


def test_staff_alerts_and_escalations_reach_it_through_the_outbox(store, whatsapp):
    channel = whatsapp_channel(store, events=["order.created", "order.fulfilled"])
    order = submit(make_showcase(store))
    while deliver_due():
        pass
    [(target, message)] = whatsapp.sent
    assert (target, message.title) == ("wa:+33612345678", f"New order #{order.number}")
    assert OutboxMessage.objects.get().channel == channel
    assert OutboxMessage.objects.get().status == MessageStatus.DELIVERED


def test_shopper_messages_go_to_every_configured_shopper_kind(store, whatsapp):
    showcase = make_showcase(store)
    order = submit(showcase, contact=ShopperContact(name="Kim", phone="+33612345678"))
    actions.cancel_order(order.pk, by=staff(store), reason="Out of stock")
    assert list(OutboxMessage.objects.filter(kind="whatsapp").values_list("destination", "purpose")) == [
        ("wa:+33612345678", "cancelled")
    ]
    whatsapp.configured = False
    other = submit(showcase, contact=ShopperContact(name="Kim", phone="+33612345678"))
    actions.cancel_order(other.pk, by=staff(store), reason="Out of stock")
    assert not OutboxMessage.objects.filter(kind="whatsapp", order=other).exists()


def test_the_admin_offers_it_with_its_help(admin_client, whatsapp):
    page = admin_client.get("/admin/notify/channel/add/").content.decode()
    assert '<option value="whatsapp">WhatsApp</option>' in page
    assert "A WhatsApp number, e.g. wa:+33612345678." in page


def test_a_kind_is_registered_once():
    with pytest.raises(ValueError, match="already registered"):
        REGISTRY.register(_Email())
    with pytest.raises(ValueError, match="1 to 20"):
        REGISTRY.register(_TooLong())


class _Email(WhatsAppChannel):
    kind = "email"


class _TooLong(WhatsAppChannel):
    kind = "a-kind-far-too-long-for-the-column"


def test_every_event_type_has_a_human_title():
    assert set(EVENT_TITLES) == set(EventType)


def test_staff_alerts_never_show_a_raw_event_name(store, whatsapp):
    whatsapp_channel(store, events=["*"])
    showcase = make_showcase(store)
    order = submit(showcase)
    associate = staff(store)
    actions.claim_order(order.pk, by=associate)
    line = order.lines.get()
    actions.pick_line(order.pk, line.pk, by=associate, qty=line.requested_qty)
    actions.stage_order(order.pk, by=associate, drop_zone=make_drop_zone(store))
    titles = [row.body["title"] for row in OutboxMessage.objects.filter(kind="whatsapp").order_by("pk")]
    assert f"Order #{order.number}: ready for pickup" in titles
    assert not [title for title in titles if "order." in title], titles

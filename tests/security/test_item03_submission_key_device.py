"""Item 3: a submission key is bound to the device that made it; someone else's key reveals nothing."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from shelfcall.orders.models import Order
from tests.factories import make_product, make_showcase, make_store, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def showcase():
    store = make_store()
    return make_showcase(store, products=[make_product(store, name="Cordless drill", on_hand=9)], code="TOOLS234")


def cart_key(client: Client, showcase) -> str:
    client.post(reverse("shopper:add", args=[showcase.code]), {"product": showcase.items.get().product_id})
    page = client.get(reverse("shopper:cart", args=[showcase.code])).content.decode()
    return re.search(r'name="submission_key" value="([^"]+)"', page).group(1)


def send(client: Client, showcase, key: str):
    return client.post(reverse("shopper:submit", args=[showcase.code]), {"submission_key": key})


def test_a_key_from_another_shoppers_cart_does_not_lead_to_their_order(showcase):
    victim, attacker = Client(), Client()
    key = cart_key(victim, showcase)
    victims_order = send(victim, showcase, key)["Location"]

    cart_key(attacker, showcase)  # the attacker's own cart, sent with the victim's key
    landed = send(attacker, showcase, key)

    assert landed.status_code == 302 and landed["Location"] != victims_order
    assert Order.objects.count() == 2  # a fresh order of the attacker's own cart
    attackers = Order.objects.exclude(public_token=victims_order.rsplit("/", 1)[-1]).get()
    assert attackers.device_id == attacker.session["device"] != victim.session["device"]


def test_the_same_device_pressing_twice_still_gets_its_one_order(showcase):
    shopper = Client()
    key = cart_key(shopper, showcase)
    first, second = send(shopper, showcase, key), send(shopper, showcase, key)
    assert first["Location"] == second["Location"] and Order.objects.count() == 1


def test_the_action_binds_the_key_to_the_device(showcase):
    mine = submit(showcase, key="shared-key", device_id="phone-1")
    assert submit(showcase, key="shared-key", device_id="phone-1").pk == mine.pk
    theirs = submit(showcase, key="shared-key", device_id="phone-2")
    assert theirs.pk != mine.pk and theirs.public_token != mine.public_token

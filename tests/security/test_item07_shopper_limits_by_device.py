"""Item 7: shopper limits count per device as well as per address. Behind one address (a store's
Wi-Fi, a balancer) a shopper who uses up their own limit locks out only their own phone; dropping the
cookie to look new gains nothing; the per-address limit, far above one shopper's needs, still stops
a flood."""

import re

import pytest
from django.test import Client, RequestFactory

from shelfcall.core import throttle
from shelfcall.core.throttle import Limit, Rate, Throttled, throttled_by
from shelfcall.orders.models import Order
from shelfcall.shopper import views
from tests.factories import make_product, make_showcase, make_store

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("rate_limits")]

SUBMIT_PER_DEVICE, SUBMIT_BY_NEWCOMERS, SUBMIT_PER_ADDRESS = (limit.rate for limit in views.SUBMIT_LIMITS)
STEPS_BY_NEWCOMERS = views.STEP_LIMITS[1].rate
STORE_WIFI = "198.51.100.20"


@pytest.fixture
def showcase():
    store = make_store()
    return make_showcase(store, products=[make_product(store, on_hand=500)], code="WIFI2345")


def shopper(showcase) -> Client:
    """A phone behind the store's Wi-Fi that has put something in its cart (so it has a device)."""
    phone = Client(REMOTE_ADDR=STORE_WIFI)
    phone.post(f"/s/{showcase.code}/add", {"product": showcase.items.get().product_id})
    assert phone.session.get("device")
    return phone


def submit_cart(phone: Client, showcase):
    page = phone.get(f"/s/{showcase.code}/cart").content.decode()
    key = re.search(r'name="submission_key" value="([^"]+)"', page).group(1)
    return phone.post(f"/s/{showcase.code}/submit", {"submission_key": key, "name": "Kim"})


def empty_cart_posts(phone: Client, showcase, count: int) -> list[int]:
    return [phone.post(f"/s/{showcase.code}/submit", {"name": "Kim"}).status_code for _ in range(count)]


def test_twenty_empty_cart_posts_lock_only_that_device(showcase):
    prankster = shopper(showcase)
    prankster.post(f"/s/{showcase.code}/cart/{showcase.items.get().product_id}", {"action": "remove"})
    statuses = empty_cart_posts(prankster, showcase, SUBMIT_PER_DEVICE.limit + 1)
    assert 429 not in statuses[:-1] and statuses[-1] == 429
    response = submit_cart(shopper(showcase), showcase)  # someone else on the same Wi-Fi
    assert response.status_code == 302 and response["Location"].startswith("/o/")
    assert Order.objects.count() == 1


def test_dropping_the_cookie_does_not_escape_the_limit(showcase):
    statuses = [
        Client(REMOTE_ADDR=STORE_WIFI).post(f"/s/{showcase.code}/submit", {"name": "Kim"}).status_code
        for _ in range(SUBMIT_BY_NEWCOMERS.limit + 1)
    ]
    assert 429 not in statuses[:-1] and statuses[-1] == 429
    # Shoppers with a cart (hence a device) are not held up by the cookie-less script.
    assert submit_cart(shopper(showcase), showcase).status_code == 302


def test_minting_devices_without_a_cookie_is_limited_per_address(showcase):
    """Each cookie-less add to cart would make a new device (and session): a script doing that is
    held to the newcomers' share of its address, while shoppers who have a device go on."""
    regular = shopper(showcase)
    product = showcase.items.get().product_id
    newcomers = [Client(REMOTE_ADDR=STORE_WIFI) for _ in range(STEPS_BY_NEWCOMERS.limit)]
    # The regular shopper's first add was one of them.
    statuses = [phone.post(f"/s/{showcase.code}/add", {"product": product}).status_code for phone in newcomers]
    assert 429 not in statuses[:-1] and statuses[-1] == 429
    devices = {regular.session["device"], *(phone.session.get("device") for phone in newcomers)} - {None}
    assert len(devices) == STEPS_BY_NEWCOMERS.limit
    assert regular.post(f"/s/{showcase.code}/add", {"product": product}).status_code == 302
    assert regular.session["shelfcall_carts"][showcase.code]["lines"][str(product)]["qty"] == 2


def test_a_device_over_its_limit_uses_up_nobody_elses_share(showcase):
    prankster = shopper(showcase)
    empty_cart_posts(prankster, showcase, SUBMIT_PER_DEVICE.limit + 30)
    address_key = f"shelfcall.shopper.views.submit:{STORE_WIFI}"
    assert throttle.hits(SUBMIT_PER_ADDRESS, address_key) == SUBMIT_PER_DEVICE.limit


def test_the_per_address_limit_still_stops_a_flood(showcase):
    assert SUBMIT_PER_ADDRESS.limit >= 25 * SUBMIT_PER_DEVICE.limit  # far above one shopper's needs
    phone = shopper(showcase)
    for _ in range(SUBMIT_PER_ADDRESS.limit):  # as many devices' submissions as one address may make
        throttle.hit(SUBMIT_PER_ADDRESS, f"shelfcall.shopper.views.submit:{STORE_WIFI}")
    assert submit_cart(phone, showcase).status_code == 429
    elsewhere = Client(REMOTE_ADDR="203.0.113.5")
    elsewhere.post(f"/s/{showcase.code}/add", {"product": showcase.items.get().product_id})
    assert submit_cart(elsewhere, showcase).status_code == 302


def test_every_limit_must_pass_and_a_missing_key_skips_one():
    """Counting stops at the first limit that is over: a client past its own uses up no one else's."""
    per_person, for_everyone = Rate("test.person", 2, 60), Rate("test.everyone", 7, 60)

    @throttled_by(Limit(per_person, lambda request: request.GET.get("who")), Limit(for_everyone, lambda request: "all"))
    def view(request):
        return "ok"

    alice, anonymous = RequestFactory().get("/", {"who": "alice"}), RequestFactory().get("/")
    assert [view(alice), view(alice)] == ["ok", "ok"]
    with pytest.raises(Throttled):
        view(alice)  # over her own limit: not counted for everyone
    assert [view(anonymous) for _ in range(5)] == ["ok"] * 5  # no key: only the shared limit applies
    with pytest.raises(Throttled):
        view(anonymous)

"""Item 5: a PIN switch opens the workspace and nothing more; PINs have at least six ASCII digits,
wrong ones count per target account in the database, and changing one asks for the current one."""

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.test import Client

from shelfcall import cli
from shelfcall.demo.seed import DEMO_PIN, seed_demo
from shelfcall.notify.devices import MAX_DEVICES_PER_PERSON
from shelfcall.notify.models import PushSubscription
from shelfcall.notify.webpush import on_shift_devices
from shelfcall.setup.forms import PinForm
from shelfcall.stores import signin
from shelfcall.stores.models import Role, StaffPin
from tests.factories import make_store, make_user
from tests.notify.push_device import BrowserKeys

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("rate_limits", "fast_passwords")]
SAM_PIN = "482193"
TABLET_ENDPOINT = "https://fcm.googleapis.com/fcm/send/till-tablet"


@pytest.fixture
def store():
    return make_store()


@pytest.fixture
def sam(store):
    """A supervisor who is also staff in the admin, the case the issue names."""
    user = make_user(store, name="Sam", role=Role.SUPERVISOR)
    user.is_staff = True
    user.save()
    StaffPin.objects.create(user=user, pin_hash=make_password(SAM_PIN))
    return user


@pytest.fixture
def alex(store):
    return make_user(store, name="Alex")


def device(user, *, address: str = "198.51.100.7") -> Client:
    """A shared tablet, signed in (with a password) as `user`."""
    client = Client(REMOTE_ADDR=address)
    client.force_login(user)
    return client


def switch(client: Client, person, pin: str):
    return client.post("/w/switch", {"user": person.pk, "pin": pin}, follow=True)


def shown(response) -> str:
    return response.content.decode()


def test_a_pin_session_cannot_open_the_admin(sam, alex):
    tablet = device(alex)
    assert "Hello Sam!" in shown(switch(tablet, sam, SAM_PIN))
    response = tablet.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert tablet.get("/admin/stores/membership/").status_code == 302
    assert tablet.get("/admin/password_change/").status_code == 302
    assert device(sam).get("/admin/").status_code == 200  # with the password, as before


def test_signing_in_with_the_password_on_that_device_opens_the_admin_again(sam, alex):
    tablet = device(alex)
    switch(tablet, sam, SAM_PIN)
    tablet.post("/admin/login/?next=/admin/", {"username": sam.username, "password": "x"})
    assert tablet.get("/admin/").status_code == 200


def test_a_pin_session_cannot_change_the_pin(sam, alex):
    tablet = device(alex)
    switch(tablet, sam, SAM_PIN)
    response = tablet.post("/w/pin", {"current": SAM_PIN, "pin": "135792", "again": "135792"}, follow=True)
    assert "sign in with your password" in shown(response)
    assert authenticate(None, staff=sam, pin_secret=SAM_PIN) == sam  # unchanged


def test_changing_a_pin_asks_for_the_current_pin_or_the_password(sam):
    client = device(sam)
    new = {"pin": "135792", "again": "135792"}
    assert "This field is required" in shown(client.post("/w/pin", new))
    assert "neither your password nor your current PIN" in shown(client.post("/w/pin", {**new, "current": "000000"}))
    assert authenticate(None, staff=sam, pin_secret="135792") is None
    client.post("/w/pin", {**new, "current": SAM_PIN})
    assert authenticate(None, staff=sam, pin_secret="135792") == sam
    client.post("/w/pin", {"pin": "864209", "again": "864209", "current": "x"})  # the password
    assert authenticate(None, staff=sam, pin_secret="864209") == sam


def test_guessing_the_current_pin_is_paused_too(sam):
    client = device(sam)
    for guess in range(5):
        client.post("/w/pin", {"current": f"{guess:06d}", "pin": "135792", "again": "135792"})
    response = client.post("/w/pin", {"current": SAM_PIN, "pin": "135792", "again": "135792"})
    assert "Too many failed sign-ins" in shown(response)


@pytest.mark.parametrize("pin", ["12345", "١٢٣٤٥٦", "²²²²²²", "１２３４５６", "12345a", "1234567890123"])
def test_pins_have_six_to_twelve_ascii_digits(sam, pin):
    assert not signin.is_pin(pin)
    response = device(sam).post("/w/pin", {"current": "x", "pin": pin, "again": pin})
    assert "Use 6 to 12 digits" in shown(response)


@pytest.mark.parametrize("pin", ["١٢٣٤٥٦", "１２３４５６", "12345a", "1234567890123"])
def test_a_pin_of_other_digits_is_refused_at_use_with_the_rule(sam, alex, pin):
    """Not 'PINs have 6 to 12 digits now' (for the short PINs of before the rule): these never were PINs."""
    StaffPin.objects.filter(user=sam).update(pin_hash=make_password(pin))  # as if it had got in somehow
    response = switch(device(alex), sam, pin)
    assert [str(message) for message in response.context["messages"]] == ["Use 6 to 12 digits (0 to 9)."]
    assert response.context["request"].user == alex


@pytest.mark.parametrize("pin", ["١٢٣٤٥٦", "１２３４５６", "12345"])
def test_the_setup_pages_give_the_same_rule(pin):
    form = PinForm({"pin": pin})
    assert form.errors == {"pin": ["Use 6 to 12 digits (0 to 9)."]}


def test_pins_anyone_would_try_first_are_refused(sam):
    for pin in ["000000", "123456", "987654", "0123456789"]:
        response = device(sam).post("/w/pin", {"current": "x", "pin": pin, "again": pin})
        assert "not one digit repeated" in shown(response)


def test_a_short_pin_set_before_the_rule_is_refused_at_use(store, alex):
    jo = make_user(store, name="Jo")
    StaffPin.objects.create(user=jo, pin_hash=make_password("2468"))
    response = switch(device(alex), jo, "2468")
    assert "PINs have 6 to 12 digits now" in shown(response) and response.context["request"].user == alex
    assert authenticate(None, staff=jo, pin_secret="2468") is None


def test_wrong_pins_count_per_target_account_whatever_the_address(sam, alex):
    for n in range(5):
        switch(device(alex, address=f"203.0.113.{n}"), sam, f"{n:06d}")
    response = switch(device(alex, address="192.0.2.200"), sam, SAM_PIN)  # the right PIN, a new address
    assert "Too many wrong PINs. Try again in 15 minutes" in shown(response)
    assert response.context["request"].user == alex


def test_the_pause_ends_and_a_right_pin_clears_the_count(sam, alex, time_machine):
    for guess in range(5):
        switch(device(alex), sam, f"{guess:06d}")
    time_machine.shift(15 * 60)
    for guess in range(4):
        switch(device(alex), sam, f"{guess:06d}")
    assert "Hello Sam!" in shown(switch(device(alex), sam, SAM_PIN))
    for guess in range(4):
        switch(device(alex), sam, f"{guess:06d}")
    assert "Hello Sam!" in shown(switch(device(alex), sam, SAM_PIN))


def test_one_device_guessing_everyone_is_paused(store, alex):
    people = [make_user(store, name=f"Person{n}") for n in range(10)]
    for person in people:
        StaffPin.objects.create(user=person, pin_hash=make_password("864209"))
    tablet = device(alex)
    for person in people:
        switch(tablet, person, "111112")
    assert "Too many wrong PINs" in shown(switch(tablet, people[0], "864209"))


def test_the_demo_pin_follows_the_rule_and_is_printed(capsys):
    assert signin.is_pin(DEMO_PIN) and not signin.is_guessable_pin(DEMO_PIN)
    cli._print_demo_urls("http://localhost:8000")
    assert f"PIN {DEMO_PIN}" in capsys.readouterr().out
    demo = seed_demo()
    sam = demo.store.memberships.get(user__username="sam").user
    assert authenticate(None, staff=sam, pin_secret=DEMO_PIN) == sam


@pytest.mark.parametrize("who", ["²", "99999999999999999999", "-1", ""])
def test_odd_person_ids_are_a_plain_refusal(alex, sam, who):
    response = device(alex).post("/w/switch", {"user": who, "pin": SAM_PIN}, follow=True)
    assert response.status_code == 200 and "not right" in shown(response)


class TestTheDevicesAlertsFollowThePerson:
    """A shared tablet with alerts on for Alex: when Sam switches in by PIN, the tablet alerts Sam, not Alex
    (the switch form carries the browser's subscription, which alerts.js reads)."""

    @pytest.fixture
    def tablet_alerts(self, alex):
        keys = BrowserKeys()
        return PushSubscription.objects.create(
            user=alex, name="Till tablet", endpoint=TABLET_ENDPOINT, p256dh=keys.p256dh, auth=keys.auth
        )

    def switch_with(self, client: Client, person, *, auth: str):
        return client.post(
            "/w/switch",
            {"user": person.pk, "pin": SAM_PIN, "device_endpoint": TABLET_ENDPOINT, "device_auth": auth},
            follow=True,
        )

    def test_the_old_person_no_longer_gets_the_tablets_alerts(self, sam, alex, tablet_alerts):
        tablet = device(alex)
        assert self.switch_with(tablet, sam, auth=tablet_alerts.auth).redirect_chain[-1][0] == "/w/"
        assert list(on_shift_devices(User.objects.filter(pk=alex.pk))) == []
        assert list(on_shift_devices(User.objects.filter(pk=sam.pk))) == [tablet_alerts]
        assert PushSubscription.objects.get().name == "Till tablet"

    def test_without_the_subscriptions_auth_secret_nothing_moves(self, sam, alex, tablet_alerts):
        self.switch_with(device(alex), sam, auth=BrowserKeys().auth)
        assert PushSubscription.objects.get().user == alex

    def test_a_wrong_pin_moves_nothing(self, sam, alex, tablet_alerts):
        tablet = device(alex)
        tablet.post(
            "/w/switch",
            {"user": sam.pk, "pin": "000111", "device_endpoint": TABLET_ENDPOINT, "device_auth": tablet_alerts.auth},
        )
        assert PushSubscription.objects.get().user == alex

    def test_a_person_with_the_most_devices_already_stops_the_tablet_alerting_anyone(self, sam, alex, tablet_alerts):
        for n in range(MAX_DEVICES_PER_PERSON):
            keys = BrowserKeys()
            PushSubscription.objects.create(
                user=sam, name=f"Phone {n}", endpoint=f"{TABLET_ENDPOINT}-{n}", p256dh=keys.p256dh, auth=keys.auth
            )
        self.switch_with(device(alex), sam, auth=tablet_alerts.auth)
        assert not PushSubscription.objects.filter(endpoint=TABLET_ENDPOINT).exists()

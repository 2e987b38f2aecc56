"""Item 4: /w/login and /admin/login/ pause after repeated wrong passwords, per account and per address,
with a wait that grows; common and all-digit passwords are refused."""

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import aauthenticate, get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client

from shelfcall.core import throttle
from shelfcall.demo.seed import DEMO_PASSWORD
from shelfcall.stores import signin
from tests.factories import make_store, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("rate_limits", "fast_passwords")]
PASSWORD = "tall-ladder-aisle-7"
WRONG = "Please enter a correct username and password"


@pytest.fixture
def sam():
    user = make_user(make_store(), name="Sam")
    user.is_staff = True
    user.set_password(PASSWORD)
    user.save()
    return user


def sign_in(username: str, password: str, *, address: str = "198.51.100.7", url: str = "/w/login"):
    client = Client(REMOTE_ADDR=address)
    return client, client.post(url, {"username": username, "password": password})


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def page_error(response) -> str:
    errors = response.context["form"].non_field_errors()
    return " ".join(errors)


def fail(username: str, times: int, **where) -> None:
    for _ in range(times):
        _client, response = sign_in(username, "wrong password", **where)
        assert response.status_code == 200 and page_error(response)


def test_five_wrong_passwords_pause_the_account_even_for_the_right_one(sam, time_machine):
    fail(sam.username, 5)
    client, response = sign_in(sam.username, PASSWORD)
    assert not signed_in(client)
    assert "Too many failed sign-ins. Try again in 15 minutes." in page_error(response)
    time_machine.shift(15 * 60)
    client, _response = sign_in(sam.username, PASSWORD)
    assert signed_in(client)


def test_the_admin_sign_in_shares_the_lockout(sam):
    fail(sam.username, 5)  # at /w/login
    client, response = sign_in(sam.username, PASSWORD, url="/admin/login/")
    assert not signed_in(client) and "Too many failed sign-ins" in page_error(response)
    fail("someone.else", 5, url="/admin/login/")
    _client, response = sign_in("someone.else", "anything")
    assert "Too many failed sign-ins" in page_error(response)


def test_the_account_counts_however_its_name_is_typed(sam):
    for spelling in [sam.username.upper(), f" {sam.username}", sam.username.title(), sam.username, sam.username]:
        sign_in(spelling, "wrong password")
    client, response = sign_in(sam.username, PASSWORD)
    assert not signed_in(client) and "Too many failed sign-ins" in page_error(response)


def test_the_refusal_does_not_tell_whether_the_account_exists(sam):
    fail(sam.username, 5)
    fail("nobody-here", 5)
    replies = [page_error(sign_in(name, "wrong password")[1]) for name in [sam.username, "nobody-here"]]
    assert replies[0] == replies[1] and "Too many failed sign-ins" in replies[0]
    other = make_user(make_store(), name="Kim")
    replies = [page_error(sign_in(name, "wrong password")[1]) for name in [other.username, "nobody-else"]]
    assert replies[0] == replies[1] and WRONG in replies[0]


def test_a_right_password_clears_the_account_counter(sam):
    fail(sam.username, 4)
    client, _response = sign_in(sam.username, PASSWORD)
    assert signed_in(client)
    fail(sam.username, 4)
    client, _response = sign_in(sam.username, PASSWORD)
    assert signed_in(client)


def test_one_address_guessing_many_accounts_is_paused_and_others_are_not(sam):
    for n in range(20):
        sign_in(f"guess{n}", "123456", address="203.0.113.66")
    client, response = sign_in(sam.username, PASSWORD, address="203.0.113.66")
    assert not signed_in(client) and "Too many failed sign-ins" in page_error(response)
    client, _response = sign_in(sam.username, PASSWORD, address="198.51.100.7")
    assert signed_in(client)


def test_right_passwords_from_one_address_never_pause_it(sam):
    for _ in range(30):  # a whole shift signing in on the store's shared connection
        client, _response = sign_in(sam.username, PASSWORD, address="203.0.113.66")
        assert signed_in(client)


def test_repeated_pauses_back_off_to_hours(sam, time_machine):
    for _round in range(4):
        fail(sam.username, 5)
        time_machine.shift(15 * 60)
    client, response = sign_in(sam.username, PASSWORD)
    assert not signed_in(client)
    assert "Try again in 60 minutes." in page_error(response)  # the six-hour tier ends at 12:00


def test_each_attempt_is_counted_before_the_password_is_checked(sam, monkeypatch):
    """Guesses sent at the same moment cannot all pass the check before the first failure counts."""
    seen: list[int] = []
    original = ModelBackend.authenticate

    def spying(self, request, **credentials):
        seen.append(throttle.hits(signin.PASSWORDS.per_account[0], signin.account_key(sam.username)))
        return original(self, request, **credentials)

    monkeypatch.setattr(ModelBackend, "authenticate", spying)
    fail(sam.username, 2)
    assert seen == [1, 2]


def test_the_async_sign_in_is_behind_the_same_lockout(sam):
    fail(sam.username, 5)
    with pytest.raises(throttle.Throttled):
        async_to_sync(aauthenticate)(None, username=sam.username, password=PASSWORD)
    other = make_user(make_store(), name="Kim")
    assert async_to_sync(aauthenticate)(None, username=other.username, password="x") == other


def test_common_and_all_digit_passwords_are_refused(sam):
    for weak in ["password", "12345678", "qwertyuiop", "2026112399"]:
        with pytest.raises(ValidationError):
            validate_password(weak)
    validate_password(DEMO_PASSWORD)  # the demo's logins still work
    validate_password(PASSWORD, get_user_model()(username="sam"))

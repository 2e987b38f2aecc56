"""An account an admin created with a one-time password: its first sign-in with it sets the person's own
password before anything else; invited people, PIN switches and everyone else are left alone."""

import pytest
from django.contrib.auth.hashers import make_password
from django.test import Client

from shelfcall.setup import actions
from shelfcall.setup.models import OneTimePassword
from shelfcall.stores.models import Role, StaffPin
from tests.factories import make_org_member, make_store, make_user

pytestmark = pytest.mark.django_db
GIVEN = "given-by-the-admin"
OWN = "my own correct horse 42"


@pytest.fixture(autouse=True)
def _fast_hashes(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def store():
    return make_store()


@pytest.fixture
def newcomer(store):
    return actions.add_staff(
        store,
        username="nina",
        first_name="Nina",
        email="nina@example.com",
        role=Role.ASSOCIATE,
        teams=[],
        invite=False,
        make_secret=lambda: GIVEN,
    ).user


def sign_in(username: str, password: str) -> Client:
    client = Client()
    response = client.post("/w/login", {"username": username, "password": password})
    assert response.status_code == 302, "signed in"
    return client


def test_the_first_sign_in_asks_for_an_own_password_before_anything_else(store, newcomer):
    client = sign_in("nina", GIVEN)
    for page in ("/w/", "/w/till", "/w/devices", "/setup/", "/hq/", "/insights/", "/admin/"):
        response = client.get(page)
        assert (response.status_code, response["Location"]) == (302, "/w/password"), page
    assert client.get("/w/password").status_code == 200
    assert client.get("/w/manifest.webmanifest").status_code == 200  # the installable app still loads

    refused = client.post("/w/password", {"new_password1": OWN, "new_password2": "something else"})
    assert refused.status_code == 400 and refused.context["form"].errors["new_password2"]
    done = client.post("/w/password", {"new_password1": OWN, "new_password2": OWN})
    assert (done.status_code, done["Location"]) == (302, "/w/")
    assert client.get("/w/").status_code == 200  # still signed in, and let through
    assert not OneTimePassword.objects.filter(user=newcomer).exists()
    newcomer.refresh_from_db()
    assert newcomer.check_password(OWN) and not newcomer.check_password(GIVEN)
    assert client.get("/w/password")["Location"] == "/w/"  # done once: no longer offered


def test_signing_in_again_before_choosing_asks_again(store, newcomer):
    sign_in("nina", GIVEN)
    assert sign_in("nina", GIVEN).get("/w/")["Location"] == "/w/password"


def test_invited_people_chose_theirs_and_are_not_asked(store):
    invited = actions.add_staff(
        store, username="ivo", first_name="Ivo", email="ivo@example.com", role=Role.ASSOCIATE, teams=[], invite=True
    ).user
    invited.set_password(OWN)
    invited.save()
    assert not OneTimePassword.objects.exists()
    assert sign_in("ivo", OWN).get("/w/").status_code == 200


def test_a_pin_switch_cannot_change_a_password_and_is_not_asked(store, newcomer):
    StaffPin.objects.create(user=newcomer, pin_hash=make_password("482193"))
    tablet = Client()
    tablet.force_login(make_user(store, name="Alex"))
    tablet.post("/w/switch", {"user": newcomer.pk, "pin": "482193"})
    assert tablet.get("/w/").status_code == 200
    assert tablet.get("/w/password")["Location"] == "/w/"


@pytest.mark.parametrize("role", list(Role))
def test_every_role_reaches_the_page_only_after_a_one_time_password(store, role):
    """/w/password with each role: sent on without one; the page itself with one."""
    person = (
        make_org_member(store.organization, role=role)
        if role in (Role.ORG_ADMIN, Role.CUSTOMER_SERVICE)
        else (make_user(store, name="Pat", role=role))
    )
    person.set_password(GIVEN)
    person.save()
    assert sign_in(person.username, GIVEN).get("/w/password")["Location"] == "/w/"
    OneTimePassword.objects.create(user=person)
    assert sign_in(person.username, GIVEN).get("/w/password").status_code == 200


def test_signed_out_is_sent_on_to_the_sign_in(client):
    assert client.get("/w/password", follow=True).redirect_chain[-1][0].startswith("/w/login")

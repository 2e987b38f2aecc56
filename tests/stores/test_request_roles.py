"""A request's user comes with its roles, its sign-in's revocation and its PIN's hash in one statement
(stores.policy.with_held_roles and core.sessions.is_revoked, loaded by the sign-in backends). Nothing is
kept beyond the request: whatever changes counts from the next one on."""

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, get_user_model
from django.contrib.auth.models import AnonymousUser

from shelfcall.core import sessions
from shelfcall.stores import policy
from shelfcall.stores.models import Membership, Organization, Role
from shelfcall.stores.signin import PIN_BACKEND, PasswordBackend, PinBackend
from tests.factories import (
    make_org_member,
    make_product,
    make_showcase,
    make_store,
    make_user,
    signed_in,
    signed_in_with_pin,
    submit,
)

pytestmark = pytest.mark.django_db


def request_user(user):
    """The user as a request gets it: through the backend, roles included, for a session signed in."""
    session = sessions.SessionStore()
    session[sessions.SIGN_IN_KEY] = "a-sign-in"
    with sessions.reading_user_of(session):
        return PasswordBackend().get_user(user.pk)


def test_the_user_its_roles_and_its_sign_in_are_read_in_one_statement(django_assert_num_queries):
    store = make_store()
    alex = make_user(store)
    with django_assert_num_queries(1):
        loaded = request_user(alex)
        assert policy.role_in(loaded, store) == Role.ASSOCIATE


def test_a_pin_sign_in_is_checked_against_the_pin_in_that_same_statement(django_assert_num_queries):
    store = make_store()
    alex = make_user(store)
    tablet = signed_in_with_pin(alex)
    session = sessions.SessionStore(tablet.cookies[settings.SESSION_COOKIE_NAME].value)
    assert session[BACKEND_SESSION_KEY] == PIN_BACKEND
    with django_assert_num_queries(1), sessions.reading_user_of(session):
        loaded = PinBackend().get_user(alex.pk)
        assert loaded == alex and policy.role_in(loaded, store) == Role.ASSOCIATE


def test_the_roles_read_with_the_user_are_those_the_database_answers(django_assert_num_queries):
    store = make_store()
    sister = make_store(organization=store.organization, slug="sister")
    elsewhere = make_store(organization=Organization.objects.create(name="Other", slug="other"), slug="elsewhere")
    associate = make_user(store)
    Membership.objects.create(user=associate, organization=sister.organization, store=sister, role=Role.SUPERVISOR)
    admin = make_org_member(store.organization, role=Role.ORG_ADMIN)
    Membership.objects.create(user=admin, organization=store.organization, store=store, role=Role.ASSOCIATE)
    stranger = get_user_model().objects.create_user("nobody", password="x")
    for user in (associate, admin, stranger):
        loaded = request_user(user)
        with django_assert_num_queries(0):
            answers = [policy.role_in(loaded, each) for each in (store, sister, elsewhere)]
        assert answers == [policy.role_in(user, each) for each in (store, sister, elsewhere)]
    assert [policy.role_in(request_user(associate), each) for each in (store, sister, elsewhere)] == [
        Role.ASSOCIATE,
        Role.SUPERVISOR,
        None,  # another organization's store: nothing leaks across
    ]
    assert policy.role_in(request_user(admin), sister) == Role.ORG_ADMIN  # the highest role reaching it
    assert policy.role_in(AnonymousUser(), store) is None


def test_a_role_taken_away_counts_from_the_next_request():
    store = make_store()
    alex = make_user(store)
    order = submit(_showcase(store))
    browser = signed_in(alex)
    assert browser.get(f"/w/orders/{order.pk}").status_code == 200
    Membership.objects.filter(user=alex, store=store).update(role=Role.CUSTOMER_SERVICE, store=None)
    assert browser.get(f"/w/orders/{order.pk}").status_code == 404  # customer service works from /hq/
    Membership.objects.filter(user=alex).delete()
    assert browser.get(f"/w/orders/{order.pk}").status_code == 404


def test_a_role_given_counts_from_the_next_request():
    store, other = make_store(), make_store(slug="other")
    alex = make_user(other)
    order = submit(_showcase(store))
    browser = signed_in(alex)
    assert browser.get(f"/w/orders/{order.pk}").status_code == 404
    Membership.objects.create(user=alex, organization=store.organization, store=store, role=Role.ASSOCIATE)
    assert browser.get(f"/w/orders/{order.pk}").status_code == 200


def test_a_deactivated_account_is_signed_out_at_its_next_request():
    store = make_store()
    alex = make_user(store)
    browser = signed_in(alex)
    assert browser.get("/w/").status_code == 200
    get_user_model().objects.filter(pk=alex.pk).update(is_active=False)
    assert browser.get("/w/")["Location"].startswith("/w/login")


def test_a_password_changed_elsewhere_signs_the_session_out():
    store = make_store()
    alex = make_user(store)
    browser = signed_in(alex)
    assert browser.get("/w/").status_code == 200
    alex.set_password("another-long-password-42")
    alex.save()
    assert browser.get("/w/")["Location"].startswith("/w/login")


def test_a_pin_switch_brings_the_next_persons_roles(rate_limits):
    store = make_store()
    alex, jo = make_user(store), make_user(store, name="Jo", role=Role.SUPERVISOR)
    signed_in(jo).post("/w/pin", {"current": "x", "pin": "482193", "again": "482193"})
    browser = signed_in(alex)
    assert browser.get("/w/").context["request"].role == Role.ASSOCIATE
    browser.post("/w/switch", {"user": jo.pk, "pin": "482193"})
    page = browser.get("/w/")
    assert page.context["request"].user == jo and page.context["request"].role == Role.SUPERVISOR


def _showcase(store):
    return make_showcase(store, products=[make_product(store, on_hand=5)])

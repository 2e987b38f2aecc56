import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from shelfcall.api import keys
from shelfcall.api.models import ApiKey
from shelfcall.stores.models import Membership, Role
from tests.factories import make_store

pytestmark = pytest.mark.django_db


def _admin_user(store, role, *, whole_organization=False):
    user = get_user_model().objects.create_user(f"admin-{role}-{store.pk}", password="x", is_staff=True)
    # As everywhere in the admin: Django's permissions say which kinds of rows, memberships which rows.
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="api"))
    Membership.objects.create(
        user=user, organization=store.organization, store=None if whole_organization else store, role=role
    )
    return user


def _add(client, **fields):
    data = {"name": "Webshop", "scopes": ["orders:read", "orders:write"]} | fields
    return client.post("/admin/api/apikey/add/", data)


def test_the_key_is_shown_once_then_only_its_prefix(admin_client, store):
    page = _add(admin_client, organization=store.organization.pk, store=store.pk)
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    plaintext = re.search(r'<code id="api-key"[^>]*>(sc_[^<]+)</code>', page.content.decode()).group(1)
    api_key = keys.authenticate(plaintext)
    assert api_key.store == store and api_key.scopes == ["orders:read", "orders:write"]
    assert api_key.created_by.is_superuser
    change_page = admin_client.get(f"/admin/api/apikey/{api_key.pk}/change/").content.decode()
    assert api_key.prefix in change_page and plaintext not in change_page
    assert plaintext not in admin_client.get("/admin/api/apikey/").content.decode()


def test_revoke_action(admin_client, till_key):
    admin_client.post(
        "/admin/api/apikey/", {"action": "revoke_keys", "_selected_action": [till_key.api_key.pk]}, follow=True
    )
    assert ApiKey.objects.get(pk=till_key.api_key.pk).is_revoked
    assert admin_client.post(f"/admin/api/apikey/{till_key.api_key.pk}/delete/").status_code == 403


def test_store_admin_sees_and_makes_keys_of_their_store_only(client, store, make_key):
    other_store = make_store(organization=store.organization)
    mine, theirs = make_key(store), make_key(other_store)
    client.force_login(_admin_user(store, Role.STORE_ADMIN))
    listing = client.get("/admin/api/apikey/").content.decode()
    assert mine.api_key.prefix in listing and theirs.api_key.prefix not in listing
    assert client.get(f"/admin/api/apikey/{theirs.api_key.pk}/change/").status_code == 302  # "does not exist"
    refused = _add(client, organization=store.organization.pk, store=other_store.pk)
    assert refused.status_code == 200 and b"errornote" in refused.content
    refused = _add(client, organization=store.organization.pk, store="")  # organization-wide: org admins only
    assert b"Only an organization admin" in refused.content
    assert ApiKey.objects.count() == 2
    made = _add(client, organization=store.organization.pk, store=store.pk)
    assert b'id="api-key"' in made.content and ApiKey.objects.filter(store=store).count() == 2


def test_organization_admin_makes_organization_keys_but_not_for_others(client, store, make_key):
    stranger = make_key(make_store())
    client.force_login(_admin_user(store, Role.ORG_ADMIN, whole_organization=True))
    assert stranger.api_key.prefix not in client.get("/admin/api/apikey/").content.decode()
    made = _add(client, organization=store.organization.pk, store="")
    assert b'id="api-key"' in made.content
    refused = _add(client, organization=stranger.api_key.organization_id, store="")
    assert b"errornote" in refused.content


def test_a_store_of_another_organization_is_refused(admin_client, store):
    page = _add(admin_client, organization=store.organization.pk, store=make_store().pk)
    assert b"Choose a store of this organization" in page.content


def test_a_key_can_be_renamed_but_not_turned_into_another(admin_client, till_key):
    api_key = till_key.api_key
    page = admin_client.post(
        f"/admin/api/apikey/{api_key.pk}/change/", {"name": "Till 1, by the door", "scopes": ["catalog:write"]}
    )
    assert page.status_code == 302, page.content.decode()[:2000]
    api_key.refresh_from_db()
    assert api_key.name == "Till 1, by the door" and api_key.scopes == ["orders:read", "payments:write"]

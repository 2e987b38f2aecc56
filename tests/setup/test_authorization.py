"""Every /setup/ URL with every role: who is let in, who is refused, and another store is a 404."""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import URLPattern

from shelfcall.setup import urls as setup_urls
from shelfcall.stores.models import Membership, Role
from tests.factories import make_store, make_user, signed_in, signed_in_with_pin

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Page:
    path: Callable[[dict], str]  # from the world's ids
    post_only: bool = False
    org_admins_only: bool = False
    per_store: bool = True


def _store(tail: str, **page) -> Page:
    return Page(lambda w: f"/setup/stores/{w['store']}/" + tail.format(**w), **page)


# URL name → how to reach it for the world's store. test_the_table_names_every_url keeps it complete.
PAGES = {
    "home": Page(lambda w: "/setup/", per_store=False),
    "roles": Page(lambda w: "/setup/roles", per_store=False),
    "store_new": Page(lambda w: "/setup/stores/new", per_store=False, org_admins_only=True),
    "store": _store(""),
    "store_edit": _store("edit"),
    "store_settings": _store("settings"),
    "store_logo": _store("logo", post_only=True),
    "store_delete": _store("delete", post_only=True, org_admins_only=True),
    "staff": _store("staff"),
    "staff_edit": _store("staff/{membership}"),
    "staff_remove": _store("staff/{membership}/remove", post_only=True),
    "showcase_products": _store("showcases/{showcase}/products", post_only=True),
    "channel_test": _store("channels/{channel}/test", post_only=True),
    "teams": _store("teams"),
    "teams_edit": _store("teams/{team}"),
    "teams_delete": _store("teams/{team}/delete", post_only=True),
    "drop_zones": _store("drop-zones"),
    "drop_zones_edit": _store("drop-zones/{drop_zone}"),
    "drop_zones_delete": _store("drop-zones/{drop_zone}/delete", post_only=True),
    "showcases": _store("showcases"),
    "showcases_edit": _store("showcases/{showcase}"),
    "showcases_delete": _store("showcases/{showcase}/delete", post_only=True),
    "channels": _store("channels"),
    "channels_edit": _store("channels/{channel}"),
    "channels_delete": _store("channels/{channel}/delete", post_only=True),
}
# Roles that work in a store without administering it (customer service where that role exists).
NOT_ADMINS = [role for role in Role if role not in (Role.STORE_ADMIN, Role.ORG_ADMIN)]


def test_the_table_names_every_url():
    assert {p.name for p in setup_urls.urlpatterns if isinstance(p, URLPattern)} == set(PAGES)


@pytest.fixture
def world(store, showcase, drop_zone, channel) -> dict:
    associate = make_user(store, name="Ana")
    return {
        "store": store.pk,
        "membership": Membership.objects.get(user=associate).pk,
        "team": showcase.team_id,
        "drop_zone": drop_zone.pk,
        "showcase": showcase.pk,
        "channel": channel.pk,
    }


def _twin(store) -> dict:
    """The same kinds of rows in another store, for the "not yours" checks."""
    from shelfcall.notify.models import Channel
    from tests.factories import make_drop_zone, make_showcase

    showcase = make_showcase(store)
    channel = Channel.objects.create(store=store, name="Other", kind="email", target="o@example.com")
    associate = make_user(store, name="Bo")
    return {
        "store": store.pk,
        "membership": Membership.objects.get(user=associate).pk,
        "team": showcase.team_id,
        "drop_zone": make_drop_zone(store).pk,
        "showcase": showcase.pk,
        "channel": channel.pk,
    }


def _ask(client: Client, page: Page, world: dict):
    return (client.post if page.post_only else client.get)(page.path(world))


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_is_sent_to_sign_in(client, name, world):
    response = _ask(client, PAGES[name], world)
    assert response.status_code == 302 and response["Location"].startswith("/w/login")


@pytest.mark.parametrize("role", NOT_ADMINS)
@pytest.mark.parametrize("name", PAGES)
def test_staff_who_do_not_administer_are_refused(name, role, store, world):
    client = signed_in(make_user(store, name="Kim", role=role))
    assert _ask(client, PAGES[name], world).status_code == 403


@pytest.mark.parametrize("name", PAGES)
def test_a_pin_session_is_refused(name, store_admin, world):
    client = signed_in_with_pin(store_admin)
    assert _ask(client, PAGES[name], world).status_code == 403


@pytest.mark.parametrize("name", PAGES)
def test_store_admin_reaches_their_store_and_not_another(name, store, other_store, store_admin, world):
    client = signed_in(store_admin)
    page = PAGES[name]
    if not page.post_only:
        assert client.get(page.path(world)).status_code in ((403,) if page.org_admins_only else (200, 302))
    if page.per_store:
        theirs = _twin(other_store)
        assert client.get(page.path(theirs)).status_code in (404, 405)
        assert client.post(page.path(theirs)).status_code == 404
        assert client.post(page.path({**world, "store": other_store.pk})).status_code == 404


@pytest.mark.parametrize("name", PAGES)
def test_org_admin_reaches_every_store_of_the_organization(name, other_store, org_admin, world):
    client = signed_in(org_admin)
    page = PAGES[name]
    if not page.post_only:
        assert client.get(page.path(world)).status_code in (200, 302)
        if page.per_store:
            assert client.get(page.path(_twin(other_store))).status_code == 200


@pytest.mark.parametrize("name", [n for n, p in PAGES.items() if p.per_store])
def test_an_admin_of_another_organization_gets_404(name, world):
    stranger = make_user(make_store(), name="Zed", role=Role.STORE_ADMIN)
    assert _ask(signed_in(stranger), PAGES[name], world).status_code == 404


def test_the_list_of_stores_shows_only_ones_administered(store, other_store, store_admin):
    Membership.objects.create(
        user=store_admin, organization=store.organization, store=make_store(name="Elsewhere"), role=Role.ASSOCIATE
    )
    page = signed_in(store_admin).get("/setup/", follow=True).content.decode()
    assert "Hardware Hall" in page and "South" not in page and "Elsewhere" not in page

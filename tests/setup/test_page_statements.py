"""The setup pages' SQL statements: a fixed number, however many stores, rows or people there are."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shelfcall.notify.models import Channel
from shelfcall.stores.models import DropZone, Membership, Role, Team
from tests.factories import make_product, make_showcase, make_store, make_user, signed_in

pytestmark = pytest.mark.django_db

# Each page reads the user (the session is a cookie: no statement) and whether they administer
# anything; a store's pages also the store among those they administer and whether they administer
# its organization (4 in all).
# The rest is the page's own reads, counted exactly.
BUDGET = {
    "/setup/": 4,  # + every store with its checklist, in one query (one store would redirect to it)
    "/setup/roles": 3,  # + whether they administer an organization
    "/setup/stores/{store}/": 5,  # + the checklist
    "/setup/stores/{store}/edit": 5,  # + the opening hours
    "/setup/stores/{store}/settings": 8,  # + collection and escalation policies, each level's channels
    "/setup/stores/{store}/teams": 5,  # + the teams
    "/setup/stores/{store}/drop-zones": 5,  # + the drop zones
    "/setup/stores/{store}/showcases": 7,  # + the showcases with their teams, the teams to choose from
    "/setup/stores/{store}/showcases/{showcase}": 8,  # + the showcase, the teams, its products
    "/setup/stores/{store}/channels": 6,  # + the channels with their teams, the teams to choose from
    "/setup/stores/{store}/channels/{channel}": 7,  # + the channel, the teams, its last tests
    "/setup/stores/{store}/staff": 8,  # + the people with their PINs, their teams, the roles to grant
}


def _grow(store, org_admin, n: int) -> dict:
    """`n` more of everything: stores, teams, drop zones, showcases with products, channels, staff."""
    for i in range(n):
        make_store(organization=store.organization)
        team = Team.objects.create(store=store, name=f"Team {i}")
        DropZone.objects.create(store=store, name=f"Locker {i}", kind="locker")
        make_showcase(store, products=[make_product(store) for _ in range(2)])
        Channel.objects.create(store=store, team=team, name=f"Mail {i}", kind="email", target=f"m{i}@example.com")
        Membership.objects.get(user=make_user(store, name=f"P{i}", role=Role.SUPERVISOR)).teams.add(team)
    showcase = store.showcases.first()
    return {"store": store.pk, "showcase": showcase.pk, "channel": store.channels.first().pk}


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return sum("SAVEPOINT" not in q["sql"] for q in captured.captured_queries)


def test_every_page_within_its_budget_whatever_the_size(store, org_admin):
    client = signed_in(org_admin)
    ids = _grow(store, org_admin, 2)
    client.get("/setup/")  # a warm session, as on a device in use
    small = {url: _count(client, url.format(**ids)) for url in BUDGET}
    _grow(store, org_admin, 6)
    large = {url: _count(client, url.format(**ids)) for url in BUDGET}
    assert large == small, "a page's statements grow with its rows"
    assert large == BUDGET

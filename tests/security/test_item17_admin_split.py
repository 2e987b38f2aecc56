"""Item 17: the admin is split by store. Every staff account here holds every Django permission (the
worst case: "a staff user with membership rights"); only memberships decide what each one reaches.

Two organizations: ALPHA and BRAVO are stores of the first, CHARLIE of the second. Every row of a
store carries its name in its texts, so a page that leaks another store's row shows the word.
"""

from dataclasses import dataclass, field

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db.models import Model
from django.test import Client

from shelfcall.catalog.models import Product, Showcase, ShowcaseItem, StockLevel
from shelfcall.notify.models import Channel, CollectionPolicy, EscalationLevel, EscalationPolicy, OutboxMessage
from shelfcall.orders.models import Order
from shelfcall.stores.models import DropZone, Membership, Organization, Role, Store, Team
from tests.factories import make_product, make_store, submit
from tests.notify.factories import make_channel, make_collection_policy, make_escalation

pytestmark = pytest.mark.django_db

STORES = ["ALPHA", "BRAVO", "CHARLIE"]
ROLES = ["root", "olga", "alice", "bob", "sam"]
# What each account administers: root is a superuser, olga the first organization's admin, alice and
# bob store admins of ALPHA and BRAVO, sam a supervisor of ALPHA (administers nothing).
ADMINISTERS = {"root": STORES, "olga": ["ALPHA", "BRAVO"], "alice": ["ALPHA"], "bob": ["BRAVO"], "sam": []}
# The accounts each one sees in the user admin (those with a membership reaching their stores).
SEES_USERS = {
    "root": {"root", "olga", "alice", "bob", "sam", "carl"},
    "olga": {"olga", "alice", "bob", "sam"},
    "alice": {"olga", "alice", "sam"},
    "bob": {"olga", "bob"},
}
CHANGELISTS = [
    Organization,
    Store,
    Membership,
    Product,
    Showcase,
    Channel,
    EscalationPolicy,
    CollectionPolicy,
    OutboxMessage,
    Order,
]


@dataclass
class StoreRows:
    store: Store
    team: Team
    product: Product
    showcase: Showcase
    channel: Channel
    escalation: EscalationPolicy
    order: Order
    rows: list[Model] = field(default_factory=list)


@dataclass
class World:
    stores: dict[str, StoreRows]
    users: dict[str, Model]
    memberships: dict[str, Membership]

    def client(self, name: str) -> Client:
        client = Client()
        client.force_login(self.users[name])
        return client

    def words_hidden_from(self, name: str) -> list[str]:
        return [word for word in STORES if word not in ADMINISTERS[name]]


def _store_rows(word: str, organization: Organization) -> StoreRows:
    store = make_store(name=f"Store {word}", slug=word.lower(), organization=organization)
    team = Team.objects.create(store=store, name=f"Team {word}")
    DropZone.objects.create(store=store, name=f"Desk {word}")
    product = make_product(store, name=f"Product {word}", sku=f"SKU-{word}")
    showcase = Showcase.objects.create(store=store, team=team, name=f"Case {word}", code=f"CODE{word}")
    ShowcaseItem.objects.create(showcase=showcase, product=product)
    channel = make_channel(store, f"https://hooks.example.com/{word}", name=f"Channel {word}")
    escalation = make_escalation(store, [(5, channel)], team=team)
    make_collection_policy(store)
    order = submit(showcase, contact=None)
    order.shopper_name = f"Shopper {word}"
    order.save(update_fields=["shopper_name"])
    rows = StoreRows(store, team, product, showcase, channel, escalation, order)
    rows.rows = [
        store,
        showcase,
        channel,
        escalation,
        store.collection_policy,
        order,
        *OutboxMessage.objects.filter(order=order),
    ]
    return rows


def _account(username: str, *, superuser: bool = False):
    user = get_user_model().objects.create_user(username, password="x", is_staff=True, is_superuser=superuser)
    user.user_permissions.set(Permission.objects.all())
    return user


@pytest.fixture
def world() -> World:
    first = Organization.objects.create(name="First Org", slug="first")
    second = Organization.objects.create(name="Second Org", slug="second")
    stores = {
        "ALPHA": _store_rows("ALPHA", first),
        "BRAVO": _store_rows("BRAVO", first),
        "CHARLIE": _store_rows("CHARLIE", second),
    }
    alpha = stores["ALPHA"]
    users = {name: _account(name, superuser=name == "root") for name in [*ROLES, "carl"]}
    memberships = {
        "olga": Membership.objects.create(user=users["olga"], organization=first, role=Role.ORG_ADMIN),
        "alice": Membership.objects.create(
            user=users["alice"], organization=first, store=alpha.store, role=Role.STORE_ADMIN
        ),
        "bob": Membership.objects.create(
            user=users["bob"], organization=first, store=stores["BRAVO"].store, role=Role.STORE_ADMIN
        ),
        "sam": Membership.objects.create(
            user=users["sam"], organization=first, store=alpha.store, role=Role.SUPERVISOR
        ),
        "carl": Membership.objects.create(
            user=users["carl"], organization=second, store=stores["CHARLIE"].store, role=Role.STORE_ADMIN
        ),
    }
    return World(stores, users, memberships)


def _url(model: type[Model], *suffix) -> str:
    parts = [model._meta.app_label, model._meta.model_name, *map(str, suffix)]
    return "/admin/" + "/".join(parts) + "/"


def _expected_rows(world: World, name: str, model: type[Model]) -> set[Model]:
    stores = [world.stores[word] for word in ADMINISTERS[name]]
    if model is Organization:
        return {rows.store.organization for rows in stores}
    if model is Product:
        return {rows.product for rows in stores} | {
            r.product for r in world.stores.values() if r.store.organization in {s.store.organization for s in stores}
        }
    if model is Membership:
        grantable = {m for m in world.memberships.values() if m.store in {rows.store for rows in stores}}
        return grantable | ({world.memberships["olga"]} if name in ("root", "olga") else set())
    return {row for rows in stores for row in rows.rows if isinstance(row, model)}


@pytest.mark.parametrize("name", ["root", "olga", "alice", "bob"])
def test_each_admin_lists_only_the_rows_of_their_stores(world, name):
    client = world.client(name)
    for model in CHANGELISTS:
        page = client.get(_url(model))
        assert page.status_code == 200, model
        assert set(page.context["cl"].result_list) == _expected_rows(world, name, model), model
        html = page.content.decode()
        assert not any(f"Store {word}" in html for word in world.words_hidden_from(name)), model
    users = client.get(_url(get_user_model()))
    assert {user.username for user in users.context["cl"].result_list} == SEES_USERS[name]


@pytest.mark.parametrize("name", ["root", "olga", "alice", "bob"])
def test_change_pages_open_only_in_their_stores(world, name):
    client = world.client(name)
    for word, rows in world.stores.items():
        for row in rows.rows:
            page = client.get(_url(type(row), row.pk, "change"))
            if word in ADMINISTERS[name]:
                assert page.status_code == 200, row
                html = page.content.decode()
                assert not any(f" {hidden}" in html for hidden in world.words_hidden_from(name)), row
            else:
                assert page.status_code == 302 and page.url == "/admin/", row  # "does not exist"


@pytest.mark.parametrize("name", ["root", "olga", "alice", "bob"])
def test_add_pages_offer_only_their_stores_and_teams(world, name):
    client = world.client(name)
    expected = {world.stores[word].store for word in ADMINISTERS[name]}
    for model in [Showcase, Channel, EscalationPolicy, CollectionPolicy, Membership]:
        page = client.get(_url(model, "add"))
        assert page.status_code == 200, model
        fields = page.context["adminform"].form.fields
        assert set(fields["store"].queryset) == expected, model
        if "team" in fields:
            assert {team.store for team in fields["team"].queryset} == expected, model
        html = page.content.decode()
        assert not any(f" {hidden}" in html for hidden in world.words_hidden_from(name)), model


def test_a_supervisor_with_every_django_permission_administers_nothing(world):
    client = world.client("sam")
    assert "You don’t have permission to view or edit anything" in client.get("/admin/").content.decode()
    for model in [*CHANGELISTS, get_user_model(), Group]:
        assert client.get(_url(model)).status_code == 403, model
        assert client.get(_url(model, "add")).status_code == 403, model
    order = world.stores["ALPHA"].order
    assert client.get(_url(Order, order.pk, "change")).status_code == 403


# --- Forged POSTs --------------------------------------------------------------------------------


def _channel_form(store: Store, **overrides) -> dict:
    return {
        "store": store.pk,
        "name": "Forged",
        "kind": "email",
        "target": "desk@example.com",
        "secret": "",
        "events": "[]",
        "active": "on",
    } | overrides


def test_a_store_admin_cannot_create_a_channel_in_another_store(world):
    bravo = world.stores["BRAVO"]
    page = world.client("alice").post(_url(Channel, "add"), _channel_form(bravo.store))
    assert page.status_code == 200
    assert "store" in page.context["adminform"].form.errors
    assert not Channel.objects.filter(name="Forged").exists()


def test_a_store_admin_cannot_move_their_channel_to_another_store_or_team(world):
    alpha, bravo = world.stores["ALPHA"], world.stores["BRAVO"]
    client = world.client("alice")
    url = _url(Channel, alpha.channel.pk, "change")
    form = _channel_form(alpha.store, name="Moved")
    assert "store" in client.post(url, form | {"store": bravo.store.pk}).context["adminform"].form.errors
    assert "team" in client.post(url, form | {"team": bravo.team.pk}).context["adminform"].form.errors
    alpha.channel.refresh_from_db()
    assert alpha.channel.store == alpha.store and alpha.channel.name == "Channel ALPHA"


def _escalation_form(store: Store, channel: Channel) -> dict:
    return {
        "store": store.pk,
        "team": "",
        "watch": "unclaimed",
        "levels-TOTAL_FORMS": "1",
        "levels-INITIAL_FORMS": "0",
        "levels-0-after_minutes": "3",
        "levels-0-channel": channel.pk,
    }


@pytest.mark.parametrize("name", ["alice", "olga", "root"])
def test_an_escalation_level_cannot_point_at_another_stores_channel(world, name):
    """alice does not see BRAVO's channel at all; olga and root do, and the level's clean refuses the pair."""
    alpha, bravo = world.stores["ALPHA"], world.stores["BRAVO"]
    page = world.client(name).post(_url(EscalationPolicy, "add"), _escalation_form(alpha.store, bravo.channel))
    assert page.status_code == 200
    errors = page.context["inline_admin_formsets"][0].formset.errors[0]
    assert "channel" in errors
    assert not EscalationPolicy.objects.filter(team=None).exists()
    with pytest.raises(Exception, match="channel of this policy"):
        EscalationLevel(policy=alpha.escalation, after_minutes=1, channel=bravo.channel).full_clean()


def test_a_level_added_to_another_stores_policy_is_refused(world):
    bravo = world.stores["BRAVO"]
    page = world.client("alice").post(
        _url(EscalationPolicy, bravo.escalation.pk, "change"), _escalation_form(bravo.store, bravo.channel)
    )
    assert page.status_code == 302 and page.url == "/admin/"
    assert bravo.escalation.levels.count() == 1


def test_showcases_stock_and_memberships_cannot_pair_across_stores(world):
    alpha, bravo, charlie = world.stores["ALPHA"], world.stores["BRAVO"], world.stores["CHARLIE"]
    with pytest.raises(Exception, match="team of this store"):
        Showcase(store=alpha.store, team=bravo.team, name="x").full_clean()
    with pytest.raises(Exception, match="team of this store"):
        EscalationPolicy(store=alpha.store, team=bravo.team).full_clean()
    with pytest.raises(Exception, match="product's organization"):
        StockLevel(store=alpha.store, product=charlie.product).full_clean()
    with pytest.raises(Exception, match="store's organization"):
        ShowcaseItem(showcase=alpha.showcase, product=charlie.product).full_clean()
    with pytest.raises(Exception, match="store of this organization"):
        Membership(user=world.users["sam"], organization=charlie.store.organization, store=alpha.store).full_clean()


def _membership_form(user, store: Store | None, role: Role, organization: Organization | None = None) -> dict:
    organization = organization or store.organization
    return {"user": user.pk, "organization": organization.pk, "store": store.pk if store else "", "role": role}


def test_a_store_admin_cannot_grant_themselves_or_anyone_more(world):
    alpha, bravo = world.stores["ALPHA"], world.stores["BRAVO"]
    alice, sam, root = world.users["alice"], world.users["sam"], world.users["root"]
    client = world.client("alice")
    own = _url(Membership, world.memberships["alice"].pk, "change")
    refusals = {
        "self to org admin": (own, _membership_form(alice, None, Role.ORG_ADMIN, alpha.store.organization)),
        "self to org-wide": (own, _membership_form(alice, None, Role.STORE_ADMIN, alpha.store.organization)),
        "self into BRAVO": (own, _membership_form(alice, bravo.store, Role.STORE_ADMIN)),
        "new org admin": (
            _url(Membership, "add"),
            _membership_form(sam, None, Role.ORG_ADMIN, alpha.store.organization),
        ),
        "new in BRAVO": (_url(Membership, "add"), _membership_form(sam, bravo.store, Role.ASSOCIATE)),
        "a superuser": (_url(Membership, "add"), _membership_form(root, alpha.store, Role.ASSOCIATE)),
    }
    for case, (url, form) in refusals.items():
        page = client.post(url, form)
        assert page.status_code == 200, case
        assert page.context["adminform"].form.errors, case
    assert set(Membership.objects.filter(user__in=[alice, sam, root]).values_list("store", "role")) == {
        (alpha.store.pk, Role.STORE_ADMIN),
        (alpha.store.pk, Role.SUPERVISOR),
    }
    # What is theirs to give, they give.
    page = client.post(
        _url(Membership, world.memberships["sam"].pk, "change"), _membership_form(sam, alpha.store, Role.ASSOCIATE)
    )
    assert page.status_code == 302
    assert Membership.objects.get(user=sam).role == Role.ASSOCIATE


def test_a_store_admin_cannot_edit_a_membership_of_another_store(world):
    carl_membership = world.memberships["bob"]
    page = world.client("alice").post(
        _url(Membership, carl_membership.pk, "change"),
        _membership_form(world.users["alice"], world.stores["BRAVO"].store, Role.STORE_ADMIN),
    )
    assert page.status_code == 302 and page.url == "/admin/"
    carl_membership.refresh_from_db()
    assert carl_membership.user == world.users["bob"]


def test_an_org_admin_grants_within_their_organization_only(world):
    olga, sam, carl = world.users["olga"], world.users["sam"], world.users["carl"]
    alpha, charlie = world.stores["ALPHA"], world.stores["CHARLIE"]
    client = world.client("olga")
    page = client.post(_url(Membership, "add"), _membership_form(sam, None, Role.ORG_ADMIN, alpha.store.organization))
    assert page.status_code == 302
    for form in [
        _membership_form(olga, charlie.store, Role.ASSOCIATE),
        _membership_form(olga, None, Role.ORG_ADMIN, charlie.store.organization),
        _membership_form(carl, alpha.store, Role.ASSOCIATE),
    ]:
        assert client.post(_url(Membership, "add"), form).context["adminform"].form.errors
    assert not Membership.objects.filter(organization=charlie.store.organization).exclude(user=carl).exists()


def _user_form(user, **overrides) -> dict:
    return {
        "username": user.username,
        "first_name": "",
        "last_name": "",
        "email": "",
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "10:00:00",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    } | overrides


def test_a_store_admin_cannot_raise_an_account_to_staff_superuser_or_permissions(world):
    sam, alice = world.users["sam"], world.users["alice"]
    sam.is_staff = False
    sam.save()
    sam.user_permissions.clear()
    client = world.client("alice")
    group = Group.objects.create(name="everything")
    group.permissions.set(Permission.objects.all())
    rights = {"is_staff": "on", "is_superuser": "on", "groups": [group.pk], "user_permissions": [1, 2]}
    for user in (sam, alice):
        page = client.post(_url(get_user_model(), user.pk, "change"), _user_form(user, **rights))
        assert page.status_code == 302, user
    sam.refresh_from_db()
    alice.refresh_from_db()
    assert not sam.is_staff and not sam.is_superuser and not sam.groups.exists() and not sam.user_permissions.exists()
    assert not alice.is_superuser and not alice.groups.exists()
    assert client.get(_url(Group)).status_code == 403
    assert client.post(_url(Group, group.pk, "change"), {"name": "x"}).status_code == 403


@pytest.mark.parametrize("target", ["olga", "root", "bob", "carl"])
def test_a_store_admin_cannot_edit_accounts_with_more_rights_or_elsewhere(world, target):
    user = world.users[target]
    client = world.client("alice")
    before = user.password
    change = client.post(_url(get_user_model(), user.pk, "change"), _user_form(user, username="renamed"))
    password = client.post(
        _url(get_user_model(), user.pk, "password"), {"password1": "Hijacked-123!", "password2": "Hijacked-123!"}
    )
    assert change.status_code in (302, 403) and password.status_code in (403, 404)
    user.refresh_from_db()
    assert user.username == target and user.password == before


def test_an_account_with_permissions_the_admin_lacks_is_read_only_to_them(world):
    sam, alice = world.users["sam"], world.users["alice"]
    alice.user_permissions.remove(Permission.objects.get(codename="delete_order"))
    page = world.client("alice").post(_url(get_user_model(), sam.pk, "change"), _user_form(sam, username="renamed"))
    assert page.status_code == 403


def test_a_new_account_comes_with_a_membership_of_the_admins_store(world):
    alpha, bravo = world.stores["ALPHA"], world.stores["BRAVO"]
    client = world.client("alice")
    form = {
        "username": "newbie",
        "usable_password": "true",
        "password1": "Long-enough-42!",
        "password2": "Long-enough-42!",
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "0",
        "memberships-0-organization": alpha.store.organization.pk,
        "memberships-0-role": Role.ASSOCIATE,
    }
    for store in ("", bravo.store.pk):
        page = client.post(_url(get_user_model(), "add"), form | {"memberships-0-store": store})
        assert page.status_code == 200
    assert client.post(_url(get_user_model(), "add"), form | {"memberships-TOTAL_FORMS": "0"}).status_code == 200
    assert not get_user_model().objects.filter(username="newbie").exists()
    page = client.post(_url(get_user_model(), "add"), form | {"memberships-0-store": alpha.store.pk})
    assert page.status_code == 302
    assert Membership.objects.get(user__username="newbie").store == alpha.store


def test_a_store_admin_sets_their_stores_stock_only(world):
    alpha, bravo = world.stores["ALPHA"], world.stores["BRAVO"]
    product = alpha.product
    StockLevel.objects.create(store=bravo.store, product=product, on_hand=7)
    ours = StockLevel.objects.get(store=alpha.store, product=product)
    form = {
        "stock_levels-TOTAL_FORMS": "2",
        "stock_levels-INITIAL_FORMS": "1",
        "stock_levels-0-id": ours.pk,
        "stock_levels-0-product": product.pk,
        "stock_levels-0-store": alpha.store.pk,
        "stock_levels-0-on_hand": "9",
        "stock_levels-1-product": product.pk,
        "stock_levels-1-store": bravo.store.pk,
        "stock_levels-1-on_hand": "99",
        "price": "0.01",
    }
    client = world.client("alice")
    page = client.post(_url(Product, product.pk, "change"), form)
    assert page.status_code == 200 and "store" in page.context["inline_admin_formsets"][0].formset.errors[1]
    del form["stock_levels-1-store"], form["stock_levels-1-on_hand"], form["stock_levels-1-product"]
    assert client.post(_url(Product, product.pk, "change"), form | {"stock_levels-TOTAL_FORMS": "1"}).status_code == 302
    assert StockLevel.objects.get(store=alpha.store, product=product).on_hand == 9
    assert StockLevel.objects.get(store=bravo.store, product=product).on_hand == 7
    product.refresh_from_db()
    assert product.price != 0.01  # the product itself is the organization admin's
    assert client.post(_url(Product, product.pk, "delete"), {"post": "yes"}).status_code == 403


def test_autocomplete_offers_only_products_of_the_admins_organizations(world):
    query = "/admin/autocomplete/?app_label=catalog&model_name=showcaseitem&field_name=product&term=Product"
    found = {item["text"] for item in world.client("bob").get(query).json()["results"]}
    assert found == {"Product ALPHA (SKU-ALPHA)", "Product BRAVO (SKU-BRAVO)"}
    assert world.client("sam").get(query).status_code == 403


def test_actions_reach_only_the_admins_rows(world):
    bravo = world.stores["BRAVO"]
    message = OutboxMessage.objects.filter(order=bravo.order).first()
    OutboxMessage.objects.filter(pk=message.pk).update(status="failed")
    world.client("alice").post(_url(OutboxMessage), {"action": "try_again", "_selected_action": [message.pk]})
    message.refresh_from_db()
    assert message.status == "failed"
    world.client("alice").post(
        _url(Order), {"action": "delete_selected", "_selected_action": [bravo.order.pk], "post": "yes"}
    )
    assert Order.objects.filter(pk=bravo.order.pk).exists()


def test_moving_a_policy_or_a_channel_cannot_split_a_level_across_stores(world):
    alpha, bravo = world.stores["ALPHA"], world.stores["BRAVO"]
    level = alpha.escalation.levels.get()
    client = world.client("olga")
    policy_form = _escalation_form(bravo.store, alpha.channel) | {
        "team": bravo.team.pk,
        "levels-INITIAL_FORMS": "1",
        "levels-0-id": level.pk,
        "levels-0-policy": alpha.escalation.pk,
        "levels-0-after_minutes": "5",
    }
    page = client.post(_url(EscalationPolicy, alpha.escalation.pk, "change"), policy_form)
    assert "store" in page.context["adminform"].form.errors
    page = client.post(
        _url(Channel, alpha.channel.pk, "change"),
        _channel_form(bravo.store),
    )
    assert "store" in page.context["adminform"].form.errors
    assert EscalationPolicy.objects.get(pk=alpha.escalation.pk).store == alpha.store
    assert Channel.objects.get(pk=alpha.channel.pk).store == alpha.store


def test_a_product_stocked_in_one_organization_cannot_move_to_another(world):
    product = world.stores["ALPHA"].product
    product.organization = world.stores["CHARLIE"].store.organization
    with pytest.raises(Exception, match="keep it in that organization"):
        product.full_clean()


@pytest.mark.parametrize("name", ["olga", "alice", "bob"])
def test_organization_wide_pages_follow_the_organization_admin(world, name):
    alpha, charlie = world.stores["ALPHA"], world.stores["CHARLIE"]
    client = world.client(name)
    is_org_admin = name == "olga"
    for model in (Store, Product):
        assert (client.get(_url(model, "add")).status_code == 200) is is_org_admin, model
    assert client.get(_url(Organization, "add")).status_code == 403  # new organizations: superusers'
    page = client.get(_url(Store, "add")) if is_org_admin else None
    if page:
        assert set(page.context["adminform"].form.fields["organization"].queryset) == {alpha.store.organization}
    product = client.get(_url(Product, alpha.product.pk, "change"))
    assert product.status_code == 200
    assert ("name" in product.context["adminform"].form.fields) is is_org_admin
    organization = client.get(_url(Organization, alpha.store.organization.pk, "change"))
    assert organization.status_code == 200 and organization.context["has_change_permission"] is is_org_admin
    assert client.get(_url(Product, charlie.product.pk, "change")).status_code == 302
    assert client.get(_url(Organization, charlie.store.organization.pk, "change")).status_code == 302


def test_a_store_admin_cannot_move_their_store_to_another_organization(world):
    alpha, charlie = world.stores["ALPHA"], world.stores["CHARLIE"]
    page = world.client("alice").get(_url(Store, alpha.store.pk, "change"))
    assert "organization" not in page.context["adminform"].form.fields
    page = world.client("olga").post(_url(Store, "add"), {"organization": charlie.store.organization.pk, "name": "x"})
    assert "organization" in page.context["adminform"].form.errors

"""Deterministic builders: keyword defaults, nothing random that a test depends on."""

from decimal import Decimal
from itertools import count

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.backends.base import SessionBase
from django.test import AsyncClient, Client

from shelfcall.catalog.models import Product, Showcase, ShowcaseItem, StockLevel
from shelfcall.orders import actions
from shelfcall.orders.actions import CartLine, ShopperContact
from shelfcall.orders.events import Actor
from shelfcall.orders.models import Order
from shelfcall.stores.models import DropZone, Membership, Organization, Role, StaffPin, Store, Team
from shelfcall.stores.signin import PIN_BACKEND

_seq = count(1)


def make_store(**overrides) -> Store:
    n = next(_seq)
    org = overrides.pop("organization", None) or Organization.objects.create(name=f"Org {n}", slug=f"org-{n}")
    fields = {
        "name": f"Store {n}",
        "slug": f"store-{n}",
        "timezone": "Europe/Paris",
        "currency": "EUR",
        "help_text": "Ask at the Customer Service desk.",
    } | overrides
    return Store.objects.create(organization=org, **fields)


def make_product(store: Store, *, price: str = "10.00", on_hand: int = 5, name: str | None = None, **fields) -> Product:
    n = next(_seq)
    fields = {"sku": f"SKU-{n}", "upc": f"400000000{n:04d}"} | fields
    product = Product.objects.create(
        organization=store.organization, name=name or f"Product {n}", price=Decimal(price), **fields
    )
    StockLevel.objects.create(store=store, product=product, on_hand=on_hand)
    return product


def make_showcase(
    store: Store | None = None, *, products: list[Product] | None = None, code: str | None = None, **fields
) -> Showcase:
    store = store or make_store()
    team = Team.objects.create(store=store, name=f"Team {next(_seq)}")
    showcase = Showcase.objects.create(
        store=store, team=team, name="Case A", code=code or f"CASE{next(_seq):04d}", **fields
    )
    for position, product in enumerate(products if products is not None else [make_product(store)]):
        ShowcaseItem.objects.create(showcase=showcase, product=product, position=position)
    return showcase


def make_user(store: Store, *, name: str = "Alex", role: str = Role.ASSOCIATE):
    n = next(_seq)
    user = get_user_model().objects.create_user(f"{name.lower()}{n}", password="x", first_name=name)
    Membership.objects.create(user=user, organization=store.organization, store=store, role=role)
    return user


def make_org_member(organization: Organization, *, name: str = "Cy", role: str = Role.CUSTOMER_SERVICE):
    """A member of the whole organization (no store): an organization admin, or customer service."""
    user = get_user_model().objects.create_user(f"{name.lower()}{next(_seq)}", password="x", first_name=name)
    Membership.objects.create(user=user, organization=organization, role=role)
    return user


def staff(store: Store, name: str = "Alex", role: str = Role.ASSOCIATE) -> Actor:
    """A new staff member of the store, as the workspace's actor: with their role, so no query looks it up."""
    return Actor.staff(make_user(store, name=name, role=role), Role(role))


# The till: an API key acting for its store.
TILL = Actor.api("till")


def claimed(order: Order, by: Actor) -> Order:
    return actions.claim_order(order.pk, by=by)


def picked(order: Order, by: Actor) -> Order:
    """Claimed by `by`, every unit picked."""
    claimed(order, by)
    for line in order.lines.all():
        actions.pick_line(order.pk, line.pk, by=by, qty=line.requested_qty - line.short_qty - line.picked_qty)
    return order


def staged(order: Order, by: Actor, drop_zone: DropZone | None = None) -> Order:
    """Picked by `by` and waiting at `drop_zone` (a new desk of the order's store when not given)."""
    picked(order, by)
    return actions.stage_order(order.pk, by=by, drop_zone=drop_zone or make_drop_zone(order.store))


def make_drop_zone(store: Store, name: str = "Customer Service desk") -> DropZone:
    return DropZone.objects.create(store=store, name=name)


def submit(
    showcase: Showcase,
    quantities: dict[Product, int] | None = None,
    *,
    key: str | None = None,
    contact: ShopperContact | None = None,
    device_id: str = "",
    client_address: str = "",
) -> Order:
    quantities = quantities or {showcase.items.first().product: 1}
    lines = [CartLine(product.pk, qty, product.price) for product, qty in quantities.items()]
    return actions.submit_showcase_order(
        showcase,
        lines,
        contact=contact or ShopperContact(name="Kim"),
        submission_key=key or f"key-{next(_seq)}",
        device_id=device_id,
        client_address=client_address,
    )


def stock_of(product: Product, store: Store) -> StockLevel:
    return StockLevel.objects.get(product=product, store=store)


def signed_in(user) -> Client:
    """A browser already signed in as `user` (no password round trip)."""
    client = Client()
    client.force_login(user)
    return client


def save_session(client: Client | AsyncClient, session: SessionBase) -> None:
    """A session changed by a test reaches the browser as its new cookie: the session is the cookie."""
    session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key


def signed_in_with_pin(user, pin: str = "482193") -> Client:
    """A shared device `user` switched to with their PIN (given here unless they have one), as the PIN
    backend signs them in."""
    StaffPin.objects.get_or_create(user=user, defaults={"pin_hash": make_password(pin)})
    checked = authenticate(None, staff=user, pin_secret=pin)
    assert checked is not None
    client = Client()
    client.force_login(checked, backend=PIN_BACKEND)
    return client

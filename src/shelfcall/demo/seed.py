"""A believable store to try Shelfcall with: two teams, two showcases, drop zones and staff."""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction

from shelfcall.catalog.models import Product, Showcase, ShowcaseItem
from shelfcall.catalog.stock import set_on_hand
from shelfcall.notify.models import Channel, CollectionPolicy, EscalationLevel, EscalationPolicy
from shelfcall.stores.models import DropZone, Membership, Organization, Role, StaffPin, Store, Team

DEMO_PASSWORD = "shelfcall-demo"
DEMO_PIN = "246813"


@dataclass(frozen=True)
class DemoProduct:
    sku: str
    name: str
    size: str
    colour: str
    price: str
    on_hand: int
    upc: str


SHAVERS = [
    DemoProduct("SHV-900", "Series 9 Pro shaver", "", "Silver", "289.99", 6, "4210201396512"),
    DemoProduct("SHV-700", "Series 7 shaver", "", "Black", "159.99", 2, "4210201396529"),
    DemoProduct("TRM-300", "Beard trimmer 3000", "", "Blue", "39.99", 12, "8710103913256"),
    DemoProduct("EPL-500", "Silk epilator 5", "", "White", "79.99", 0, "4210201409977"),
]
HEADPHONES = [
    DemoProduct("HP-XM5", "Noise-cancelling headphones", "Over-ear", "Black", "379.00", 4, "4548736132610"),
    DemoProduct("HP-XM5-S", "Noise-cancelling headphones", "Over-ear", "Silver", "379.00", 1, "4548736132627"),
    DemoProduct("EB-PRO2", "Wireless earbuds Pro 2", "In-ear", "White", "279.00", 9, "0194253397168"),
    DemoProduct("SPK-GO3", "Portable speaker Go 3", "", "Red", "49.99", 7, "6925281995460"),
]


@dataclass(frozen=True)
class Demo:
    store: Store
    showcases: list[Showcase]


@transaction.atomic
def seed_demo() -> Demo:
    """Create the demo once; later runs return what is there."""
    if store := Store.objects.filter(slug="downtown", organization__slug="demo-retail").first():
        return Demo(store, list(store.showcases.order_by("pk")))
    org = Organization.objects.create(name="Demo Retail", slug="demo-retail")
    store = Store.objects.create(
        organization=org,
        name="Demo Retail Downtown",
        slug="downtown",
        timezone="Europe/Paris",
        currency="EUR",
        latitude=Decimal("48.856613"),  # Paris: the API's availability sorts stores by distance
        longitude=Decimal("2.352222"),
        brand_colour="#0B5CAD",
        logo_url=f"{settings.STATIC_URL}demo/logo.svg",
        address="12 Rue de la Paix, 75002 Paris",
        help_text="Ask any associate in a blue shirt, or go to the Customer Service desk by the entrance.",
        pickup_instructions="Pay at any till, then collect at the Customer Service desk.",
    )
    beauty = Team.objects.create(store=store, name="Health & Beauty")
    audio = Team.objects.create(store=store, name="Electronics")
    for name, kind, directions in [
        ("Customer Service desk", DropZone.Kind.DESK, "By the main entrance"),
        ("Pickup lockers", DropZone.Kind.LOCKER, "Left of the tills"),
        ("Electronics cage", DropZone.Kind.CAGE, "Aisle 14"),
        ("Curbside bay", DropZone.Kind.CURBSIDE, "Car park, bays 1-4"),
    ]:
        DropZone.objects.create(store=store, name=name, kind=kind, directions=directions)
    showcases = [
        _showcase(store, beauty, "Shavers & trimmers", "SHAVE234", "Aisle 3", SHAVERS),
        _showcase(store, audio, "Headphones & speakers", "AUDX2345", "Aisle 14", HEADPHONES),
    ]
    _staff(org, store, [beauty, audio])
    _notifications(store)
    return Demo(store, showcases)


def _notifications(store: Store) -> None:
    """Emails (printed on the demo's console) for new orders, and escalation when nobody picks; lock-screen
    alerts on the devices of staff who turn them on (My alerts) for new orders and arrivals."""
    Channel.objects.create(
        store=store, name="Staff devices", kind="push", target="", events=["order.created", "order.checked_in"]
    )
    team = Channel.objects.create(
        store=store,
        name="Team inbox",
        kind="email",
        target="team@example.com",
        events=["order.created", "order.claimed"],
    )
    supervisors = Channel.objects.create(
        store=store, name="Supervisors", kind="email", target="supervisors@example.com"
    )
    manager = Channel.objects.create(store=store, name="Store manager", kind="email", target="manager@example.com")
    policy = EscalationPolicy.objects.create(store=store)
    for after, channel in [(3, team), (6, supervisors), (10, manager)]:
        EscalationLevel.objects.create(policy=policy, after_minutes=after, channel=channel)
    CollectionPolicy.objects.create(
        store=store, remind_after_minutes=60, expire_after_minutes=48 * 60, warn_before_minutes=120
    )


def _showcase(store: Store, team: Team, name: str, code: str, where: str, products: list[DemoProduct]) -> Showcase:
    showcase = Showcase.objects.create(store=store, team=team, name=name, code=code, location_hint=where)
    for position, item in enumerate(products):
        product = Product.objects.create(
            organization=store.organization,
            sku=item.sku,
            upc=item.upc,
            name=item.name,
            size=item.size,
            colour=item.colour,
            price=Decimal(item.price),
            image_url=f"{settings.STATIC_URL}demo/{item.sku.lower()}.svg",
            location_hint=f"{where}, case {position + 1}",
        )
        set_on_hand(store.pk, product.pk, item.on_hand)
        ShowcaseItem.objects.create(showcase=showcase, product=product, position=position)
    return showcase


def _staff(org: Organization, store: Store, teams: list[Team]) -> None:
    """Demo logins; an account that already exists (say, your own admin) is left as it is."""
    users = get_user_model()
    if not users.objects.filter(username="admin").exists():
        admin = users.objects.create_superuser("admin", "admin@example.com", DEMO_PASSWORD, first_name="Ada")
        Membership.objects.create(user=admin, organization=org, role=Role.ORG_ADMIN)
    for username, first_name, role in [
        ("sam", "Sam", Role.SUPERVISOR),
        ("alex", "Alex", Role.ASSOCIATE),
        ("jo", "Jo", Role.ASSOCIATE),
    ]:
        if users.objects.filter(username=username).exists():
            continue
        user = users.objects.create_user(
            username,
            f"{username}@example.com",
            DEMO_PASSWORD,
            first_name=first_name,
            is_staff=role == Role.SUPERVISOR,
        )
        membership = Membership.objects.create(user=user, organization=org, store=store, role=role)
        membership.teams.set(teams)
        StaffPin.objects.create(user=user, pin_hash=make_password(DEMO_PIN))

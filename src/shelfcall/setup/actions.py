"""What the setup pages and `shelfcall setup` change: each a function, each one transaction."""

import hashlib
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import time

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Model, ProtectedError
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.text import slugify
from django.utils.translation import gettext as _

from shelfcall.catalog.models import Product, Showcase, ShowcaseItem
from shelfcall.core import clock
from shelfcall.notify.messages import absolute_url
from shelfcall.orders.models import OPEN_STATUSES, Order
from shelfcall.setup import first_password
from shelfcall.setup.logo import Logo
from shelfcall.setup.models import StoreLogo
from shelfcall.stores.models import DropZone, Membership, OpeningPeriod, Organization, Role, StaffPin, Store, Team


@dataclass(frozen=True)
class FirstStore:
    organization: Organization
    store: Store
    admin: User


@transaction.atomic
def create_first_store(
    *, organization: str, store: str, timezone: str, username: str, email: str, password: str
) -> FirstStore:
    """An organization, its first store and its first (organization) admin; ValidationError names the field."""
    org = Organization(name=organization, slug=slugify(organization)[:50])
    org.full_clean()
    org.save()
    new_store = Store(organization=org, name=store, slug=slugify(store)[:50] or "store", timezone=timezone)
    new_store.full_clean()
    new_store.save()
    users = get_user_model()
    if users.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": _("%(name)s is taken: choose another username.") % {"name": username}})
    admin = users(username=username, email=email, first_name=username)
    admin.set_password(password)
    admin.full_clean()
    admin.save()
    Membership.objects.create(user=admin, organization=org, role=Role.ORG_ADMIN)
    return FirstStore(org, new_store, admin)


@transaction.atomic
def save_opening_hours(store: Store, periods: Iterable[tuple[int, time, time]]) -> None:
    """The store's week becomes exactly `periods` (weekday, opens, closes)."""
    store.opening_periods.all().delete()
    OpeningPeriod.objects.bulk_create(
        OpeningPeriod(store=store, weekday=day, opens=opens, closes=closes) for day, opens, closes in periods
    )


@transaction.atomic
def save_escalation(levels: BaseInlineFormSet) -> None:
    """The store's default escalation levels; the policy row is made with its first level."""
    policy = levels.instance
    if policy.pk is None and not any(form.has_changed() for form in levels.forms):
        return
    policy.save()
    levels.save()


@transaction.atomic
def save_logo(store: Store, logo: Logo) -> None:
    """The logo is served by setup's own view; its address changes with its content (cached forever)."""
    version = hashlib.sha256(logo.content).hexdigest()[:16]
    StoreLogo.objects.update_or_create(
        store=store,
        defaults={
            "content": logo.content,
            "content_type": logo.content_type,
            "version": version,
            "uploaded_at": clock.now(),
        },
    )
    store.logo_url = reverse("setup_logo", args=[store.pk, version])
    store.save(update_fields=["logo_url"])


@transaction.atomic
def remove_logo(store: Store) -> None:
    StoreLogo.objects.filter(store=store).delete()
    store.logo_url = ""
    store.save(update_fields=["logo_url"])


@transaction.atomic
def add_drop_zones(zone: DropZone, slots: int) -> list[DropZone]:
    """`zone` as it is, or for several slots one zone per slot ("Lockers 1", "Lockers 2", …)."""
    if slots <= 1:
        zone.save()
        return [zone]
    fields = {"store": zone.store, "kind": zone.kind, "directions": zone.directions, "active": zone.active}
    return DropZone.objects.bulk_create(DropZone(name=f"{zone.name} {n}", **fields) for n in range(1, slots + 1))


@transaction.atomic
def set_showcase_products(showcase: Showcase, products: list[Product]) -> None:
    """The showcase lists `products`, in that order. A product taken off keeps its item (and its printed
    QR code) inactive, so putting it back brings the same code back."""
    items = {item.product_id: item for item in ShowcaseItem.objects.select_for_update().filter(showcase=showcase)}
    wanted = {product.pk: position for position, product in enumerate(products)}
    changed: list[ShowcaseItem] = []
    for product_id, item in items.items():
        position, active = wanted.get(product_id, item.position), product_id in wanted
        if (item.position, item.active) != (position, active):
            item.position, item.active = position, active
            changed.append(item)
    ShowcaseItem.objects.bulk_update(changed, ["position", "active"])
    ShowcaseItem.objects.bulk_create(
        ShowcaseItem(showcase=showcase, product=product, position=wanted[product.pk])
        for product in products
        if product.pk not in items
    )


@dataclass(frozen=True)
class NewStaff:
    user: User
    one_time_password: str  # empty when invited by email


@transaction.atomic
def add_staff(
    store: Store,
    *,
    username: str,
    first_name: str,
    email: str,
    role: Role,
    teams: Iterable[Team],
    invite: bool,
    make_secret: Callable[[], str] = lambda: secrets.token_urlsafe(9),
) -> NewStaff:
    """A new person in `store`: emailed an invitation to choose a password, or given a one-time password."""
    password = "" if invite else make_secret()
    user = get_user_model()(username=username, first_name=first_name, email=email)
    user.password = make_password(password or None)  # None: unusable until the invitation is accepted
    user.save()
    set_membership(
        Membership(user=user, organization_id=store.organization_id, store=store if role != Role.ORG_ADMIN else None),
        role=role,
        teams=teams,
    )
    if invite:
        transaction.on_commit(lambda: _send_invitation(user, store))
    else:
        first_password.give(user)
    return NewStaff(user, password)


def invitation_url(user: User) -> str:
    return absolute_url(
        reverse(
            "setup_welcome",
            args=[urlsafe_base64_encode(force_bytes(user.pk)), default_token_generator.make_token(user)],
        )
    )


def _send_invitation(user: User, store: Store) -> None:
    send_mail(
        _("You are invited to Shelfcall at %(store)s") % {"store": store.name},
        _("Choose your password here (the link works once): %(url)s") % {"url": invitation_url(user)},
        None,
        [user.email],
    )


@transaction.atomic
def set_membership(membership: Membership, *, role: Role, teams: Iterable[Team]) -> Membership:
    membership.role = role
    membership.full_clean(exclude=["user"])
    membership.save()
    membership.teams.set(list(teams))
    return membership


def set_pin(user: User, pin: str) -> None:
    StaffPin.objects.update_or_create(user=user, defaults={"pin_hash": make_password(pin)})


def remove_membership(membership: Membership) -> None:
    """The person no longer works in this store; their account and the orders they touched stay."""
    membership.delete()


@dataclass(frozen=True)
class Refusal:
    reason: str
    can_archive: bool


def _order_ids(protected: Iterable[Model]) -> set[int]:
    ids: set[int] = set()
    for row in protected:
        if isinstance(row, Order):
            ids.add(row.pk)
        elif hasattr(row, "order_id"):
            ids.add(row.order_id)
    return ids


def delete_unless_used(obj: Model) -> Refusal | None:
    """Delete `obj`, unless orders (or other rows that must outlive it) use it: then nothing is deleted and
    the refusal says why. Order history is never cascaded into (its foreign keys protect it)."""
    can_archive = any(field.name == "active" for field in obj._meta.fields)
    try:
        with transaction.atomic():
            obj.delete()
    except ProtectedError as refused:
        order_ids = _order_ids(refused.protected_objects)
        if order_ids:
            open_orders = Order.objects.filter(pk__in=order_ids, status__in=OPEN_STATUSES).count()
            reason = _(
                "%(count)s orders (%(open)s still open) use it, and their history keeps it: it cannot be deleted."
            ) % {"count": len(order_ids), "open": open_orders}
        else:
            names = sorted({str(row._meta.verbose_name_plural) for row in refused.protected_objects})
            reason = _("It is still in use (%(what)s): change those first.") % {"what": ", ".join(names)}
        if can_archive:
            reason += " " + _("Archive it instead: it leaves the shop and stays in the orders' history.")
        return Refusal(reason, can_archive)
    return None


def deleted_with(obj: Model) -> list[str]:
    """The names of what deleting `obj` deletes too, for the page to say and the person to confirm: a
    team's alert channels exist only for its orders, so they go with it (and its alerts stop)."""
    if isinstance(obj, Team):
        return list(obj.channels.order_by("name").values_list("name", flat=True))
    return []


def archive(obj: Model) -> None:
    """Take a showcase, drop zone or product out of use without touching anything that refers to it."""
    type(obj)._default_manager.filter(pk=obj.pk).update(active=False)

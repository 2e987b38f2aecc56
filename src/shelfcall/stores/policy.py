"""Who may do what, in one place. Views and API endpoints ask here; nothing checks roles ad hoc."""

from enum import StrEnum

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from shelfcall.stores import signin
from shelfcall.stores.models import Membership, Role, Store


class Perm(StrEnum):
    WORK_ORDERS = "work_orders"  # see the queue, claim, pick, stage, take payment, hand off, cancel
    SUPERVISE = "supervise"  # reassign, put someone else's order back, settle refunds
    ADMINISTER = "administer"  # store settings, staff, channels


_GRANTS: dict[str, frozenset[Perm]] = {
    Role.ASSOCIATE: frozenset({Perm.WORK_ORDERS}),
    Role.SUPERVISOR: frozenset({Perm.WORK_ORDERS, Perm.SUPERVISE}),
    Role.STORE_ADMIN: frozenset(Perm),
    Role.ORG_ADMIN: frozenset(Perm),
}
_RANK = [Role.ASSOCIATE, Role.SUPERVISOR, Role.STORE_ADMIN, Role.ORG_ADMIN]


def _memberships(user: AbstractBaseUser, store: Store) -> QuerySet[Membership]:
    """Memberships that reach `store`: for that store, or organization-wide ones."""
    return Membership.objects.filter(
        Q(store=store) | Q(store__isnull=True, organization_id=store.organization_id), user=user
    )


def role_in(user: AbstractBaseUser, store: Store) -> Role | None:
    """The highest role the user holds in the store, or None for strangers."""
    if not user.is_authenticated or not user.is_active:
        return None
    roles = set(_memberships(user, store).values_list("role", flat=True))
    return next((Role(role) for role in reversed(_RANK) if role in roles), None)


def can(user: AbstractBaseUser, perm: Perm, store: Store, *, role: Role | None = None) -> bool:
    """`role` may be passed when already known for this request, to save a query."""
    role = role if role is not None else role_in(user, store)
    return role is not None and perm in _GRANTS[role]


def require(user: AbstractBaseUser, perm: Perm, store: Store) -> Role:
    role = role_in(user, store)
    if role is None or perm not in _GRANTS[role]:
        raise PermissionDenied
    return role


def stores_for(user: AbstractBaseUser) -> QuerySet[Store]:
    """Every store the user works in, directly or through an organization-wide role."""
    if not user.is_authenticated or not user.is_active:
        return Store.objects.none()
    return (
        Store.objects.filter(
            Q(memberships__user=user)
            | Q(organization__memberships__user=user, organization__memberships__store__isnull=True)
        )
        .distinct()
        .order_by("name")
    )


def team_ids_for(user: AbstractBaseUser, store: Store) -> list[int]:
    """The teams whose orders the user's queue shows; empty means the whole store."""
    return list(Membership.objects.filter(user=user, store=store, teams__isnull=False).values_list("teams", flat=True))


def holds_full_sign_in(request: HttpRequest) -> bool:
    """A PIN opens the workspace on a shared device and no more: the admin, and changing a password or
    a PIN, need a session signed in with the password (a PIN is six digits; a colleague may have seen it)."""
    return request.user.is_authenticated and not signin.signed_in_with_pin(request)

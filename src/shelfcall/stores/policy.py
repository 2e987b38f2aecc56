"""Who may do what, in one place. Views and API endpoints ask here; nothing checks roles ad hoc."""

from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar, cast

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, Permission, User
from django.core.exceptions import PermissionDenied
from django.db.models import CharField, F, Model, OuterRef, Q, QuerySet, Subquery, TextField, Value
from django.db.models.functions import Cast, Coalesce, Concat
from django.http import HttpRequest

from shelfcall.core.db import JoinedText
from shelfcall.stores import signin
from shelfcall.stores.models import Membership, Organization, Role, Store

if TYPE_CHECKING:
    from shelfcall.api.models import ApiKey

M = TypeVar("M", bound=Model)
# Whoever made a request: policy answers "no" for someone not signed in (or deactivated).
AnyUser = User | AnonymousUser


class Perm(StrEnum):
    WORK_ORDERS = "work_orders"  # see the queue, claim, pick, stage, take payment, hand off, cancel
    SUPERVISE = "supervise"  # reassign, put someone else's order back, settle refunds
    ADMINISTER = "administer"  # store settings, staff, channels
    PRINT_SIGNS = "print_signs"  # the store's QR signs as PDFs (the HTML preview is public, as the code is)
    SEE_ALL_ORDERS = "see_all_orders"  # head office (/hq/): every order, the journal, the inventory
    SERVE_CUSTOMERS = "serve_customers"  # resend messages, cancel with a reason, move untouched orders


_GRANTS: dict[str, frozenset[Perm]] = {
    Role.ASSOCIATE: frozenset({Perm.WORK_ORDERS, Perm.PRINT_SIGNS}),
    Role.SUPERVISOR: frozenset({Perm.WORK_ORDERS, Perm.SUPERVISE, Perm.PRINT_SIGNS}),
    Role.CUSTOMER_SERVICE: frozenset({Perm.SEE_ALL_ORDERS, Perm.SERVE_CUSTOMERS}),
    Role.STORE_ADMIN: frozenset(Perm),
    Role.ORG_ADMIN: frozenset(Perm),
}
# Customer service ranks below store admins: they cannot grant it (it is organization-wide, see Membership).
_RANK = [Role.ASSOCIATE, Role.SUPERVISOR, Role.CUSTOMER_SERVICE, Role.STORE_ADMIN, Role.ORG_ADMIN]


def _memberships(user: User, store: Store) -> QuerySet[Membership]:
    """Memberships that reach `store`: for that store, or organization-wide ones."""
    return Membership.objects.filter(
        Q(store=store) | Q(store__isnull=True, organization_id=store.organization_id), user=user
    )


# A membership as `with_held_roles` reads it: "store id (empty: organization-wide):organization id:role".
_HELD_ROLE = Concat(
    Coalesce(Cast("store_id", CharField()), Value("")),
    Value(":"),
    Cast("organization_id", CharField()),
    Value(":"),
    F("role"),
    output_field=CharField(),
)


_NOT_READ: Any = object()


def with_held_roles(users: QuerySet[User]) -> QuerySet[User]:
    """The users with all their memberships read in the same statement (`held_roles`), for `role_in`
    to answer from. The sign-in backends load a request's user this way: its roles are read once per
    request, with the user, and never kept beyond it (a role changed or taken away counts from the
    next request on, in every process)."""
    held = (
        Membership.objects.filter(user=OuterRef("pk"))
        .values("user")
        .annotate(held=JoinedText(_HELD_ROLE, ","))
        .values("held")
    )
    return users.annotate(held_roles=Subquery(held, output_field=TextField()))


def _roles_reaching(user: User, store: Store) -> set[str]:
    """The roles of the memberships that reach `store`, from `held_roles` when the user was loaded with it."""
    held_roles: str | None = getattr(user, "held_roles", _NOT_READ)
    if held_roles is _NOT_READ:
        return set(_memberships(user, store).values_list("role", flat=True))
    roles = set()
    for held in filter(None, (held_roles or "").split(",")):  # NULL: no membership at all
        store_id, organization_id, role = held.split(":")
        if store_id == str(store.pk) or (not store_id and organization_id == str(store.organization_id)):
            roles.add(role)
    return roles


def role_in(user: AnyUser, store: Store) -> Role | None:
    """The highest role the user holds in the store, or None for strangers."""
    if not user.is_authenticated or not user.is_active:
        return None
    roles = _roles_reaching(user, store)
    return next((Role(role) for role in reversed(_RANK) if role in roles), None)


def role_grants() -> dict[Role, frozenset[Perm]]:
    """What each role may do, lowest role first: the table the setup pages show to admins."""
    return {Role(role): _GRANTS[role] for role in sorted(_GRANTS, key=_rank_of)}


def _rank_of(role: str) -> int:
    return _RANK.index(Role(role)) if role in _RANK else len(_RANK)


def grants(role: Role | None, perm: Perm) -> bool:
    """Whether the role (None: no role at all) holds the permission."""
    return role is not None and perm in _GRANTS[role]


def can(user: AnyUser, perm: Perm, store: Store, *, role: Role | None = None) -> bool:
    """`role` may be passed when already known for this request, to save a query."""
    return grants(role if role is not None else role_in(user, store), perm)


def require(user: AnyUser, perm: Perm, store: Store) -> Role:
    role = role_in(user, store)
    if role is None or perm not in _GRANTS[role]:
        raise PermissionDenied
    return role


def stores_for(user: AnyUser) -> QuerySet[Store]:
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


def stores_granting(user: AnyUser, perm: Perm) -> QuerySet[Store]:
    """The stores where the user holds `perm`: a store membership's own store, an organization-wide
    one's every store. Answered in the database, for /hq/'s lists to filter by.

    For a permission that every role above the lowest one holding it holds too (SEE_ALL_ORDERS,
    SERVE_CUSTOMERS), as `role_in`'s "the highest role decides" then always agrees."""
    if not user.is_authenticated or not user.is_active:
        return Store.objects.none()
    granting = Membership.objects.filter(user=user, role__in=[role for role, held in _GRANTS.items() if perm in held])
    return Store.objects.filter(
        Q(pk__in=granting.filter(store__isnull=False).values("store"))
        | Q(organization__in=granting.filter(store__isnull=True).values("organization"))
    ).order_by("name")


def holds_full_sign_in(request: HttpRequest) -> bool:
    """A PIN opens the workspace on a shared device and no more: the admin, and changing a password or
    a PIN, need a session signed in with the password (a PIN is six digits; a colleague may have seen it)."""
    return request.user.is_authenticated and not signin.signed_in_with_pin(request)


# --- The admin: which stores and organizations a user administers, and what they may grant ---------

_ADMIN_ROLES = [Role.STORE_ADMIN, Role.ORG_ADMIN]

# How each model shown in the admin reaches its store: a lookup path, or several for a row that hangs
# on whichever of them is set. A model missing here shows nothing to anyone but superusers.
_STORE_PATHS: dict[str, tuple[str, ...]] = {
    "stores.Store": ("pk",),
    "stores.Team": ("store",),
    "stores.DropZone": ("store",),
    "stores.OpeningPeriod": ("store",),
    "catalog.StockLevel": ("store",),
    "catalog.Showcase": ("store",),
    "catalog.ShowcaseItem": ("showcase__store",),
    "notify.Channel": ("store",),
    "notify.EscalationPolicy": ("store",),
    "notify.EscalationLevel": ("policy__store",),
    "notify.CollectionPolicy": ("store",),
    "notify.OutboxMessage": ("channel__store", "order__store"),
    "notify.DeliveryAttempt": ("message__channel__store", "message__order__store"),
    "notify.QuarantinedTimer": ("order__store",),
    "orders.Order": ("store",),
    "orders.OrderLine": ("order__store",),
    "orders.OrderEvent": ("order__store",),
}
# Organization-wide rows: seen by whoever administers one of the organization's stores, changed
# (and added) only by its organization admins.
_ORGANIZATION_PATHS: dict[str, str] = {
    "stores.Organization": "pk",
    "catalog.Product": "organization",
    "orders.SubStatus": "organization",
}


def _is_superuser(user: AnyUser) -> bool:
    return user.is_active and user.is_superuser


def administered_organizations(user: AnyUser) -> QuerySet[Organization]:
    """Organizations the user is an organization admin of (superusers: all)."""
    if _is_superuser(user):
        return Organization.objects.all()
    if not user.is_authenticated or not user.is_active:
        return Organization.objects.none()
    return Organization.objects.filter(
        pk__in=Membership.objects.filter(user=user, role=Role.ORG_ADMIN).values("organization")
    )


def administered_stores(user: AnyUser) -> QuerySet[Store]:
    """Stores the user administers: every store of their organizations as an organization admin, and
    the stores they are store admin of (a store admin role without a store reaches the whole organization,
    as it does in `role_in`)."""
    if _is_superuser(user):
        return Store.objects.all()
    if not user.is_authenticated or not user.is_active:
        return Store.objects.none()
    admin_of = Membership.objects.filter(user=user, role__in=_ADMIN_ROLES)
    return Store.objects.filter(
        Q(pk__in=admin_of.filter(store__isnull=False).values("store"))
        | Q(organization__in=administered_organizations(user))
        | Q(organization__in=admin_of.filter(store__isnull=True).values("organization"))
    )


def administers_organization(user: AnyUser, organization_id: int | None) -> bool:
    return organization_id is not None and administered_organizations(user).filter(pk=organization_id).exists()


def administers_store(user: AnyUser, store_id: int | None) -> bool:
    return store_id is not None and administered_stores(user).filter(pk=store_id).exists()


def administers_anything(user: AnyUser) -> bool:
    return administered_stores(user).exists()


def _store_lookup(paths: tuple[str, ...], stores: QuerySet[Store]) -> Q:
    """The first path that is set must lead to one of `stores`."""
    lookup, earlier_unset = Q(pk__in=[]), Q()
    for path in paths:
        lookup |= earlier_unset & Q(**{f"{path}__in": stores})
        earlier_unset &= Q(**{f"{path}__isnull": True})
    return lookup


def admin_scope(user: AnyUser, queryset: QuerySet[M]) -> QuerySet[M]:
    """The part of `queryset` the admin shows the user, and offers them to choose from."""
    if _is_superuser(user):
        return queryset
    label = queryset.model._meta.label
    stores = administered_stores(user)
    if label in _STORE_PATHS:
        return queryset.filter(_store_lookup(_STORE_PATHS[label], stores))
    if label in _ORGANIZATION_PATHS:
        return queryset.filter(**{f"{_ORGANIZATION_PATHS[label]}__in": stores.values("organization")})
    if label in _ORGANIZATION_OR_STORE:
        return queryset.filter(_grantable_memberships(user))
    if label == get_user_model()._meta.label:
        return queryset.filter(pk__in=_memberships_reaching(stores).values("user"))
    return queryset.none()


def _memberships_reaching(stores: QuerySet[Store]) -> QuerySet[Membership]:
    return Membership.objects.filter(
        Q(store__in=stores) | Q(store__isnull=True, organization__in=stores.values("organization"))
    )


# Rows that hang on a store, or on the whole organization when their store is empty.
_ORGANIZATION_OR_STORE = {"stores.Membership", "api.ApiKey"}


def _grantable_memberships(user: AnyUser) -> Q:
    """Memberships (and API keys) of the user's stores, and organization-wide ones of their organizations."""
    return Q(store__in=administered_stores(user)) | Q(
        store__isnull=True, organization__in=administered_organizations(user)
    )


def _admin_role(user: AnyUser, store: Store) -> Role | None:
    if administers_organization(user, store.organization_id):
        return Role.ORG_ADMIN
    return Role.STORE_ADMIN if administers_store(user, store.pk) else None


def grantable_roles(user: AnyUser) -> list[Role]:
    """Roles the user may grant somewhere: none above their own highest administering role."""
    if _is_superuser(user) or administered_organizations(user).exists():
        return list(_RANK)
    return _RANK[: _RANK.index(Role.STORE_ADMIN) + 1] if administers_anything(user) else []


def may_grant(user: AnyUser, membership: Membership) -> bool:
    """Whether the user may give (or change, or take away) this membership: only in what they
    administer, never above their own role there; organization-wide ones need the organization admin."""
    if _is_superuser(user):
        return True
    store = membership.store
    if store is None:
        return administers_organization(user, membership.organization_id)
    own = _admin_role(user, store)
    return (
        own is not None
        and store.organization_id == membership.organization_id
        and _RANK.index(Role(membership.role)) <= _RANK.index(own)
    )


def _permissions_of(user: User) -> set[str]:
    """Django permissions held directly or through groups, active or not (a deactivated account
    could be switched back on)."""
    held = Permission.objects.filter(Q(user=user) | Q(group__user=user)).values_list(
        "content_type__app_label", "codename"
    )
    return {f"{app_label}.{codename}" for app_label, codename in held}


def may_edit_user(user: AnyUser, target: User) -> bool:
    """Nobody edits an account with more rights than theirs: a superuser, one with Django permissions
    they lack, or one with a membership they could not grant themselves."""
    if _is_superuser(user):
        return True
    if target.is_superuser:
        return False
    if target.pk is None:  # a new account: its memberships are checked one by one as they are granted
        return administers_anything(user)
    memberships = list(Membership.objects.filter(user=target).select_related("store"))
    return (
        bool(memberships)
        and _permissions_of(target) <= user.get_all_permissions()
        and all(may_grant(user, membership) for membership in memberships)
    )


def may_set_django_rights(user: AnyUser) -> bool:
    """`is_staff`, `is_superuser`, groups and Django permissions reach past every membership: superusers'."""
    return _is_superuser(user)


def may_move_stores(user: AnyUser) -> bool:
    """Moving a store to another organization takes its staff and orders along: superusers only."""
    return _is_superuser(user)


def may_add_in_admin(user: AnyUser, model: type[Model]) -> bool:
    """New organizations come from superusers; stores and products from organization admins."""
    if _is_superuser(user):
        return True
    label = model._meta.label
    if label == Organization._meta.label:
        return False
    if label in _ORGANIZATION_PATHS or label == Store._meta.label:
        return administered_organizations(user).exists()
    return may_view_in_admin(user, model)


def may_view_in_admin(user: AnyUser, model: type[Model]) -> bool:
    """Whether the admin lists `model` for the user at all; what it then shows is `admin_scope`."""
    if _is_superuser(user):
        return True
    label = model._meta.label
    known = {*_STORE_PATHS, *_ORGANIZATION_PATHS, *_ORGANIZATION_OR_STORE, get_user_model()._meta.label}
    return label in known and administers_anything(user)


def may_administer(user: AnyUser, obj: Model) -> bool:
    """Whether the user may save or delete `obj` as it stands (saved, or as a form would save it)."""
    if _is_superuser(user):
        return True
    label = obj._meta.label
    if isinstance(obj, Membership):
        return may_grant(user, obj) and not get_user_model().objects.filter(pk=obj.user_id, is_superuser=True).exists()
    if isinstance(obj, get_user_model()):
        return may_edit_user(user, obj)
    if label == "api.ApiKey":  # by label: the api app builds on this one
        key = cast("ApiKey", obj)
        return may_issue_key(user, key.organization_id, key.store)
    if isinstance(obj, Store) and obj.pk is None:
        return administers_organization(user, obj.organization_id)
    if label in _ORGANIZATION_PATHS:
        return administers_organization(user, _follow(obj, _ORGANIZATION_PATHS[label]))
    if label in _STORE_PATHS:
        return administers_store(user, next(filter(None, (_follow(obj, p) for p in _STORE_PATHS[label])), None))
    return False


def _follow(obj: Model, path: str) -> int | None:
    """The id at the end of a lookup path, read from the (possibly unsaved) object itself."""
    *relations, last = path.split("__")
    for name in relations:
        related = getattr(obj, name, None)
        if related is None:
            return None
        obj = related
    return obj.pk if last == "pk" else getattr(obj, f"{last}_id")


def may_issue_key(user: AnyUser, organization_id: int | None, store: Store | None) -> bool:
    """An organization-wide API key is as powerful as an organization admin, so only they make one; a
    store key is also for that store's admins."""
    if store is None:
        return administers_organization(user, organization_id)
    return store.organization_id == organization_id and administers_store(user, store.pk)

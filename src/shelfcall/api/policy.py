"""Who may manage which API keys: the one rule the admin (and, later, its store-scoped mixin) asks.

An organization-wide key is as powerful as an organization admin, so only they (and superusers) make
or see one; a store key is for that store's admins too."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet

from shelfcall.api.models import ApiKey
from shelfcall.stores.models import Membership, Organization, Role, Store


def _admin_memberships(user: AbstractBaseUser) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user, role__in=[Role.ORG_ADMIN, Role.STORE_ADMIN])


def _org_admin_of(user: AbstractBaseUser) -> QuerySet[Membership]:
    return _admin_memberships(user).filter(role=Role.ORG_ADMIN, store__isnull=True)


def key_managers_filter(user: AbstractBaseUser) -> Q:
    """Keys `user` may see, create and revoke, as a filter on ApiKey."""
    if not user.is_active:
        return Q(pk__in=[])
    if user.is_superuser:
        return Q()
    org_ids = _org_admin_of(user).values("organization_id")
    store_ids = _admin_memberships(user).filter(store__isnull=False).values("store_id")
    return Q(organization_id__in=org_ids) | Q(store_id__in=store_ids)


def manages_any_keys(user: AbstractBaseUser) -> bool:
    """Whether the admin shows API keys at all to `user` (an admin of some store or organization)."""
    return user.is_active and (user.is_superuser or _admin_memberships(user).exists())


def manageable_keys(user: AbstractBaseUser) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(key_managers_filter(user))


def may_issue_key(user: AbstractBaseUser, organization: Organization, store: Store | None) -> bool:
    if not user.is_active:
        return False
    if user.is_superuser or _org_admin_of(user).filter(organization=organization).exists():
        return store is None or store.organization_id == organization.pk
    return store is not None and _admin_memberships(user).filter(store=store).exists()


def organizations_for_key_managers(user: AbstractBaseUser) -> QuerySet[Organization]:
    if user.is_superuser:
        return Organization.objects.all()
    return Organization.objects.filter(
        Q(pk__in=_org_admin_of(user).values("organization_id"))
        | Q(stores__in=_admin_memberships(user).values("store_id"))
    ).distinct()


def stores_for_key_managers(user: AbstractBaseUser) -> QuerySet[Store]:
    if user.is_superuser:
        return Store.objects.all()
    return Store.objects.filter(
        Q(organization_id__in=_org_admin_of(user).values("organization_id"))
        | Q(pk__in=_admin_memberships(user).filter(store__isnull=False).values("store_id"))
    )

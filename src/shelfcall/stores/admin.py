from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.options import BaseModelAdmin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.db.models import Field, Model
from django.forms import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from shelfcall.stores import policy
from shelfcall.stores.models import DropZone, Membership, OpeningPeriod, Organization, Store, Team
from shelfcall.stores.scoped_admin import ScopedModelAdmin, ScopedTabularInline


class TeamInline(ScopedTabularInline):
    model = Team
    extra = 0


class OpeningPeriodInline(ScopedTabularInline):
    model = OpeningPeriod
    extra = 0


class DropZoneInline(ScopedTabularInline):
    model = DropZone
    extra = 0


@admin.register(Organization)
class OrganizationAdmin(ScopedModelAdmin[Organization]):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Store)
class StoreAdmin(ScopedModelAdmin[Store]):
    list_display = ["name", "organization", "timezone", "currency"]
    list_filter = ["organization"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [OpeningPeriodInline, TeamInline, DropZoneInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "organization",
                    "name",
                    "slug",
                    "timezone",
                    "currency",
                    "address",
                    ("latitude", "longitude"),
                    "opening_hours",
                ]
            },
        ),
        (
            "Branding and shopper texts",
            {"fields": ["brand_colour", "logo_url", "help_text", "pickup_instructions"]},
        ),
        (
            "Rules",
            {
                "fields": [
                    "require_shopper_name",
                    "require_shopper_contact",
                    "max_line_qty",
                    "max_order_qty",
                    "low_stock_threshold",
                    "max_open_orders_per_device",
                    "max_units_per_device",
                    "max_units_per_address",
                    "unclaimed_expiry_minutes",
                    "pick_target_minutes",
                    "allow_pay_at_pickup",
                    "substitute_wait_minutes",
                    "substitute_default",
                ]
            },
        ),
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Store | None = None) -> list[str]:
        readonly = list(super().get_readonly_fields(request, obj))
        return readonly if obj is None or policy.may_move_stores(request.user) else [*readonly, "organization"]


class MembershipForm(forms.ModelForm):
    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        store, organization = data.get("store"), data.get("organization")
        if organization and any(not _team_fits(team, organization, store) for team in data.get("teams") or []):
            self.add_error("teams", _("Choose teams of this membership's store."))
        return data


def _team_fits(team: Team, organization: Organization, store: Store | None) -> bool:
    return team.store_id == store.pk if store else team.store.organization_id == organization.pk


class GrantableRoles(BaseModelAdmin):
    """The role list offers no role above the admin's own; `policy.may_grant` checks the store too."""

    def formfield_for_choice_field(
        self, db_field: Field, request: HttpRequest, **kwargs: Any
    ) -> forms.TypedChoiceField | None:
        if db_field.name == "role":
            kwargs["choices"] = [(role.value, role.label) for role in policy.grantable_roles(request.user)]
        return super().formfield_for_choice_field(db_field, request, **kwargs)


@admin.register(Membership)
class MembershipAdmin(GrantableRoles, ScopedModelAdmin[Membership]):
    form = MembershipForm
    list_display = ["user", "role", "organization", "store"]
    list_filter = ["role", "organization", "store"]
    search_fields = ["user__username", "user__first_name"]
    filter_horizontal = ["teams"]


class MembershipInline(GrantableRoles, ScopedTabularInline):
    model = Membership
    form = MembershipForm
    extra = 0

    def get_formset(self, request: HttpRequest, obj: Model | None = None, **kwargs: Any) -> type[BaseInlineFormSet]:
        """A staff member's new account starts with a membership of theirs: otherwise it would be out
        of their sight (and everyone's but superusers') the moment it is saved."""
        if obj is None and not request.user.is_superuser:
            kwargs |= {"min_num": 1, "validate_min": True}
        return super().get_formset(request, obj, **kwargs)


admin.site.unregister(get_user_model())
admin.site.unregister(Group)


@admin.register(get_user_model())
class StaffUserAdmin(ScopedModelAdmin, UserAdmin):
    """Staff members see the accounts of their stores; only superusers hand out Django's own rights."""

    inlines = [MembershipInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> list[str]:
        readonly = list(super().get_readonly_fields(request, obj))
        if policy.may_set_django_rights(request.user):
            return readonly
        return [*readonly, "is_staff", "is_superuser", "groups", "user_permissions"]


@admin.register(Group)
class StaffGroupAdmin(ScopedModelAdmin, GroupAdmin):
    """A group's permissions are Django's own rights: `policy.admin_scope` leaves groups to superusers."""

from django.contrib import admin

from shelfcall.stores.models import DropZone, Membership, Organization, Store, Team


class TeamInline(admin.TabularInline):
    model = Team
    extra = 0


class DropZoneInline(admin.TabularInline):
    model = DropZone
    extra = 0


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "timezone", "currency"]
    list_filter = ["organization"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [TeamInline, DropZoneInline]
    fieldsets = [
        (
            None,
            {"fields": ["organization", "name", "slug", "timezone", "currency", "address", "opening_hours"]},
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
                ]
            },
        ),
    ]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "organization", "store"]
    list_filter = ["role", "organization", "store"]
    search_fields = ["user__username", "user__first_name"]
    filter_horizontal = ["teams"]

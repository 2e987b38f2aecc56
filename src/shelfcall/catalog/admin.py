from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from shelfcall.catalog.models import Product, Showcase, ShowcaseItem, StockLevel
from shelfcall.stores import policy
from shelfcall.stores.scoped_admin import ScopedModelAdmin, ScopedTabularInline


class StockLevelInline(ScopedTabularInline):
    model = StockLevel
    extra = 0
    readonly_fields = ["reserved"]


@admin.register(Product)
class ProductAdmin(ScopedModelAdmin[Product]):
    """Products belong to the organization, stock to each store: a store admin opens a product to set
    their stores' stock, and its own fields are read-only to them."""

    list_display = ["name", "sku", "upc", "size", "colour", "price", "active"]
    list_filter = ["organization", "active"]
    search_fields = ["name", "sku", "upc"]
    ordering = ["name", "pk"]
    inlines = [StockLevelInline]

    def has_change_permission(self, request: HttpRequest, obj: Product | None = None) -> bool:
        return super().has_change_permission(request) and (obj is None or self.has_view_permission(request, obj))

    def get_readonly_fields(self, request: HttpRequest, obj: Product | None = None) -> list[str]:
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is None or policy.may_administer(request.user, obj):
            return readonly
        return [*readonly, *(field.name for field in self.opts.fields if field.editable and not field.primary_key)]


class ShowcaseItemInline(ScopedTabularInline):
    model = ShowcaseItem
    extra = 0
    autocomplete_fields = ["product"]
    readonly_fields = ["product_link"]

    @admin.display(description=_("product QR link"))
    def product_link(self, item: ShowcaseItem) -> str:
        return reverse("shopper:product", args=[item.code]) if item.pk else "—"


@admin.register(Showcase)
class ShowcaseAdmin(ScopedModelAdmin[Showcase]):
    list_display = ["name", "store", "team", "code", "active", "sign"]
    list_filter = ["store", "active"]
    search_fields = ["name", "code"]
    inlines = [ShowcaseItemInline]

    @admin.display(description=_("QR sign"))
    def sign(self, showcase: Showcase) -> str:
        return format_html('<a href="{}">{}</a>', reverse("shopper:sign", args=[showcase.code]), _("Print"))

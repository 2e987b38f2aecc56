from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from shelfcall.catalog.models import Product, Showcase, ShowcaseItem, StockLevel


class StockLevelInline(admin.TabularInline):
    model = StockLevel
    extra = 0
    readonly_fields = ["reserved"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "sku", "upc", "size", "colour", "price", "active"]
    list_filter = ["organization", "active"]
    search_fields = ["name", "sku", "upc"]
    inlines = [StockLevelInline]


class ShowcaseItemInline(admin.TabularInline):
    model = ShowcaseItem
    extra = 0
    autocomplete_fields = ["product"]
    readonly_fields = ["product_link"]

    @admin.display(description=_("product QR link"))
    def product_link(self, item: ShowcaseItem) -> str:
        return reverse("shopper:product", args=[item.code]) if item.pk else "—"


@admin.register(Showcase)
class ShowcaseAdmin(admin.ModelAdmin):
    list_display = ["name", "store", "team", "code", "active", "sign"]
    list_filter = ["store", "active"]
    search_fields = ["name", "code"]
    inlines = [ShowcaseItemInline]

    @admin.display(description=_("QR sign"))
    def sign(self, showcase: Showcase) -> str:
        return format_html('<a href="{}">{}</a>', reverse("shopper:sign", args=[showcase.code]), _("Print"))

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from shelfcall.catalog import stock
from shelfcall.catalog.models import Product, Showcase, ShowcaseItem, StockLevel
from shelfcall.core.numbers import WholeNumberField
from shelfcall.stores import policy
from shelfcall.stores.scoped_admin import ScopedModelAdmin, ScopedTabularInline


class StockLevelForm(forms.ModelForm):
    on_hand = WholeNumberField(label=_("on hand"), max_value=stock.MAX_ON_HAND)

    class Meta:
        model = StockLevel
        fields = ["store", "on_hand"]

    def clean_store(self) -> Any:
        store = self.cleaned_data["store"]
        if self.instance.pk is not None and store != self.instance.store:
            # Its reservations would follow it into a store that does not hold their units.
            raise forms.ValidationError(_("A stock level stays in its store: add a row for the other store."))
        return store


class StockLevelInline(ScopedTabularInline):
    """Counts only: `reserved` moves with orders (orders/reservations.py) and is shown, never saved here;
    ProductAdmin.save_formset writes the counts through catalog/stock.py."""

    model = StockLevel
    form = StockLevelForm
    extra = 0
    readonly_fields = ["reserved", "available"]

    @admin.display(description=_("available"))
    def available(self, level: StockLevel) -> int | str:
        return level.available if level.pk else "—"


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

    def save_formset(self, request: HttpRequest, form: ModelForm, formset: BaseInlineFormSet, change: bool) -> None:
        if formset.model is not StockLevel:
            super().save_formset(request, form, formset, change)
            return
        # Not the rows as loaded (whose `reserved` may be stale by now): their counts only, as typed.
        levels = formset.save(commit=False)
        for level in formset.deleted_objects:
            level.delete()
        counts = stock.set_on_hand_of_levels(levels)
        for level in levels:
            count = counts[level.store_id, level.product_id]
            level.pk, level.reserved = count.level_id, count.reserved
            if count.oversold:
                messages.warning(request, _oversold_message(level))


def _oversold_message(level: StockLevel) -> str:
    return _(
        "%(product)s in %(store)s: %(on_hand)s on hand is fewer than the %(reserved)s units open orders hold. "
        "It shows as out of stock until the count is corrected or those orders are handled."
    ) % {"product": level.product, "store": level.store, "on_hand": level.on_hand, "reserved": level.reserved}


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

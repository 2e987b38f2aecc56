"""Orders are read-only here: only the actions change them, so that every change has its event.
Sub-statuses, the organization's own steps inside the lifecycle, are defined here."""

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from shelfcall.orders.models import SHOPPER_TEXT_MAX, Order, OrderEvent, OrderLine, Payment, SubStatus
from shelfcall.stores.scoped_admin import ScopedModelAdmin, ScopedTabularInline


class ReadOnlyInline(ScopedTabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = [
        "sku",
        "name",
        "variant",
        "unit_price",
        "requested_qty",
        "picked_qty",
        "short_qty",
        "rejected_qty",
        "reject_reason",
    ]


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = ["created_at", "kind", "amount", "method", "reference", "actor_label"]


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    fields = ["created_at", "type", "actor_label", "actor_kind", "payload"]


@admin.register(Order)
class OrderAdmin(ScopedModelAdmin[Order]):
    list_display = [
        "number",
        "store",
        "source",
        "status",
        "payment_status",
        "shopper_name",
        "assignee",
        "created_at",
    ]
    list_filter = ["store", "status", "payment_status", "source"]
    search_fields = ["=number", "shopper_name", "shopper_phone", "shopper_email", "external_id"]
    list_select_related = ["store", "assignee"]
    inlines = [OrderLineInline, PaymentInline, OrderEventInline]
    exclude = ["signature_svg"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False


class SubStatusForm(forms.ModelForm):
    """One text box per language for the shopper's text, rather than a JSON field to type."""

    class Meta:
        model = SubStatus
        fields = [
            "organization",
            "status",
            "name",
            "code",
            "notify_shopper",
            "entry",
            "next_sub_statuses",
            "position",
            "active",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for code, language in settings.LANGUAGES:
            self.fields[f"shopper_text_{code}"] = forms.CharField(
                label=_("Text for the shopper (%(language)s)") % {"language": language},
                max_length=SHOPPER_TEXT_MAX,
                required=False,
                initial=(self.instance.shopper_texts or {}).get(code, ""),
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self.instance.shopper_texts = {
            code: text for code, _name in settings.LANGUAGES if (text := data.get(f"shopper_text_{code}", "").strip())
        }
        wrong = [
            str(sub)
            for sub in data.get("next_sub_statuses") or []
            if sub.status != data.get("status") or sub.organization_id != getattr(data.get("organization"), "pk", None)
        ]
        if wrong:
            self.add_error(
                "next_sub_statuses",
                _("Choose next sub-statuses of the same organization and status: %(wrong)s can't follow it.")
                % {"wrong": ", ".join(wrong)},
            )
        return data


@admin.register(SubStatus)
class SubStatusAdmin(ScopedModelAdmin[SubStatus]):
    form = SubStatusForm
    list_display = ["name", "status", "code", "organization", "notify_shopper", "entry", "active"]
    list_filter = ["organization", "status", "active"]
    search_fields = ["name", "code"]
    filter_horizontal = ["next_sub_statuses"]
    prepopulated_fields = {"code": ["name"]}

    def has_delete_permission(self, request: HttpRequest, obj: SubStatus | None = None) -> bool:
        return False  # orders' history names it: archive it (active off) instead

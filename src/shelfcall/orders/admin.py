"""Orders are read-only here: only the actions change them, so that every change has its event."""

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from shelfcall.orders.models import Order, OrderEvent, OrderLine, Payment
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

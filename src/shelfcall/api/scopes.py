"""What an API key may do. The values are what clients see in docs and in 403 errors."""

from enum import StrEnum

from django.utils.translation import gettext_lazy as _


class Scope(StrEnum):
    ORDERS_READ = "orders:read"
    ORDERS_WRITE = "orders:write"
    PAYMENTS_WRITE = "payments:write"
    CATALOG_WRITE = "catalog:write"
    WEBHOOKS_WRITE = "webhooks:write"


SCOPE_LABELS = {
    Scope.ORDERS_READ: _("Read orders and events"),
    Scope.ORDERS_WRITE: _("Create, change and act on orders"),
    Scope.PAYMENTS_WRITE: _("Record payments and refunds"),
    Scope.CATALOG_WRITE: _("Upsert products and stock"),
    Scope.WEBHOOKS_WRITE: _("Manage webhook subscriptions"),
}

"""What insights keep beside the event log: one row of facts per order, derived from its events.

OrderFact rows are a cache, rebuilt from OrderEvent by the refresh job (insights.facts): any row can be
recomputed at any time, and a late event recomputes its order's row. StoreTimezone remembers each
store's past time zones, so that an order keeps the local day and hour it had when it was placed."""

from django.db import models

from shelfcall.orders.models import Order
from shelfcall.stores.models import Store


class OrderFact(models.Model):
    """One order as insights count it. Times are seconds between two of its events; null when either
    did not happen. The local day and hour are those of the store's time zone when it was placed."""

    order = models.OneToOneField(Order, on_delete=models.CASCADE, primary_key=True, related_name="fact")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+", db_index=False)
    team_id = models.IntegerField(null=True)
    showcase_id = models.IntegerField(null=True)
    associate_id = models.IntegerField(null=True)  # who made it ready, else who last held it
    created_at = models.DateTimeField()
    local_date = models.DateField()
    local_hour = models.PositiveSmallIntegerField()

    claimed = models.BooleanField(default=False)
    picked = models.BooleanField(default=False)  # at least one unit picked
    ready = models.BooleanField(default=False)
    paid = models.BooleanField(default=False)  # fully paid at some point
    collected = models.BooleanField(default=False)
    not_found = models.BooleanField(default=False)  # some unit was not on the shelf
    rejected = models.BooleanField(default=False)  # some unit was turned down at hand-off
    expired = models.BooleanField(default=False)
    escalated = models.BooleanField(default=False)

    claim_seconds = models.IntegerField(null=True)  # sent → first claimed
    claim_ready_seconds = models.IntegerField(null=True)  # first claimed → ready
    ready_paid_seconds = models.IntegerField(null=True)  # ready → paid (0 when paid before it was ready)
    ready_collected_seconds = models.IntegerField(null=True)  # ready → collected
    ready_seconds = models.IntegerField(null=True)  # sent → ready: what the store's target measures

    class Meta:
        # Covering: the page's figures read a period's facts from the index alone (PostgreSQL), not from
        # table pages scattered over the year when the facts were filled out of date order.
        indexes = [
            models.Index(
                fields=["store", "local_date"],
                include=[
                    "team_id",
                    "showcase_id",
                    "associate_id",
                    "local_hour",
                    "claimed",
                    "picked",
                    "ready",
                    "paid",
                    "collected",
                    "not_found",
                    "rejected",
                    "expired",
                    "escalated",
                    "claim_seconds",
                    "claim_ready_seconds",
                    "ready_paid_seconds",
                    "ready_collected_seconds",
                    "ready_seconds",
                ],
                name="insights_fact_covering_idx",
            )
        ]

    def __str__(self) -> str:
        return f"facts of order {self.order_id}"


class LineFact(models.Model):
    """What one order asked of one product, filed under the order's store and local day (OrderFact's):
    the product breakdown reads these alone, never the order lines."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="+")
    store_id = models.IntegerField()
    local_date = models.DateField()
    product_id = models.IntegerField()
    requested_qty = models.PositiveIntegerField()
    short_qty = models.PositiveIntegerField()
    rejected_qty = models.PositiveIntegerField()

    class Meta:
        indexes = [
            models.Index(
                fields=["store_id", "local_date"],
                include=["product_id", "requested_qty", "short_qty", "rejected_qty"],
                name="insights_line_covering_idx",
            )
        ]

    def __str__(self) -> str:
        return f"product {self.product_id} of order {self.order_id}"


class StoreTimezone(models.Model):
    """The store's time zone from `since` on (kept when the store's time zone changes)."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    timezone = models.CharField(max_length=64)
    since = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["store", "since"], name="insights_tz_store_since_idx")]

    def __str__(self) -> str:
        return f"{self.timezone} since {self.since}"


class RefreshCursor(models.Model):
    """Where the refresh job is in the event log, in commit order (as the API's events feed reads it)."""

    xact_id = models.BigIntegerField(default=0)
    event_id = models.BigIntegerField(default=0)
    refreshed_at = models.DateTimeField(null=True)
    next_at = models.DateTimeField(null=True)  # now while behind (a full batch was read), else in a while

    def __str__(self) -> str:
        return f"after event {self.event_id}"

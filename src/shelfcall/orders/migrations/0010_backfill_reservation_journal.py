"""Orders made before the reservation journal get one that adds up: what each line held at creation, and
what it has since released and consumed (at the order's close, or now for a short pick of an open order).
The reason of an earlier release is told by the order's fate: cancelled, expired, turned down at hand-off,
or else not found. Each reservation row is read once; entries are written in batches."""

from django.db import migrations
from django.utils import timezone

BATCH = 2000


def _release_reason(order, line) -> str:
    if order.status in {"cancelled", "expired"}:
        return order.status
    return "rejected" if line.rejected_qty else "not_found"


def backfill(apps, schema_editor):
    Reservation = apps.get_model("orders", "Reservation")
    ReservationEntry = apps.get_model("orders", "ReservationEntry")
    now = timezone.now()
    entries = []
    for reservation in Reservation.objects.select_related("order", "line").iterator(chunk_size=BATCH):
        order, line = reservation.order, reservation.line
        moves = [
            (
                "hold",
                reservation.held_qty + reservation.released_qty + reservation.consumed_qty,
                "created",
                order.created_at,
            ),
            ("release", reservation.released_qty, _release_reason(order, line), order.closed_at or now),
            ("consume", reservation.consumed_qty, "handed_over", order.closed_at or now),
        ]
        entries += [
            ReservationEntry(
                order_id=order.pk,
                line_id=line.pk,
                stock_level_id=reservation.stock_level_id,
                kind=kind,
                qty=qty,
                reason=reason,
                created_at=at,
                actor_kind="system",
                actor_label="Shelfcall (before the journal)",
            )
            for kind, qty, reason, at in moves
            if qty
        ]
        if len(entries) >= BATCH:
            ReservationEntry.objects.bulk_create(entries)
            entries = []
    ReservationEntry.objects.bulk_create(entries)


class Migration(migrations.Migration):
    dependencies = [("orders", "0009_order_intake_and_reservation_journal")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]

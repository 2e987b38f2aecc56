import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_models_and_migrations_agree():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_payments_recorded_before_they_were_rows_become_rows():
    """Paid and refunded sums of orders made before 0011 become one row each, with the old reference."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = [("orders", "0010_backfill_reservation_journal")], [("orders", "0011_payments_as_a_list")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    store = old.get_model("stores", "Store").objects.create(
        organization=old.get_model("stores", "Organization").objects.create(name="O", slug="o"),
        name="S",
        slug="s",
        currency="EUR",
    )
    when = datetime(2026, 11, 23, 10, tzinfo=UTC)
    order = old.get_model("orders", "Order").objects.create(
        store=store,
        source="showcase",
        number=1,
        currency="EUR",
        total_amount=Decimal("30.00"),
        paid_amount=Decimal("40.00"),
        refunded_amount=Decimal("10.00"),
        payment_status="partially_refunded",
        payment_reference="POS-1",
        created_at=when,
        updated_at=when,
        due_at=when,
        paid_at=when,
    )
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    new = executor.loader.project_state(after).apps
    rows = new.get_model("orders", "Payment").objects.filter(order_id=order.pk).order_by("pk")
    assert [(r.kind, r.amount, r.reference) for r in rows] == [
        ("payment", Decimal("40.00"), "POS-1"),
        ("refund", Decimal("10.00"), ""),
    ]
    MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes())

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


def _single_column_indexes(table: str) -> dict[str, bool]:
    """column: whether its one-column, non-unique index is partial; and the foreign keys still checked."""
    from django.db import connection

    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {
        about["columns"][0]: name.endswith("_idx")
        for name, about in constraints.items()
        if about["index"] and not about["unique"] and not about["primary_key"] and len(about["columns"]) == 1
    }


def _foreign_keys(table: str) -> set[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {about["columns"][0] for about in constraints.values() if about["foreign_key"]}


@pytest.mark.django_db(transaction=True)
def test_optional_links_trade_full_indexes_for_partial_ones_and_keep_their_foreign_keys():
    """0018 changes indexes only (no foreign key dropped and re-checked), and goes back as it came."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    links = ["origin_store_id", "team_id", "showcase_id", "assignee_id", "drop_zone_id", "sub_status_id"]
    keys_before = _foreign_keys("orders_order")
    assert set(links) <= keys_before
    assert {column: _single_column_indexes("orders_order")[column] for column in links} == dict.fromkeys(links, True)
    assert "order_id" not in _single_column_indexes("orders_orderevent")

    MigrationExecutor(connection).migrate([("orders", "0017_timers_wakeup_trigger")])
    assert {column: _single_column_indexes("orders_order")[column] for column in links} == dict.fromkeys(links, False)
    assert _single_column_indexes("orders_orderevent")["order_id"] is False

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert {column: _single_column_indexes("orders_order")[column] for column in links} == dict.fromkeys(links, True)
    assert "order_id" not in _single_column_indexes("orders_orderevent")
    assert _foreign_keys("orders_order") == keys_before

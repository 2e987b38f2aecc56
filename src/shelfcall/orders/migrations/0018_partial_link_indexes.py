# The optional links of an order get partial indexes (WHERE … IS NOT NULL) instead of full ones; the
# event's order index goes: event_order_idx (order, id) begins with it. Each claim, staging and hand-off
# writes a new version of the order's row into every index it is in.
#
# Only indexes change in the database. Django's AlterField would drop and re-add each foreign key's
# constraint, checking every row of the orders table again under lock (on SQLite: copy the table), so the
# database is told just to drop the old indexes and create the new ones.

from typing import Any

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

PROTECT, SET_NULL = django.db.models.deletion.PROTECT, django.db.models.deletion.SET_NULL
# name: (to, on_delete, related_name, verbose_name or None)
LINKS = {
    "origin_store": ("stores.store", PROTECT, "+", "taken at"),
    "team": ("stores.team", PROTECT, "orders", None),
    "showcase": ("catalog.showcase", PROTECT, "+", None),
    "assignee": (settings.AUTH_USER_MODEL, SET_NULL, "+", None),
    "drop_zone": ("stores.dropzone", PROTECT, "+", None),
    "sub_status": ("orders.substatus", PROTECT, "+", "sub-status"),
}


def _link(to: str, on_delete: Any, related_name: str, verbose_name: str | None) -> models.ForeignKey:
    named: dict[str, Any] = {"verbose_name": verbose_name} if verbose_name else {}
    return models.ForeignKey(
        to, on_delete=on_delete, null=True, blank=True, related_name=related_name, db_index=False, **named
    )


# The full, single-column indexes that go: (model, field).
FULL_INDEXES = [*(("order", name) for name in LINKS), ("orderevent", "order")]


def _full_index_names(schema_editor: BaseDatabaseSchemaEditor, model: Any, column: str) -> list[str]:
    with schema_editor.connection.cursor() as cursor:
        constraints = schema_editor.connection.introspection.get_constraints(cursor, model._meta.db_table)
    return [
        name
        for name, about in constraints.items()
        if about["index"] and not about["unique"] and not about["primary_key"] and about["columns"] == [column]
    ]


def drop_full_indexes(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for model_name, field_name in FULL_INDEXES:
        model = apps.get_model("orders", model_name)
        for name in _full_index_names(schema_editor, model, model._meta.get_field(field_name).column):
            schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(name)}")


def create_full_indexes(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    quote = schema_editor.quote_name
    for model_name, field_name in FULL_INDEXES:
        table, column = apps.get_model("orders", model_name)._meta.db_table, f"{field_name}_id"
        schema_editor.execute(f"CREATE INDEX {quote(f'{table}_{column}_full')} ON {quote(table)} ({quote(column)})")


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0002_catalogue_csv_imports"),
        ("orders", "0017_timers_wakeup_trigger"),
        ("stores", "0010_store_language"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(drop_full_indexes, create_full_indexes)],
            state_operations=[
                *(
                    migrations.AlterField(model_name="order", name=name, field=_link(*link))
                    for name, link in LINKS.items()
                ),
                migrations.AlterField(
                    model_name="orderevent",
                    name="order",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to="orders.order",
                    ),
                ),
            ],
        ),
        *(
            migrations.AddIndex(
                model_name="order",
                index=models.Index(
                    condition=models.Q((f"{name}__isnull", False)), fields=[name], name=f"order_{name}_idx"
                ),
            )
            for name in LINKS
        ),
    ]

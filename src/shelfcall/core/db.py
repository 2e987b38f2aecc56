"""Database expressions that differ by vendor, and migrations' SQL that only PostgreSQL runs."""

from typing import Any

from django.db import migrations
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.models import Aggregate, BigIntegerField, Expression, Func, TextField, Value
from django.db.models.sql.compiler import SQLCompiler


class CurrentTransactionId(Func):
    """On PostgreSQL the id of the transaction evaluating it (a column default: the writer's); NULL
    elsewhere (SQLite has one writer at a time, so row ids already come in commit order)."""

    output_field = BigIntegerField()
    template = "NULL"

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, list[Any]]:
        return "pg_current_xact_id()::text::bigint", []


class OldestRunningTransactionId(Func):
    """On PostgreSQL, every transaction with a smaller id has finished: committed or rolled back."""

    output_field = BigIntegerField()
    template = "NULL"

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, list[Any]]:
        return "pg_snapshot_xmin(pg_current_snapshot())::text::bigint", []


class JoinedText(Aggregate):
    """The group's texts in one, `separator` between them (NULL for no rows): STRING_AGG on PostgreSQL,
    GROUP_CONCAT on SQLite. Django 5.2 has no portable one."""

    function = "GROUP_CONCAT"
    output_field = TextField()

    def __init__(self, expression: Expression, separator: str) -> None:
        super().__init__(expression, Value(separator))

    def as_postgresql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any) -> Any:
        return self.as_sql(compiler, connection, function="STRING_AGG", **extra_context)


def on_postgresql(forward: str, backward: str) -> migrations.RunPython:
    """A migration operation running `forward` (`backward` to undo it) on PostgreSQL and nothing elsewhere:
    its triggers and notifications, which SQLite, one process, does without."""

    def run(sql: str) -> Any:
        def execute(apps: Any, schema_editor: BaseDatabaseSchemaEditor) -> None:
            if schema_editor.connection.vendor == "postgresql":
                schema_editor.execute(sql)

        return execute

    return migrations.RunPython(run(forward), run(backward))

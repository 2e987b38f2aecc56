"""The hot reads and writes (the actions', the pages' and the API's), compiled to SQL once per process
and database.

Django builds and compiles a query's SQL on every call: for the few fixed-shape statements every
lifecycle runs (read an order with its store and holder, read a line with its order, count a pick),
that was the largest part of the actions' Python time (benchmarks/README.md, "Domain CPU"). A
compiled query is built from placeholder arguments on its first use on a database; later calls only
bind their own arguments. `CompiledGet` reads one row, `CompiledList` many (select_related and
annotations come out as the ORM gives them), `CompiledRows` plain rows (values_list, a union). The
arguments must be ints or strs: those reach the statement's parameters unchanged, so each
placeholder is found among them and replaced. An INSERT (`CompiledInsert`, an
order's event) takes its parameters from the new model's fields instead.
"""

import itertools
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeGuard, TypeVar, cast

from django.db import connections, router
from django.db.models import AutoField, Field, Model, QuerySet
from django.db.models.query import get_related_populators  # type: ignore[attr-defined]  # not in the stubs
from django.db.models.sql import InsertQuery, UpdateQuery
from django.db.models.sql.compiler import SQLCompiler, SQLInsertCompiler

from shelfcall.core.numbers import MAX_NUMBER

M = TypeVar("M", bound=Model)
Argument = int | str
_serial = itertools.count()


@dataclass(frozen=True)
class _Statement:
    sql: str
    # Per parameter: the index of the call's argument it takes, or None to keep `constants`' value.
    slots: tuple[int | None, ...]
    constants: tuple[Any, ...]
    compiler: SQLCompiler

    def params(self, args: Sequence[Argument]) -> list[Any]:
        return [self.constants[i] if slot is None else args[slot] for i, slot in enumerate(self.slots)]


def moment_argument(moment: datetime, model: type[Model]) -> str:
    """`moment` as a compiled write's str argument, for a `Value(…)` written to a datetime column of `model`:
    the text the database takes for it (an aware ISO moment on PostgreSQL, UTC text as Django stores it on
    SQLite)."""
    return str(connections[router.db_for_write(model)].ops.adapt_datetimefield_value(moment))


def is_row_id(value: object) -> TypeGuard[int]:
    """Whether `value` can be the id of a row (a positive int that fits a bigint column), to look up with a
    compiled statement. The ORM finds nothing for a larger one without a query; a compiled statement binds it
    as it is, which overflows on SQLite."""
    return isinstance(value, int) and 0 < value <= MAX_NUMBER


def _placeholders(kinds: Sequence[type[Argument]]) -> list[Argument]:
    """Values no real argument takes, one per argument: negative ints (ids and counts are positive; within a
    32-bit column's range, or Django would compile the lookup to nothing) and unguessable strs."""
    serial = next(_serial) % 10_000_000
    return [
        -1_000_000_000 - serial * 64 - i if kind is int else f"\x00compiled:{serial}:{i}\x00"
        for i, kind in enumerate(kinds)
    ]


def _compile(compiler: SQLCompiler, placeholders: Sequence[Argument]) -> _Statement:
    return _statement(*compiler.as_sql(), compiler, placeholders)


def _statement(sql: str, params: Sequence[Any], compiler: SQLCompiler, placeholders: Sequence[Argument]) -> _Statement:
    index = {placeholder: i for i, placeholder in enumerate(placeholders)}
    slots = tuple(index.get(param) if isinstance(param, int | str) else None for param in params)
    missing = set(range(len(placeholders))) - set(slots)
    assert not missing, f"arguments {sorted(missing)} do not reach the statement as they are: {sql}"
    return _Statement(sql, slots, tuple(params), compiler)


class _PerDatabase(ABC):
    """One compiled statement per database alias, made on first use there."""

    def __init__(self, kinds: Sequence[type[Argument]]) -> None:
        self.kinds = tuple(kinds)
        self._lock = threading.Lock()
        self._statements: dict[str, _Statement] = {}

    def statement(self, alias: str) -> _Statement:
        if (statement := self._statements.get(alias)) is None:
            statement = self._make(alias, _placeholders(self.kinds))
            with self._lock:
                self._statements.setdefault(alias, statement)
        return statement

    @abstractmethod
    def _make(self, alias: str, placeholders: Sequence[Argument]) -> _Statement:
        """Compile this kind of statement for the database `alias`, with `placeholders` as its arguments."""


@dataclass(frozen=True)
class _RowStatement(_Statement):
    """A SELECT with what turns its row into models, worked out once: Django's iterator works out the
    converters of every column (85 for an order with its store and holder) and the related populators
    again for each query."""

    converters: dict[int, tuple[list[Any], Any]]
    attnames: list[str]
    populators: list[Any]
    annotations: dict[str, int]  # attribute name -> its column in the row

    @classmethod
    def of(cls, statement: _Statement, alias: str) -> "_RowStatement":
        compiler = statement.compiler
        klass_info, select = compiler.klass_info, compiler.select
        assert klass_info is not None
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        assert start == 0, "a compiled get selects its model's own columns first"
        return cls(
            statement.sql,
            statement.slots,
            statement.constants,
            compiler,
            converters=compiler.get_converters([column[0] for column in select[: compiler.col_count]]),
            attnames=[column[0].target.attname for column in select[start:end]],
            populators=get_related_populators(klass_info, select, alias),
            annotations=dict(compiler.annotation_col_map or {}),
        )

    def model(self, alias: str, row: Sequence[Any]) -> Model:
        """The row as Django's own iterator makes it: the model, and the related ones it selected."""
        [values] = self.compiler.apply_converters([row], self.converters) if self.converters else [list(row)]
        klass_info = self.compiler.klass_info
        assert klass_info is not None
        obj = klass_info["model"].from_db(alias, self.attnames, values[: len(self.attnames)])
        for populator in self.populators:
            populator.populate(values, obj)
        for name, column in self.annotations.items():
            setattr(obj, name, values[column])
        return obj


class CompiledGet(_PerDatabase, Generic[M]):
    """`build(*args)` is a queryset of at most one row (select_related allowed); `first(*args)` runs it."""

    def __init__(self, build: Callable[..., QuerySet[M]], *kinds: type[Argument]) -> None:
        super().__init__(kinds)
        self.build = build
        self.model = build(*_placeholders(kinds)).model

    def _make(self, alias: str, placeholders: Sequence[Argument]) -> _Statement:
        return _RowStatement.of(_compile(self.build(*placeholders).query.get_compiler(alias), placeholders), alias)

    def first(self, *args: Argument) -> M | None:
        """The row as Django's own iterator makes it: the model, and the related ones it selected."""
        alias = router.db_for_read(self.model)
        statement = cast(_RowStatement, self.statement(alias))
        with connections[alias].cursor() as cursor:
            cursor.execute(statement.sql, statement.params(args))
            row = cursor.fetchone()
        return None if row is None else cast(M, statement.model(alias, row))


class CompiledList(CompiledGet[M]):
    """`build(*args)` is a queryset (select_related and annotations allowed); `all(*args)` runs it."""

    def all(self, *args: Argument) -> list[M]:
        alias = router.db_for_read(self.model)
        statement = cast(_RowStatement, self.statement(alias))
        with connections[alias].cursor() as cursor:
            cursor.execute(statement.sql, statement.params(args))
            rows = cursor.fetchall()
        return [cast(M, statement.model(alias, row)) for row in rows]


class CompiledRows(_PerDatabase):
    """`build(*args)` is a queryset of plain rows (values_list, a union); `rows(*args)` runs it: its tuples.
    `model` is its first model (it routes the read): `build` runs at first use only, so it may import late."""

    def __init__(self, build: Callable[..., QuerySet[Any]], *kinds: type[Argument], model: type[Model]) -> None:
        super().__init__(kinds)
        self.build = build
        self.model = model

    def _make(self, alias: str, placeholders: Sequence[Argument]) -> _Statement:
        return _compile(self.build(*placeholders).query.get_compiler(alias), placeholders)

    def rows(self, *args: Argument) -> list[tuple[Any, ...]]:
        alias = router.db_for_read(self.model)
        statement = self.statement(alias)
        with connections[alias].cursor() as cursor:
            cursor.execute(statement.sql, statement.params(args))
            return cursor.fetchall()


class CompiledUpdate(_PerDatabase):
    """`build(*args)` is (queryset, changes) as for `queryset.update(**changes)`; `run(*args)` runs it and
    answers with the column `returning` as written in each row updated (`UPDATE … RETURNING`, SQLite 3.35
    and later): a count's new value, exact whatever updates of the row came first, without reading it again.

    `reads(*args)`, if given, are querysets of one row and one column each, returned after that column by
    `run_rows` (scalar subqueries in the RETURNING clause): what the caller would otherwise read next, in the
    same statement. They see the database as the statement found it (on PostgreSQL, its snapshot; on SQLite,
    the row as updated), not necessarily the row as written: that is the `returning` column."""

    def __init__(
        self,
        build: Callable[..., tuple[QuerySet[Any], dict[str, Any]]],
        *kinds: type[Argument],
        returning: str,
        reads: Callable[..., Sequence[QuerySet[Any]]] | None = None,
    ) -> None:
        super().__init__(kinds)
        self.build = build
        self.reads = reads
        self.model = build(*_placeholders(kinds))[0].model
        self.returning = self.model._meta.get_field(returning).column

    def _make(self, alias: str, placeholders: Sequence[Argument]) -> _Statement:
        queryset, changes = self.build(*placeholders)
        query = cast(UpdateQuery, queryset.query.chain(UpdateQuery))
        query.add_update_values(changes)
        compiler = query.get_compiler(alias)
        sql, params = compiler.as_sql()
        returning = [connections[alias].ops.quote_name(self.returning)]
        for read in self.reads(*placeholders) if self.reads else ():
            read_sql, read_params = read.query.get_compiler(alias).as_sql()
            returning.append(f"({read_sql})")
            params = (*params, *read_params)
        return _statement(f"{sql} RETURNING {', '.join(returning)}", params, compiler, placeholders)

    def run(self, *args: Argument) -> list[Any]:
        """The `returning` column of each row updated, as the database gives it; empty when none was."""
        return [row[0] for row in self.run_rows(*args)]

    def run_rows(self, *args: Argument) -> list[tuple[Any, ...]]:
        """Each row updated: its `returning` column, then the value of each of `reads`; empty when none was."""
        alias = router.db_for_write(self.model)
        statement = self.statement(alias)
        with connections[alias].cursor() as cursor:
            cursor.execute(statement.sql, statement.params(args))
            return cursor.fetchall()


@dataclass(frozen=True)
class _InsertStatement:
    sql: str
    bound: "tuple[Field[Any, Any], ...]"  # the fields whose values are parameters, in order
    defaulted: tuple[str, ...]  # the attnames the database fills (db_default): the statement has no place for a value
    returning: "tuple[Field[Any, Any], ...]"
    converters: dict[int, tuple[list[Any], Any]]
    compiler: SQLInsertCompiler


class CompiledInsert(Generic[M]):
    """`create(obj)` inserts one new `obj` as `Model.objects.bulk_create([obj])` does, its INSERT compiled
    once per database: each value is prepared as Django prepares it (the field's pre_save and
    get_db_prep_save), and the columns the database returns (the id, db_default ones) are set on `obj`.

    The fields that are parameters are those of a model made with its defaults: a value that is an
    expression must be one there too (a db_default), or the statement would not fit it."""

    def __init__(self, model: type[M]) -> None:
        self.model = model
        self._lock = threading.Lock()
        self._statements: dict[str, _InsertStatement] = {}

    def _make(self, alias: str) -> _InsertStatement:
        opts = self.model._meta
        fields = [f for f in opts.concrete_fields if not f.generated and not isinstance(f, AutoField)]
        probe = self.model()
        query = InsertQuery(self.model)
        query.insert_values(fields, [probe])
        compiler = cast(SQLInsertCompiler, query.get_compiler(alias))
        compiler.returning_fields = opts.db_returning_fields
        [(sql, _params)] = compiler.as_sql()
        bound = tuple(f for f in fields if not hasattr(getattr(probe, f.attname), "resolve_expression"))
        defaulted = tuple(f.attname for f in fields if f not in bound)
        returning = tuple(opts.db_returning_fields)
        converters = compiler.get_converters([f.get_col(opts.db_table) for f in returning])
        return _InsertStatement(sql, bound, defaulted, returning, converters, compiler)

    def _statement(self, alias: str) -> _InsertStatement:
        if (statement := self._statements.get(alias)) is None:
            statement = self._make(alias)
            with self._lock:
                self._statements.setdefault(alias, statement)
        return statement

    def create(self, obj: M) -> M:
        alias = router.db_for_write(self.model)
        statement = self._statement(alias)
        connection = connections[alias]
        if given := [name for name in statement.defaulted if not hasattr(getattr(obj, name), "resolve_expression")]:
            raise ValueError(f"{self.model.__name__}: the database sets {given}; compiled insert takes no value there")
        params = [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in statement.bound]
        with connection.cursor() as cursor:
            cursor.execute(statement.sql, params)
            row = connection.ops.fetch_returned_insert_columns(cursor, statement.compiler.returning_params)
        if statement.converters:
            [row] = statement.compiler.apply_converters([row], statement.converters)
        for field, value in zip(statement.returning, row, strict=True):
            setattr(obj, field.attname, value)
        obj._state.adding = False
        obj._state.db = alias
        return obj

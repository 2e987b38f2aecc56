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

import inspect
import itertools
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache, partial
from typing import Any, Generic, TypeGuard, TypeVar, cast

from django.db import connections, router
from django.db.models import AutoField, Field, Model, QuerySet, Value, signals
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query import get_related_populators  # type: ignore[attr-defined]  # not in the stubs
from django.db.models.sql import InsertQuery, UpdateQuery
from django.db.models.sql.compiler import SQLCompiler, SQLInsertCompiler

from shelfcall.core.numbers import MAX_NUMBER

M = TypeVar("M", bound=Model)
Argument = int | str
V = TypeVar("V", bound=Argument)
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


def padded(values: Sequence[V]) -> list[V]:
    """`values` to the next power of two (none stays none), the last one repeated: a value twice in an IN
    list matches what it matches once, so that a few compiled shapes serve lists of any length."""
    size = 1 << (len(values) - 1).bit_length() if values else 0
    return [*values, *list(values[-1:]) * (size - len(values))]


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


Make = Callable[[str, Sequence[str], Sequence[Any]], Any]


@cache
def maker(model: type[Model]) -> Make:
    """How to make an instance of `model` from its row (`make(alias, attnames, values)`): what `from_db`
    makes, without the `__init__` that sets each column through setattr (a tenth of the actions' Python
    time went to it). Only for a plain model: one that keeps Django's own `__init__` and `from_db`, has no
    receiver of the init signals and no column whose attribute does more than store its value (a foreign
    key's id only drops a cached related row, and a new instance has none); `from_db` itself otherwise."""
    descriptors = [inspect.getattr_static(model, field.attname, None) for field in model._meta.concrete_fields]
    plain = (
        model.__init__ is Model.__init__
        and model.from_db.__func__ is Model.from_db.__func__  # type: ignore[attr-defined]
        and not (signals.pre_init.has_listeners(model) or signals.post_init.has_listeners(model))
        and all(not hasattr(d, "__set__") or type(d) is ForeignKeyDeferredAttribute for d in descriptors)
    )
    return partial(_made, model) if plain else model.from_db


def _made(model: type[Model], alias: str, attnames: Sequence[str], values: Sequence[Any]) -> Model:
    obj = model.__new__(model)
    obj._state = state = ModelState()
    state.adding, state.db = False, alias
    obj.__dict__.update(zip(attnames, values, strict=True))
    return obj


class _Populator:
    """Django's RelatedPopulator (a model select_related brings with the row), its instances made by `maker`."""

    def __init__(self, populator: Any) -> None:
        self.of = populator
        self.make = maker(populator.model_cls)
        self.related = [_Populator(related) for related in populator.related_populators]

    def populate(self, row: Sequence[Any], from_obj: Model) -> None:
        of = self.of
        data = of.reorder_for_init(row) if of.reorder_for_init else row[of.cols_start : of.cols_end]
        obj = None if data[of.pk_idx] is None else self.make(of.db, of.init_list, data)
        if obj is not None:
            for related in self.related:
                related.populate(row, obj)
        of.local_setter(from_obj, obj)
        if obj is not None:
            of.remote_setter(obj, from_obj)


@dataclass(frozen=True)
class _RowStatement(_Statement):
    """A SELECT with what turns its row into models, worked out once: Django's iterator works out the
    converters of every column (85 for an order with its store and holder) and the related populators
    again for each query."""

    converters: dict[int, tuple[list[Any], Any]]
    attnames: list[str]
    make: Make
    populators: list[_Populator]
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
            make=maker(klass_info["model"]),
            populators=[_Populator(populator) for populator in get_related_populators(klass_info, select, alias)],
            annotations=dict(compiler.annotation_col_map or {}),
        )

    def model(self, alias: str, row: Sequence[Any]) -> Model:
        """The row as Django's own iterator makes it: the model, and the related ones it selected."""
        [values] = self.compiler.apply_converters([row], self.converters) if self.converters else [list(row)]
        obj = self.make(alias, self.attnames, values[: len(self.attnames)])
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


class CompiledByIds(Generic[M]):
    """`build(*ids)` is a queryset of the rows these ids name (`pk__in=ids`, `store_id__in=ids`…); `all(ids)`
    runs it for any number of ids: `per_read` at most a statement, each list padded to a power of two, so
    that a few compiled shapes serve them all."""

    def __init__(self, build: Callable[..., QuerySet[M]], *, per_read: int = 64) -> None:
        self.build, self.per_read = build, per_read
        self._shapes: dict[int, CompiledList[M]] = {}

    def all(self, ids: Iterable[int]) -> list[M]:
        unique = sorted(set(ids))
        found: list[M] = []
        for start in range(0, len(unique), self.per_read):
            chunk = padded(unique[start : start + self.per_read])
            shape = self._shapes.get(len(chunk))
            if shape is None:
                shape = self._shapes.setdefault(len(chunk), CompiledList(self.build, *[int] * len(chunk)))
            found += shape.all(*chunk)
        return found


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
        return self._run(router.db_for_write(self.model), args)

    def _run(self, alias: str, args: Sequence[Any]) -> list[tuple[Any, ...]]:
        statement = self.statement(alias)
        with connections[alias].cursor() as cursor:
            cursor.execute(statement.sql, statement.params(args))
            return cursor.fetchall()


class CompiledSet:
    """An UPDATE of the columns `fields` of the rows `where(*args)` finds, compiled once per database:
    `run(args, values)` binds the call's arguments and writes each field's value (any value, as
    `queryset.update(field=value)` would write it: prepared by the field, a model as its id), answering
    with the ids of the rows updated. What `CompiledUpdate` cannot bind (a moment, None, a decimal, a
    bool, a related model) is written so."""

    def __init__(self, where: Callable[..., QuerySet[Any]], *kinds: type[Argument], fields: Sequence[str]) -> None:
        self.fields = tuple(fields)
        count = len(kinds)
        self._update = CompiledUpdate(
            lambda *args: (where(*args[:count]), {f: Value(arg) for f, arg in zip(fields, args[count:], strict=True)}),
            *kinds,
            *[str] * len(self.fields),
            returning="id",
        )
        self.model = self._update.model
        self._targets = [self.model._meta.get_field(name) for name in self.fields]

    def run(self, args: Sequence[Argument], values: Sequence[Any]) -> list[int]:
        alias = router.db_for_write(self.model)
        connection = connections[alias]
        prepared = [
            field.get_db_prep_save(value.pk if isinstance(value, Model) else value, connection)
            for field, value in zip(self._targets, values, strict=True)
        ]
        return [row[0] for row in self._update._run(alias, [*args, *prepared])]


@dataclass(frozen=True)
class _InsertStatement:
    sql: str
    # Per column, in order: the field whose value is its parameter, or None and its db_default's parameters.
    columns: "tuple[tuple[Field[Any, Any] | None, tuple[Any, ...]], ...]"
    defaulted: tuple[str, ...]  # the attnames the database fills (db_default): the statement has no place for a value
    returning: "tuple[Field[Any, Any], ...]"
    converters: dict[int, tuple[list[Any], Any]]
    compiler: SQLInsertCompiler
    row: str  # "(…)": the placeholders of the one row of `sql`
    batch_size: int  # the most rows one statement may insert (MAX_ROWS, or fewer for the database's parameters)

    def sql_of(self, rows: int) -> str:
        """The INSERT of `rows` rows: this statement, its row of placeholders repeated."""
        return self.sql.replace(f"VALUES {self.row}", f"VALUES {', '.join([self.row] * rows)}", 1)


class CompiledInsert(Generic[M]):
    """`create(obj)` inserts one new `obj` as `Model.objects.bulk_create([obj])` does, its INSERT compiled
    once per database: each value is prepared as Django prepares it (the field's pre_save and
    get_db_prep_save), and the columns the database returns (the id, db_default ones) are set on `obj`.
    `create_many(objs)` inserts several in one statement, compiled once per database and number of rows
    (up to MAX_ROWS: a larger batch is `bulk_create`'s).

    The fields that are parameters are those of a model made with its defaults: a value that is an
    expression must be one there too (a db_default), or the statement would not fit it."""

    MAX_ROWS = 100

    def __init__(self, model: type[M]) -> None:
        self.model = model
        self._lock = threading.Lock()
        self._statements: dict[str, _InsertStatement] = {}
        self._sql: dict[tuple[str, int], str] = {}

    def _make(self, alias: str) -> _InsertStatement:
        opts = self.model._meta
        connection = connections[alias]
        fields = [f for f in opts.concrete_fields if not f.generated and not isinstance(f, AutoField)]
        probe = self.model()
        query = InsertQuery(self.model)
        query.insert_values(fields, [probe])
        compiler = cast(SQLInsertCompiler, query.get_compiler(alias))
        compiler.returning_fields = opts.db_returning_fields
        [(sql, _params)] = compiler.as_sql()
        values = [compiler.prepare_value(f, compiler.pre_save_val(f, probe)) for f in fields]
        placeholders = [
            compiler.field_as_sql(f, getattr(f, "get_placeholder", None), v)  # type: ignore[arg-type]  # None: no placeholder of its own
            for f, v in zip(fields, values, strict=True)
        ]
        row = f"({', '.join(sql for sql, _params in placeholders)})"
        assert sql.count(f"VALUES {row}") == 1, f"the VALUES row of {sql} is not {row}"
        defaulted = tuple(f.attname for f in fields if hasattr(getattr(probe, f.attname), "resolve_expression"))
        columns = tuple(
            (None, tuple(params)) if f.attname in defaulted else (f, ())
            for f, (_sql, params) in zip(fields, placeholders, strict=True)
        )
        returning = tuple(opts.db_returning_fields)
        converters = compiler.get_converters([f.get_col(opts.db_table) for f in returning])
        batch_size = min(self.MAX_ROWS, connection.ops.bulk_batch_size(fields, [probe] * self.MAX_ROWS))
        return _InsertStatement(sql, columns, defaulted, returning, converters, compiler, row, batch_size)

    def _statement(self, alias: str) -> _InsertStatement:
        if (statement := self._statements.get(alias)) is None:
            statement = self._make(alias)
            with self._lock:
                self._statements.setdefault(alias, statement)
        return statement

    def create(self, obj: M) -> M:
        return self.create_many([obj])[0]

    def create_many(self, new: Iterable[M]) -> list[M]:
        """Insert the `new` objects (unsaved) as `bulk_create` does, in one compiled statement."""
        objs = list(new)
        alias = router.db_for_write(self.model)
        statement = self._statement(alias)
        if len(objs) > statement.batch_size:
            return self.model._default_manager.bulk_create(objs)
        if not objs:
            return []
        connection = connections[alias]
        params: list[Any] = []
        for obj in objs:
            if given := [name for name in statement.defaulted if not hasattr(getattr(obj, name), "resolve_expression")]:
                raise ValueError(
                    f"{self.model.__name__}: the database sets {given}; compiled insert takes no value there"
                )
            for field, constants in statement.columns:
                if field is None:
                    params += constants
                else:
                    params.append(field.get_db_prep_save(field.pre_save(obj, True), connection))
        with connection.cursor() as cursor:
            cursor.execute(self._sql_of(alias, statement, len(objs)), params)
            rows = connection.ops.fetch_returned_insert_rows(cursor)  # type: ignore[attr-defined]  # PostgreSQL's and SQLite's
        if statement.converters:
            rows = list(statement.compiler.apply_converters(rows, statement.converters))
        for obj, row in zip(objs, rows, strict=True):
            for field, value in zip(statement.returning, row, strict=True):
                setattr(obj, field.attname, value)
            obj._state.adding = False
            obj._state.db = alias
        return objs

    def _sql_of(self, alias: str, statement: _InsertStatement, rows: int) -> str:
        if (sql := self._sql.get((alias, rows))) is None:
            sql = self._sql.setdefault((alias, rows), statement.sql_of(rows))
        return sql

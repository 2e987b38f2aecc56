"""The order actions' hot reads and writes, compiled to SQL once per process and database.

Django builds and compiles a query's SQL on every call: for the few fixed-shape statements every
lifecycle runs (read an order with its store and holder, read a line with its order, count a pick),
that was the largest part of the actions' Python time (benchmarks/README.md, "Domain CPU"). A
compiled query is built from placeholder arguments on its first use on a database; later calls only
bind their own arguments. The arguments must be ints or strs: those reach the statement's parameters
unchanged, so each placeholder is found among them and replaced.
"""

import itertools
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from django.db import connections, router
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators  # type: ignore[attr-defined]  # not in the stubs
from django.db.models.sql import UpdateQuery
from django.db.models.sql.compiler import SQLCompiler

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


def _placeholders(kinds: Sequence[type[Argument]]) -> list[Argument]:
    """Values no real argument takes, one per argument: negative ints (ids and counts are positive; within a
    32-bit column's range, or Django would compile the lookup to nothing) and unguessable strs."""
    serial = next(_serial) % 10_000_000
    return [
        -1_000_000_000 - serial * 64 - i if kind is int else f"\x00compiled:{serial}:{i}\x00"
        for i, kind in enumerate(kinds)
    ]


def _compile(compiler: SQLCompiler, placeholders: Sequence[Argument]) -> _Statement:
    sql, params = compiler.as_sql()
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


class CompiledGet(_PerDatabase, Generic[M]):
    """`build(*args)` is a queryset of at most one row (select_related allowed); `first(*args)` runs it."""

    def __init__(self, build: Callable[..., QuerySet[M]], *kinds: type[Argument]) -> None:
        super().__init__(kinds)
        self.build = build
        self.model = build(*_placeholders(kinds)).model

    def _make(self, alias: str, placeholders: Sequence[Argument]) -> _Statement:
        return _compile(self.build(*placeholders).query.get_compiler(alias), placeholders)

    def first(self, *args: Argument) -> M | None:
        """The row as Django's own iterator makes it: the model, and the related ones it selected."""
        alias = router.db_for_read(self.model)
        statement = self.statement(alias)
        with connections[alias].cursor() as cursor:
            cursor.execute(statement.sql, statement.params(args))
            row = cursor.fetchone()
        if row is None:
            return None
        compiler = statement.compiler
        klass_info, select = compiler.klass_info, compiler.select
        assert klass_info is not None
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        [values] = compiler.results_iter([[row]])
        attnames = [column[0].target.attname for column in select[start:end]]
        obj = klass_info["model"].from_db(alias, attnames, values[start:end])
        for populator in get_related_populators(klass_info, select, alias):
            populator.populate(values, obj)
        return obj


class CompiledUpdate(_PerDatabase):
    """`build(*args)` is (queryset, changes) as for `queryset.update(**changes)`; `run(*args)` runs it."""

    def __init__(self, build: Callable[..., tuple[QuerySet[Any], dict[str, Any]]], *kinds: type[Argument]) -> None:
        super().__init__(kinds)
        self.build = build
        self.model = build(*_placeholders(kinds))[0].model

    def _make(self, alias: str, placeholders: Sequence[Argument]) -> _Statement:
        queryset, changes = self.build(*placeholders)
        query = cast(UpdateQuery, queryset.query.chain(UpdateQuery))
        query.add_update_values(changes)
        return _compile(query.get_compiler(alias), placeholders)

    def run(self, *args: Argument) -> int:
        """The number of rows updated."""
        alias = router.db_for_write(self.model)
        statement = self.statement(alias)
        with connections[alias].cursor() as cursor:
            cursor.execute(statement.sql, statement.params(args))
            return cursor.rowcount

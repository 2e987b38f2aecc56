"""Rows of several kinds in one statement: a UNION ALL whose rows are each a model instance as a JSON
object, turned back into the instance the ORM would have made (the order page's lists, the queue's facts,
what a new order reads before it writes). Compile the union once (orders/compiled.py, CompiledRows):
building its JSON objects field by field costs more than running it."""

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC
from decimal import Decimal
from typing import Any

from django.db import connection, models
from django.db.models import F, QuerySet, TextField, Value
from django.db.models.functions import Cast, JSONObject
from django.utils import timezone
from django.utils.dateparse import parse_datetime, parse_time

from shelfcall.orders.compiled import maker


def json_rows(kind: str, rows: QuerySet, data: JSONObject, *, sort_name: F | None = None) -> QuerySet:
    """One part of a UNION ALL read by `json_rows_of`: its rows as JSON text, and what sorts them."""
    return rows.order_by().annotate(
        page_kind=Value(kind),
        page_sort_name=sort_name or Value(""),
        page_sort_id=F("pk"),
        page_data=Cast(data, TextField()),
    )


_COLUMNS = ("page_kind", "page_sort_name", "page_sort_id", "page_data")


def union_of(parts: Sequence[QuerySet]) -> QuerySet:
    """The parts' rows in one statement, by kind, then sort name and id; read by `json_rows_of`."""
    first, *others = (part.values_list(*_COLUMNS) for part in parts)
    return first.union(*others, all=True).order_by(*_COLUMNS[:3])


def json_rows_of(rows: Iterable[tuple[Any, ...]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each row of a `union_of` as (its kind, its JSON object)."""
    for kind, _name, _pk, data in rows:
        yield kind, json.loads(data, parse_float=Decimal)


def json_of(model: type[models.Model], path: str = "") -> JSONObject:
    """Every column of `model` (reached from the rows by `path`) as a JSON object; a JSON column as its text,
    which each database keeps in its own way."""
    return JSONObject(
        **{
            field.attname: Cast(f"{path}{field.attname}", TextField())
            if isinstance(field, models.JSONField)
            else F(f"{path}{field.attname}")
            for field in model._meta.concrete_fields
        }
    )


def instance(model: type[models.Model], data: dict[str, Any]) -> Any:
    """The instance the ORM makes of these column values, each converted as the database's own driver
    and Django's converters do (JSON has no dates, decimals or, in SQLite, booleans)."""
    fields = model._meta.concrete_fields
    return maker(model)(connection.alias, [f.attname for f in fields], [_value(f, data[f.attname]) for f in fields])


def _value(field: models.Field, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(field, models.DateTimeField):
        moment = parse_datetime(value)
        return moment if moment is None or timezone.is_aware(moment) else timezone.make_aware(moment, UTC)
    if isinstance(field, models.DecimalField):
        return Decimal(value).quantize(Decimal(1).scaleb(-field.decimal_places))
    if isinstance(field, models.TimeField):
        return parse_time(value)
    if isinstance(field, models.BooleanField):
        return bool(value)
    if isinstance(field, models.JSONField):
        return json.loads(value, cls=field.decoder)
    return value

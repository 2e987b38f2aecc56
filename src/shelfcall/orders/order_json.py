"""An order with what the actions read with it (its store and holder), its sub-status and its lines, as two
JSON values: what an action's conditional UPDATE returns with the row it wrote (orders/compiled.py,
`CompiledUpdate(reads=…)`), so that the caller's answer needs no read of its own."""

import json
from decimal import Decimal
from typing import Any

from django.db.models import Aggregate, QuerySet, TextField
from django.db.models.functions import Cast, JSONObject

from shelfcall.orders.actions._common import ACTION_RELATIONS, keep_lines
from shelfcall.orders.json_rows import instance, json_of
from shelfcall.orders.models import Order, OrderLine

# Each relation selected with the order (`ACTION_RELATIONS`, and its sub-status for the answer), by field.
_RELATED = (*ACTION_RELATIONS, "sub_status")


class _JSONArray(Aggregate):
    """Its rows' JSON objects as one JSON array, in no particular order."""

    function = "JSON_GROUP_ARRAY"  # SQLite's
    output_field = TextField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(compiler, connection, function="JSON_AGG", **extra)


def order_as_json(order_id: int) -> QuerySet[Any, tuple[Any]]:
    """One row, one column: the order and its related rows (JSON text; null ones for a relation it lacks)."""
    related = {name: json_of(Order._meta.get_field(name).related_model, f"{name}__") for name in _RELATED}  # type: ignore[arg-type]
    data = JSONObject(order=json_of(Order), **related)
    return Order.objects.filter(pk=order_id).annotate(data=Cast(data, TextField())).values_list("data")


def lines_as_json(order_id: int) -> QuerySet[Any, tuple[Any]]:
    """One row, one column: the order's lines, a JSON array (text)."""
    lines = _JSONArray(json_of(OrderLine))
    return (
        OrderLine.objects.filter(order_id=order_id)
        .order_by()
        .values("order_id")
        .annotate(data=Cast(lines, TextField()))
        .values_list("data")
    )


def order_and_lines_as_json(order_id: int, *_: Any) -> tuple[QuerySet[Any, tuple[Any]], ...]:
    """`order_as_json` and `lines_as_json`: what a conditional UPDATE of the order or a line reads back
    (`CompiledUpdate(reads=…)`), the statement's other arguments ignored."""
    return order_as_json(order_id), lines_as_json(order_id)


def order_of_json(order_text: str, lines_text: str | None) -> Order:
    """The order `order_as_json` and `lines_as_json` gave, as the ORM would have read it: its related rows
    selected with it, its lines (by id) kept on it (`order.lines.all()`), each holding it."""
    data = json.loads(order_text, parse_float=Decimal)
    order: Order = instance(Order, data["order"])
    for name in _RELATED:
        field = Order._meta.get_field(name)
        related = data[name]
        setattr(order, name, None if related["id"] is None else instance(field.related_model, related))  # type: ignore[arg-type]
    lines = [instance(OrderLine, line) for line in json.loads(lines_text or "[]", parse_float=Decimal)]
    lines.sort(key=lambda line: line.pk)
    for line in lines:
        line.order = order
    keep_lines(order, lines)
    return order

"""The catalogue's CSV files: their columns (published as a Table Schema, https://specs.frictionlessdata.io/
table-schema/), reading an upload row by row, and writing the export in the same shape.

A file is UTF-8 (with or without the byte-order mark Excel writes) or UTF-16 with its byte-order mark,
comma-separated, with a header row. Anything else is refused with the fix, never guessed at: a Latin-1
file read as UTF-8 garbles names, and a semicolon file read with commas shifts every column.

Rows are numbered as a spreadsheet numbers them: the header is row 1, the first product row 2.
"""

import codecs
import csv
import difflib
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shelfcall.catalog.errors import RowError
from shelfcall.catalog.imports import MAX_PRICE_DIGITS, ProductRow, RowValidationError, StockRow, row_errors
from shelfcall.catalog.stock import MAX_ON_HAND
from shelfcall.core.errors import ShelfcallError

HEADER_ROW = 1
TRUE_VALUES = ("yes", "true", "1")
FALSE_VALUES = ("no", "false", "0")
_COMMA_DECIMAL = re.compile(r"[0-9]+,[0-9]{1,2}")
# A sign, then the digits that count: int() refuses more than 4300 digits, and a count has at most a few.
_INTEGER = re.compile(r"([+-]?)0*([0-9]+)")


@dataclass(frozen=True)
class Column:
    name: str
    description: Any  # lazy translation
    schema: dict[str, Any]
    example: str
    product: bool = True  # a product's field (else the store's count)


def _text(model_field: str) -> dict[str, Any]:
    return {"type": "string", "constraints": {"maxLength": _max_length(model_field)}}


def _max_length(model_field: str) -> int:
    for meta in ProductRow.model_fields[model_field].metadata:
        if hasattr(meta, "max_length") and meta.max_length is not None:
            return int(meta.max_length)
    raise LookupError(model_field)


COLUMNS = (
    Column(
        "sku",
        gettext_lazy("Your stock-keeping unit: one row per product. Required."),
        {"type": "string", "constraints": {"required": True, "unique": True, "minLength": 1, "maxLength": 64}},
        "DRL-18V",
    ),
    Column(
        "name",
        gettext_lazy("The product's name as shoppers see it. Required with price when the file has product columns."),
        _text("name"),
        "Cordless drill 18V",
    ),
    Column(
        "price",
        gettext_lazy("The unit price, with a point before at most 2 decimals and no currency sign."),
        {
            "type": "number",
            "decimalChar": ".",
            "groupChar": "",
            "bareNumber": True,
            "constraints": {"minimum": 0, "maximum": 10**MAX_PRICE_DIGITS - 0.01},
        },
        "99.00",
    ),
    Column(
        "currency",
        gettext_lazy("Optional: the stores' currency (ISO 4217), only checked. Empty: not checked."),
        {"type": "string", "constraints": {"pattern": "[A-Z]{3}"}},
        "EUR",
    ),
    Column(
        "upc",
        gettext_lazy("UPC or EAN barcode, digits only; empty if it has none."),
        {"type": "string", "constraints": {"pattern": "[0-9]*", "maxLength": 32}},
        "4006381333931",
    ),
    Column("size", gettext_lazy("Size, if it has one."), _text("size"), "M"),
    Column("colour", gettext_lazy("Colour, if it has one."), _text("colour"), "Blue"),
    Column("image_url", gettext_lazy("Address of its picture."), _text("image_url"), ""),
    Column(
        "location_hint",
        gettext_lazy("Where associates find it in the store."),
        _text("location_hint"),
        "Aisle 5",
    ),
    Column(
        "active",
        gettext_lazy("Whether shoppers can request it: yes or no. Empty: unchanged (new products: yes)."),
        {"type": "boolean", "trueValues": list(TRUE_VALUES), "falseValues": list(FALSE_VALUES)},
        "yes",
    ),
    Column(
        "on_hand",
        gettext_lazy(
            "Units on the shelf in this store, units held for orders included: a whole number, 0 or more. "
            "Empty: the count is left as it is."
        ),
        {"type": "integer", "constraints": {"minimum": 0, "maximum": MAX_ON_HAND}},
        "12",
        product=False,
    ),
)
COLUMN_NAMES = tuple(column.name for column in COLUMNS)
PRODUCT_COLUMNS = tuple(column.name for column in COLUMNS if column.product and column.name != "sku")


def table_schema(url: str) -> dict[str, Any]:
    """The Table Schema of a catalogue file (frictionless data), for integrators to check a file first."""
    return {
        "$schema": "https://datapackage.org/profiles/2.0/tableschema.json",
        "$id": url,
        "name": "shelfcall-catalogue",
        "title": "Shelfcall catalogue and stock",
        "description": (
            "UTF-8 CSV, comma-separated, header row. Columns other than sku may be left out: a file with "
            "sku and on_hand sets counts of existing products; one with name and price creates and changes "
            "products. Any order of columns."
        ),
        "fields": [
            {"name": column.name, "description": str(column.description), **column.schema} for column in COLUMNS
        ],
        "primaryKey": ["sku"],
        "missingValues": [""],
    }


class UnreadableFile(ShelfcallError):
    """The file as a whole cannot be read as a catalogue: its encoding, separator or header."""

    code = "unreadable_file"


@dataclass
class ParsedFile:
    """What the file holds: rows that parse, keyed by their row number, and every problem of the others."""

    columns: tuple[str, ...]
    products: list[tuple[int, ProductRow]] = field(default_factory=list)
    stock: list[tuple[int, StockRow]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0
    has_products: bool = field(init=False)
    has_stock: bool = field(init=False)

    def __post_init__(self) -> None:
        self.has_products = any(name in self.columns for name in PRODUCT_COLUMNS)
        self.has_stock = "on_hand" in self.columns


class _Chunks(io.RawIOBase):
    """A readable stream over byte chunks (a file kept in the database, or an upload's pieces)."""

    def __init__(self, chunks: Iterable[bytes], on_read: Any = None) -> None:
        self._chunks, self._pending, self._on_read = iter(chunks), b"", on_read

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = bytes(chunk)
            if self._on_read:
                self._on_read(len(self._pending))
        size = min(len(buffer), len(self._pending))
        buffer[:size], self._pending = self._pending[:size], self._pending[size:]
        return size


def _lines(chunks: Iterable[bytes], on_read: Any) -> Iterator[str]:
    """The file's text, line by line, after checking its encoding (from its first bytes)."""
    stream = io.BufferedReader(_Chunks(chunks, on_read), buffer_size=1 << 16)
    start = stream.peek(4)[:4]
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        yield from io.TextIOWrapper(stream, encoding="utf-16", newline="")
        return
    if start.startswith(codecs.BOM_UTF8):
        stream.read(len(codecs.BOM_UTF8))
    for number, raw in enumerate(stream, start=1):
        if b"\x00" in raw:
            raise UnreadableFile(
                _(
                    "Line %(line)s holds NUL bytes: the file looks like UTF-16 without its byte-order mark. "
                    'Save it as "CSV UTF-8".'
                )
                % {"line": number}
            )
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise UnreadableFile(
                _(
                    "Line %(line)s is not UTF-8 (byte 0x%(byte)02x at character %(position)s): the file is "
                    'probably Latin-1 or Windows-1252. Save it as "CSV UTF-8" (Excel: File, Save As, '
                    "CSV UTF-8) and upload it again."
                )
                % {"line": number, "byte": raw[error.start], "position": error.start + 1}
            ) from error


def _header(cells: list[str]) -> tuple[str, ...]:
    names = tuple(cell.strip().lower() for cell in cells)
    joined = ",".join(cells)
    if len(names) == 1 and (";" in joined or "\t" in joined):
        separator = _("semicolons") if ";" in joined else _("tabs")
        raise UnreadableFile(
            _(
                "Row 1, the header: columns are separated by %(separator)s, not commas. Save the file as "
                '"CSV UTF-8 (comma delimited)", or change the list separator to a comma.'
            )
            % {"separator": separator}
        )
    unknown = [name for name in names if name not in COLUMN_NAMES]
    if unknown:
        hints = [
            _("%(name)s (did you mean %(match)s?)") % {"name": name or '""', "match": match[0]}
            if (match := difflib.get_close_matches(name, COLUMN_NAMES, n=1))
            else name or '""'
            for name in unknown
        ]
        raise UnreadableFile(
            _("Row 1, the header: unknown columns %(columns)s. The columns are: %(known)s.")
            % {"columns": ", ".join(hints), "known": ", ".join(COLUMN_NAMES)}
        )
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise UnreadableFile(
            _("Row 1, the header: column %(columns)s appears twice; keep one.") % {"columns": ", ".join(repeated)}
        )
    missing = [name for name in _required(names) if name not in names]
    if missing:
        raise UnreadableFile(
            _(
                "Row 1, the header: missing column %(columns)s. A file has sku and on_hand, or sku, name and "
                "price, or all four."
            )
            % {"columns": ", ".join(missing)}
        )
    return names


def _required(names: tuple[str, ...]) -> tuple[str, ...]:
    if any(name in names for name in PRODUCT_COLUMNS):
        return ("sku", "name", "price")
    return ("sku", "on_hand")


def read_file(chunks: Iterable[bytes], *, on_read: Any = None) -> ParsedFile:
    """Every row of the file checked on its own. `on_read(bytes)` is told as the file is read (progress).
    Raises UnreadableFile when the file as a whole is wrong."""
    reader = csv.reader(_lines(chunks, on_read), strict=True)
    try:
        first = next(reader, None)
        if first is None:
            raise UnreadableFile(_("The file is empty: it needs a header row, then a row per product."))
        parsed = ParsedFile(_header(first))
        for number, cells in enumerate(reader, start=HEADER_ROW + 1):
            if any(cells):
                _read_row(parsed, number, cells)
    except csv.Error as error:
        raise UnreadableFile(
            _("Row %(row)s cannot be read as CSV (%(error)s): check its quotes.")
            % {"row": reader.line_num, "error": error}
        ) from error
    return parsed


def _read_row(parsed: ParsedFile, number: int, cells: list[str]) -> None:
    parsed.rows += 1
    if len(cells) != len(parsed.columns):
        parsed.errors.append(
            RowError(
                number,
                None,
                "cells",
                _("It has %(cells)s cells where the header has %(columns)s columns: check for a stray comma.")
                % {"cells": len(cells), "columns": len(parsed.columns)},
            )
        )
        return
    values = dict(zip(parsed.columns, (cell.strip() for cell in cells), strict=True))
    problems: list[RowError] = []
    if parsed.has_products:
        product = _product_fields(number, values, problems)
        row = _validated(ProductRow, number, product, problems)
        if row is not None:
            parsed.products.append((number, row))
    if parsed.has_stock and values["on_hand"] != "":
        count = _count(number, values["on_hand"], problems)
        if count is not None:
            row = _validated(StockRow, number, {"sku": values["sku"], "on_hand": count}, problems)
            if row is not None:
                parsed.stock.append((number, row))
    parsed.errors += problems


def _product_fields(number: int, values: dict[str, str], problems: list[RowError]) -> dict[str, Any]:
    fields: dict[str, Any] = {
        name: values[name]
        for name in ("sku", *PRODUCT_COLUMNS)
        if name in values and name not in {"active", "currency"}
    }
    if values.get("currency"):
        fields["currency"] = values["currency"]
    if _COMMA_DECIMAL.fullmatch(values["price"]):
        problems.append(
            RowError(
                number,
                "price",
                "comma_decimal",
                _('"%(value)s" has a decimal comma: write %(fixed)s, with a point.')
                % {"value": values["price"], "fixed": values["price"].replace(",", ".")},
            )
        )
        fields["price"] = "0"
    active = values.get("active", "").lower()
    if active in TRUE_VALUES or active in FALSE_VALUES:
        fields["active"] = active in TRUE_VALUES
    elif active:
        problems.append(
            RowError(
                number,
                "active",
                "invalid",
                _('"%(value)s" is not yes or no: write yes, no, or leave it empty.') % {"value": values["active"]},
            )
        )
    return fields


def _count(number: int, value: str, problems: list[RowError]) -> int | None:
    found = _INTEGER.fullmatch(value)
    value = value if len(value) <= 24 else f"{value[:20]}…"  # as the message shows it
    if found is None:
        message = _('"%(value)s" is not a whole number of units: write e.g. 12.') % {"value": value}
    elif found[1] == "-" and found[2] != "0":
        message = _("%(value)s is negative: a count is 0 or more (units held for orders are counted too).") % {
            "value": value
        }
    elif len(found[2]) > len(str(MAX_ON_HAND)) or int(found[2]) > MAX_ON_HAND:
        message = _("%(value)s is more than %(max)s units.") % {"value": value, "max": MAX_ON_HAND}
    else:
        return int(found[2])
    problems.append(RowError(number, "on_hand", "invalid", message))
    return None


def _validated(model: Any, number: int, values: dict[str, Any], problems: list[RowError]) -> Any:
    """The row as `model`, or None with its problems (a comma price already has its own)."""
    try:
        row = model.model_validate(values)
    except RowValidationError as invalid:
        known = {problem.field for problem in problems}
        problems += [error for error in row_errors(number, invalid) if error.field not in known]
        return None
    return None if problems else row


def export_rows(rows: Iterable[tuple[Any, ...]]) -> Iterator[str]:
    """The export: the header, then one line per product (with its count in the store), as CSV text."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMN_NAMES)
    for row in rows:
        writer.writerow(row)
        if buffer.tell() > 1 << 15:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()

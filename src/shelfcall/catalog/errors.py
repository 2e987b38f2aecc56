"""Refusals of the catalogue's bulk calls: every problem of every row, reported at once."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from shelfcall.core.errors import ShelfcallError

MAX_REPORTED_ROWS = 100  # a call with 5,000 bad rows gets the first 100: enough to see the pattern


@dataclass(frozen=True)
class RowError:
    index: int
    field: str | None
    code: str
    message: str


class InvalidRows(ShelfcallError):
    """Some rows of a bulk call are wrong: nothing was written. `rows` says which, and why."""

    code = "invalid_rows"
    status = 422

    def __init__(self, rows: Sequence[RowError], *, field: str) -> None:
        ordered = sorted(rows, key=lambda row: row.index)
        self.rows = ordered[:MAX_REPORTED_ROWS]
        first = ordered[0]
        count = len({row.index for row in ordered})
        message = ngettext(
            "%(count)s row has a problem: %(path)s: %(message)s",
            "%(count)s rows have problems, the first: %(path)s: %(message)s",
            count,
        ) % {"count": count, "path": _path(field, first), "message": first.message}
        super().__init__(message, field=field)


def _path(field: str, row: RowError) -> str:
    return ".".join(str(part) for part in (field, row.index, row.field) if part is not None)


def duplicates(keyed_rows: Iterable[tuple[int, object]], field: str) -> list[RowError]:
    """Rows whose key an earlier row of the same call has: which of the two should win is anyone's guess."""
    first_with: dict[object, int] = {}
    problems: list[RowError] = []
    for index, key in keyed_rows:
        if key in first_with:
            message = _("Same as row %(first)s: send each once.") % {"first": first_with[key]}
            problems.append(RowError(index, field, "duplicate", message))
        else:
            first_with[key] = index
    return problems

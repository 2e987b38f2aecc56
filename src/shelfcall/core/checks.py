"""Start-up checks: refuse, with the fix, a setup Shelfcall cannot run on correctly."""

import sqlite3
from typing import Any

from django.core.checks import Error
from django.db import connection


def database_returns_ids_from_bulk_inserts(**kwargs: Any) -> list[Error]:
    """Orders, their lines and events are inserted in bulk and then referred to by id: SQLite must be
    3.35 or newer to give the ids back (PostgreSQL always does)."""
    if connection.features.can_return_rows_from_bulk_insert:
        return []
    return [
        Error(
            f"This Python's SQLite is {sqlite3.sqlite_version}; Shelfcall needs SQLite 3.35 or newer.",
            hint="Use a Python built with a newer SQLite (Python 3.11 from python.org or Debian 12 has it), "
            "or set DATABASE_URL to a PostgreSQL database.",
            id="shelfcall.E001",
        )
    ]

"""Online backup and restore of the embedded SQLite database: nothing lost on the default either.

Both use SQLite's backup API, which copies a consistent snapshot while the server keeps writing
(WAL mode: readers never block the writer), and writes through SQLite's own locks, so neither a
half-copied file nor the WAL beside it can mix two states. PostgreSQL has its own tools (pg_dump,
base backups, point-in-time recovery); this module refuses to pretend otherwise."""

import shutil
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from shelfcall.core import clock
from shelfcall.core.errors import ShelfcallError

_SQLITE_HEADER = b"SQLite format 3\x00"
_PAGES_PER_STEP = 1024  # copy in steps so a long backup lets the server's writes in between
_PAUSE_BETWEEN_STEPS_S = 0.0


class BackupError(ShelfcallError):
    code = "backup_error"


@dataclass(frozen=True)
class Copied:
    path: Path
    size_bytes: int
    tables: int


def live_database_path() -> Path:
    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.sqlite3":
        raise BackupError(
            _(
                "Backups here are for the embedded SQLite database. On PostgreSQL use its own tools: "
                "pg_dump, or base backups with WAL archiving for point-in-time recovery."
            )
        )
    return Path(database["NAME"])


def default_backup_path(now: datetime | None = None) -> Path:
    stamp = (now or clock.now()).strftime("%Y%m%d-%H%M%S")
    return Path(settings.DATA_DIR) / "backups" / f"shelfcall-{stamp}.sqlite3"


def backup(destination: Path | None = None) -> Copied:
    """Copy the live database to `destination` (a new file), while the server keeps running."""
    source_path = live_database_path()
    destination = destination or default_backup_path()
    if destination.exists():
        raise BackupError(_("%(path)s exists already; choose a new file name.") % {"path": destination})
    destination.parent.mkdir(parents=True, exist_ok=True)
    if shutil.disk_usage(destination.parent).free < source_path.stat().st_size:
        raise BackupError(_("Not enough free space in %(folder)s for a copy.") % {"folder": destination.parent})
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    _copy(sqlite3.connect(source_path), sqlite3.connect(partial))
    _check(partial)
    partial.replace(destination)  # the file appears only once it is whole and checked
    return Copied(destination, destination.stat().st_size, _table_count(destination))


def restore(source: Path) -> Path | None:
    """Put a backup back in place of the live database. The database it replaces is kept beside it:
    its path is returned (None when there was none)."""
    live_path = live_database_path()
    _check(source)
    kept = live_path.with_name(f"{live_path.stem}.before-restore-{clock.now():%Y%m%d-%H%M%S}{live_path.suffix}")
    if live_path.exists():
        _copy(sqlite3.connect(live_path), sqlite3.connect(kept))
    _copy(sqlite3.connect(f"file:{source}?mode=ro", uri=True), sqlite3.connect(live_path))
    return kept if kept.exists() else None


def _copy(source: sqlite3.Connection, destination: sqlite3.Connection) -> None:
    try:
        with destination:
            source.backup(destination, pages=_PAGES_PER_STEP, sleep=_PAUSE_BETWEEN_STEPS_S)
    finally:
        source.close()
        destination.close()


def _check(path: Path) -> None:
    """Refuse anything that is not a whole SQLite database holding Shelfcall's tables."""
    if not path.is_file():
        raise BackupError(_("%(path)s is not a file.") % {"path": path})
    with path.open("rb") as file:
        if file.read(len(_SQLITE_HEADER)) != _SQLITE_HEADER:
            raise BackupError(_("%(path)s is not a SQLite database.") % {"path": path})
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        verdict = connection.execute("PRAGMA integrity_check").fetchone()[0]
        has_orders = connection.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('orders_order', 'django_migrations')"
        ).fetchone()[0]
    except sqlite3.DatabaseError as error:
        raise BackupError(_("%(path)s is damaged or unreadable: %(error)s") % {"path": path, "error": error}) from None
    finally:
        connection.close()
    if verdict != "ok":
        raise BackupError(_("%(path)s is damaged (%(verdict)s).") % {"path": path, "verdict": verdict})
    if has_orders != 2:
        raise BackupError(_("%(path)s is a SQLite database, but not a Shelfcall one.") % {"path": path})


def _table_count(path: Path) -> int:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return connection.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
    finally:
        connection.close()

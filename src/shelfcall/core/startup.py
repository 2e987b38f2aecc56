"""What every `shelfcall serve` does before serving, made safe for any number of processes starting at
the same moment: one at a time migrates, and static files are collected once per set of sources."""

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import cast

from django.apps import apps
from django.conf import settings
from django.contrib.staticfiles.apps import StaticFilesConfig
from django.contrib.staticfiles.finders import get_finders
from django.core.management import call_command
from django.db import connection, connections

# Any constant will do: the key of the PostgreSQL advisory lock held by the process that migrates.
MIGRATION_LOCK_KEY = 0x5E1FCA11


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on `path` (created if missing): other processes wait for it, and the kernel
    lets go of it if the holder dies."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield  # closing the file releases the lock


@contextmanager
def _advisory_lock(key: int) -> Iterator[None]:
    """A session advisory lock on a connection of its own, outside the pool, so that it cannot stay
    behind in a pooled connection: it ends with that connection, even if this process is killed."""
    params = connection.get_connection_params()
    # The PostgreSQL wrapper's driver module (psycopg); django-stubs does not declare it.
    with connection.Database.connect(**params, autocommit=True) as holder:  # type: ignore[attr-defined]
        holder.execute("SELECT pg_advisory_lock(%s)", [key])
        yield


def _migration_lock() -> AbstractContextManager[None]:
    if connection.vendor == "postgresql":
        return _advisory_lock(MIGRATION_LOCK_KEY)  # the processes may run on different machines
    return file_lock(Path(f"{connection.settings_dict['NAME']}.migrate-lock"))


def migrate() -> None:
    """Django's migrate plans first and then creates tables, so two at once both create the same
    table and one crashes. One at a time: the next finds nothing left to do."""
    with _migration_lock():
        call_command("migrate", interactive=False, verbosity=0)


def _static_sources_fingerprint() -> str:
    """A hash of every file collectstatic would copy, and of where and how it stores them."""
    digest = hashlib.sha256(repr((settings.STATIC_URL, settings.STORAGES["staticfiles"])).encode())
    ignore_patterns = cast(StaticFilesConfig, apps.get_app_config("staticfiles")).ignore_patterns
    for finder in get_finders():
        for path, storage in sorted(finder.list(ignore_patterns), key=lambda found: found[0]):
            digest.update(path.encode() + b"\0")
            with storage.open(path) as source:
                digest.update(hashlib.sha256(source.read()).digest())
    return digest.hexdigest()


def _write_atomically(path: Path, text: str) -> None:
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    draft.write_text(text)
    draft.replace(path)


def collect_static() -> None:
    """Collect static files when their sources differ from the last collection into this folder.

    Processes starting together would otherwise all write (and compress, and rename) the same files
    at once and crash; under the lock the first collects and the others find it done. Collecting
    without deleting keeps the hashed files that processes of the previous version still serve."""
    root = Path(settings.STATIC_ROOT)
    stamp = root.with_name(f"{root.name}.collected")
    with file_lock(root.with_name(f"{root.name}.lock")):
        fingerprint = _static_sources_fingerprint()
        if root.is_dir() and stamp.is_file() and stamp.read_text() == fingerprint:
            return
        call_command("collectstatic", interactive=False, verbosity=0)
        _write_atomically(stamp, fingerprint)


def release_connections() -> None:
    """Start-up runs on the main thread, which then serves no request: close its connections and the
    pool they came from, so that a process that only supervises others holds none (a serving
    process opens the pool again at its first request)."""
    for each in connections.all(initialized_only=True):
        each.close()
        if each.vendor == "postgresql":
            each.close_pool()  # type: ignore[attr-defined]  # Django 5.2's pool; not in django-stubs yet

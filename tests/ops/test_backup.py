"""`shelfcall backup` and `shelfcall restore` on the embedded SQLite database."""

import sqlite3
import threading
from pathlib import Path

import pytest
from django.db import connection, connections
from django.db.models import Sum

from shelfcall import cli
from shelfcall.catalog.models import StockLevel
from shelfcall.ops import backup
from shelfcall.orders.models import Order, OrderStatus, Reservation
from tests.factories import make_product, make_showcase, make_store, submit

sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="backups are for the embedded SQLite database")


def dump(path: Path) -> list[str]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return list(db.iterdump())
    finally:
        db.close()


def books_balance(path: Path) -> bool:
    """In the copy, what each stock level says is reserved equals what open orders' lines hold."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        reserved = dict(db.execute("SELECT id, reserved FROM catalog_stocklevel").fetchall())
        held = dict(
            db.execute(
                "SELECT stock_level_id, SUM(held_qty - released_qty - consumed_qty) FROM orders_reservation "
                "GROUP BY stock_level_id"
            ).fetchall()
        )
        return all(reserved[level] == held.get(level, 0) for level in reserved)
    finally:
        db.close()


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_a_backup_taken_under_write_load_is_whole_and_restores_identically(tmp_path, monkeypatch):
    monkeypatch.setattr(backup, "_PAGES_PER_STEP", 1)  # many steps, so the writer runs in between
    product = make_product(store := make_store(max_open_orders_per_device=1000, max_units_per_device=1000), on_hand=500)
    showcase = make_showcase(store, products=[product])
    stop, submitted = threading.Event(), []

    def shoppers() -> None:
        try:
            while not stop.is_set() and len(submitted) < 200:
                submitted.append(submit(showcase, {product: 1}).pk)
        finally:
            connections.close_all()

    writer = threading.Thread(target=shoppers)
    writer.start()
    try:
        while len(submitted) < 5:
            stop.wait(0.01)
        copied = backup.backup(tmp_path / "copy.sqlite3")
    finally:
        stop.set()
        writer.join()
    assert copied.path.exists() and not (tmp_path / "copy.sqlite3.partial").exists()
    assert books_balance(copied.path), "the copy is one consistent moment, not a mix of two"
    in_copy = len([line for line in dump(copied.path) if line.startswith('INSERT INTO "orders_order"')])
    assert 5 <= in_copy <= len(submitted)

    connections.close_all()
    kept = backup.restore(copied.path)
    assert dump(backup.live_database_path()) == dump(copied.path)
    assert kept is not None and len(dump(kept)) > len(dump(copied.path)) - 1, "the replaced database is kept"
    assert Order.objects.filter(status=OrderStatus.SUBMITTED).count() == in_copy
    assert StockLevel.objects.get(product=product).reserved == Reservation.objects.aggregate(n=Sum("held_qty"))["n"]


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_restore_refuses_what_is_not_a_shelfcall_database_and_changes_nothing(tmp_path):
    submit(make_showcase(make_store()))
    before = dump(backup.live_database_path())
    not_sqlite = tmp_path / "notes.sqlite3"
    not_sqlite.write_text("hello")
    other = tmp_path / "other.sqlite3"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    truncated = tmp_path / "truncated.sqlite3"
    truncated.write_bytes(backup.backup(tmp_path / "whole.sqlite3").path.read_bytes()[:4096])

    for path, says in [
        (not_sqlite, "not a SQLite database"),
        (other, "not a Shelfcall one"),
        (truncated, "damaged"),
        (tmp_path / "missing.sqlite3", "not a file"),
    ]:
        with pytest.raises(backup.BackupError, match=says):
            backup.restore(path)
    connections.close_all()
    assert dump(backup.live_database_path()) == before


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_the_commands_back_up_and_ask_before_restoring(tmp_path, capsys, monkeypatch):
    # Django is set up already; setting it up again would bind its log handlers to capsys's stream.
    monkeypatch.setattr(cli, "_setup_django", lambda: None)
    target = tmp_path / "b.sqlite3"
    with pytest.raises(SystemExit) as backed_up:
        cli.main(["backup", "--to", str(target)])
    assert backed_up.value.code == 0 and str(target) in capsys.readouterr().out
    with pytest.raises(SystemExit) as again:
        cli.main(["backup", "--to", str(target)])
    assert again.value.code == 2 and "exists already" in capsys.readouterr().err

    with pytest.raises(SystemExit) as unconfirmed:
        cli.main(["restore", str(target)])  # stdin is not a terminal here: no one to ask
    assert unconfirmed.value.code == 1 and "--yes" in capsys.readouterr().err
    with pytest.raises(SystemExit) as restored:
        cli.main(["restore", str(target), "--yes"])
    assert restored.value.code == 0 and "kept at" in capsys.readouterr().out


@pytest.mark.skipif(connection.vendor == "sqlite", reason="the PostgreSQL refusal")
def test_on_postgresql_backup_points_to_its_own_tools():
    with pytest.raises(backup.BackupError, match="pg_dump"):
        backup.backup()

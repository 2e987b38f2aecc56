"""Seconds for a 100,000-row catalogue CSV file through the import (catalog/csv_import.py), on the database in
DATABASE_URL (migrated first; SQLite when unset): kept (upload), checked (the preview), applied, checked
again unchanged, and undone. Each step runs as the pages run it: a job taken by the core job loop.

The file is a full catalogue with this store's counts (sku, name, price, upc, colour, location_hint,
active, on_hand). Then a second file changes every price and count of the first, applied over it.
It makes its own organization and deletes it at the end, so it can run on a database in use.

Run: DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db> .venv/bin/python benchmarks/csv_import.py [--rows N]
"""

import argparse
import os
import resource
import time
import uuid
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shelfcall.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from shelfcall.catalog import csv_import

    call_command("migrate", interactive=False, verbosity=0)
    organization, store = _organization()
    user = get_user_model().objects.create_user(f"bench-{uuid.uuid4().hex[:8]}")
    first, second = _file(args.rows, price="10.00", on_hand=5), _file(args.rows, price="12.50", on_hand=7)
    print(
        f"database: {connection.vendor}, {args.rows:,} rows, {len(first) / 1e6:.1f} MB a file, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
    )
    try:
        print("a new catalogue:")
        _imported(store, user, first)
        print("the same file again:")
        _imported(store, user, first, apply=False)
        print("every price and count changed:")
        changed = _imported(store, user, second)
        print("undo of that:")
        csv_import.undo_import(changed, by=user)
        _timed("undo (one transaction)", _run_jobs)
    finally:
        _delete(organization, user)
    print(f"peak memory of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


def _file(rows: int, *, price: str, on_hand: int) -> bytes:
    lines = ["sku,name,price,upc,colour,location_hint,active,on_hand"]
    lines += [
        f"BENCH-{n:06d},Product {n} of the bench,{price},{n:013d},Blue,Aisle {n % 40},yes,{on_hand}"
        for n in range(rows)
    ]
    return ("\r\n".join(lines) + "\r\n").encode()


def _timed(label: str, step) -> float:
    """Wall time, and the CPU of this process and of its PostgreSQL backend: on a busy machine the wall
    time is mostly waiting for a core; the CPU is what the step costs, and about its time on a quiet one."""
    started, cpu, database = time.perf_counter(), time.process_time(), _backend_cpu()
    step()
    seconds = time.perf_counter() - started
    used, database = time.process_time() - cpu, _backend_cpu() - database
    print(f"  {label:<28} {seconds:6.2f} s wall  CPU {used:5.2f} s here + {database:5.2f} s PostgreSQL")
    return seconds


def _backend_cpu() -> float:
    """CPU seconds of this connection's PostgreSQL backend, if it runs on this machine (0 on SQLite)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _imported(store, user, content: bytes, *, apply: bool = True) -> int:
    """Upload, check and (unless told not to) apply the file, each step timed; the import's id."""
    from shelfcall.catalog import csv_import
    from shelfcall.catalog.models import CatalogImport

    size = csv_import.CHUNK_BYTES
    chunks = (content[start : start + size] for start in range(0, len(content), size))
    started: list[CatalogImport] = []
    total = _timed(
        "upload (kept in chunks)",
        lambda: started.append(
            csv_import.start_import(store, by=user, filename="bench.csv", chunks=chunks, may_change_products=True)
        ),
    )
    pk = started[0].pk
    total += _timed("check (the preview)", _run_jobs)
    preview = CatalogImport.objects.get(pk=pk).preview
    print(f"    preview: products {preview['products']}, counts {preview['stock']}, {preview['error_count']} errors")
    if not apply:
        csv_import.cancel_import(pk)
        return pk
    csv_import.apply_import(pk, by=user)
    total += _timed("apply (one transaction)", _run_jobs)
    if CatalogImport.objects.get(pk=pk).state != "applied":
        raise SystemExit(f"not applied: {CatalogImport.objects.get(pk=pk).preview}")
    print(f"  {'upload + check + apply':<28} {total:6.2f} s wall")
    return pk


def _run_jobs() -> None:
    from shelfcall.core.jobs import queue

    while queue.run_next():
        pass


def _organization():
    from shelfcall.stores.models import Organization, Store

    slug = f"bench-csv-{uuid.uuid4().hex[:8]}"
    organization = Organization.objects.create(name="Bench CSV import", slug=slug)
    return organization, Store.objects.create(organization=organization, name="Bench store", slug="bench")


def _delete(organization, user) -> None:
    from shelfcall.catalog.models import CatalogImport, Product, StockLevel

    CatalogImport.objects.filter(organization=organization).delete()
    for model, scope in [
        (StockLevel, {"store__organization": organization}),
        (Product, {"organization": organization}),
    ]:
        ids = list(model.objects.filter(**scope).values_list("pk", flat=True))
        for start in range(0, len(ids), 5000):  # PostgreSQL takes at most 65,535 parameters a statement
            model.objects.filter(pk__in=ids[start : start + 5000]).delete()
    organization.stores.all().delete()
    organization.delete()
    user.delete()


if __name__ == "__main__":
    main()

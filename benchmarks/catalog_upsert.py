"""Rows per second of the catalogue's bulk upserts (catalog/imports.py), 5,000 rows a call, on the database
in DATABASE_URL (migrated first; SQLite when unset). What POST /api/v1/products/bulk and /stock/bulk do
after authentication: each row parsed and checked, then written in one transaction.

Four kinds of call, each `--calls` times: products that are new, products that exist (updated), stock
levels that are new, stock levels that exist. It makes its own organization (two stores) and deletes it at
the end, so it can run on a database in use.

Run: DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db> .venv/bin/python benchmarks/catalog_upsert.py
"""

import argparse
import os
import statistics
import time
import uuid

ROWS = 5000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5, help="calls of each kind (default 5)")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shelfcall.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", interactive=False, verbosity=0)
    print(f"database: {connection.vendor}, {ROWS} rows a call, {args.calls} calls of each kind, {os.cpu_count()} cores")
    organization, stores = _organization()
    try:
        for kind, seconds in _run(organization, stores, args.calls).items():
            rates = [ROWS / s for s in seconds]
            print(
                f"{kind:<18} median {statistics.median(rates):>8,.0f} rows/s  "
                f"(min {min(rates):,.0f}, max {max(rates):,.0f}; {statistics.median(seconds) * 1000:.0f} ms a call)"
            )
    finally:
        _delete(organization)


def _organization():
    from shelfcall.stores.models import Organization, Store

    slug = f"bench-catalog-{uuid.uuid4().hex[:8]}"
    organization = Organization.objects.create(name="Bench catalogue", slug=slug)
    stores = [Store.objects.create(organization=organization, name=f"Store {n}", slug=f"s{n}") for n in range(2)]
    return organization, stores


def _run(organization, stores, calls: int) -> dict[str, list[float]]:
    from shelfcall.catalog import imports

    def products(call: int, price: str) -> list[dict]:
        return [
            {"sku": f"C{call}-{n:05d}", "name": f"Product {n}", "price": price, "upc": f"{n:013d}", "colour": "Blue"}
            for n in range(ROWS)
        ]

    def levels(call: int, on_hand: int) -> list[dict]:
        half = ROWS // 2
        return [
            {"sku": f"C{call}-{n:05d}", "store": store.pk, "on_hand": on_hand} for n in range(half) for store in stores
        ]

    def timed(model, raw: list[dict], upsert) -> float:
        started = time.perf_counter()
        rows, errors = imports.parse_rows(model, raw)
        upsert(organization.pk, rows, errors)
        return time.perf_counter() - started

    results: dict[str, list[float]] = {
        "products, new": [],
        "products, update": [],
        "stock, new": [],
        "stock, update": [],
    }
    for call in range(calls):
        results["products, new"].append(timed(imports.ProductRow, products(call, "10.00"), imports.upsert_products))
        results["products, update"].append(timed(imports.ProductRow, products(call, "12.50"), imports.upsert_products))
        results["stock, new"].append(timed(imports.StockRow, levels(call, 5), imports.upsert_stock))
        results["stock, update"].append(timed(imports.StockRow, levels(call, 7), imports.upsert_stock))
    return results


def _delete(organization) -> None:
    from shelfcall.catalog.models import Product, StockLevel

    StockLevel.objects.filter(store__organization=organization).delete()
    Product.objects.filter(organization=organization).delete()
    organization.stores.all().delete()
    organization.delete()


if __name__ == "__main__":
    main()

"""Shared by the benchmark scripts: a throw-away PostgreSQL database, Django set up on it, a store to load.

Only 127.0.0.1 is contacted. Nothing here is imported by the app or by the test suite.
"""

import contextlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import psycopg
from psycopg import sql

PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_USER = "postgres"
REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent

MACHINE_NOTE = (
    f"machine: {os.cpu_count()} CPU cores shared by PostgreSQL, the app and the load generator "
    "(all on 127.0.0.1); figures include that contention"
)


def database_url(name: str) -> str:
    return f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"


def _admin_execute(statement: sql.Composable) -> None:
    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", autocommit=True) as conn:
        conn.execute(statement)


def create_database(name: str) -> str:
    """Drop `name` if a previous run left it behind, create it empty, and return its URL."""
    drop_database(name)
    _admin_execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return database_url(name)


def drop_database(name: str) -> None:
    _admin_execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def end_run(db_name: str, data_dir: str | Path | None, began: float) -> None:
    """Close this process's database connections, drop the run's database and its data folder (None: keep
    it), and print how long the run took since `began` (time.perf_counter())."""
    with contextlib.suppress(Exception):
        from django.db import connections

        connections.close_all()
    drop_database(db_name)
    if data_dir is not None:
        shutil.rmtree(Path(data_dir), ignore_errors=True)
    print(f"run time {time.perf_counter() - began:.0f} s")


def bench_environment(db_name: str, data_dir: str | None = None) -> dict[str, str]:
    """The environment both the benchmark process and a server subprocess run with."""
    return {
        "DATABASE_URL": database_url(db_name),
        "SHELFCALL_DATA_DIR": data_dir or tempfile.mkdtemp(prefix="shelfcall-bench-"),
        "SHELFCALL_SECRET_KEY": "benchmark-only-secret-key-not-used-anywhere-else-0123456789",
        "SHELFCALL_RATELIMIT": "false",
        "SHELFCALL_LIVE_STREAMS_PER_ADDRESS": "100000",  # every benchmark stream comes from 127.0.0.1
        "SHELFCALL_LOG_LEVEL": "WARNING",
        "SHELFCALL_DEBUG": "false",
        "DJANGO_SETTINGS_MODULE": "shelfcall.settings",
    }


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    import django

    django.setup()


def pid_cpu_seconds(pid: int) -> float | None:
    """user + system CPU of a local process (a PostgreSQL backend, a server), from /proc; None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def backend_cpu_seconds(connection) -> float | None:
    """user+system CPU of this Django connection's PostgreSQL backend process (local server only)."""
    if connection.vendor != "postgresql" or connection.connection is None:
        return None
    return pid_cpu_seconds(connection.connection.info.backend_pid)


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


@dataclass
class BenchStore:
    store: object
    showcases: list  # of (Showcase, [Product, ...])
    drop_zone: object
    stock: int  # units on hand of each product at the start


def make_store(*, showcases: int, products_per_showcase: int, stock: int) -> BenchStore:
    """One store with generous limits; every product has `stock` units on hand."""
    from shelfcall.catalog.models import Product, Showcase, ShowcaseItem, StockLevel
    from shelfcall.stores.models import DropZone, Organization, Store, Team

    org = Organization.objects.create(name="Bench Retail", slug="bench-retail")
    store = Store.objects.create(
        organization=org,
        name="Bench Store",
        slug="bench",
        timezone="Europe/Paris",
        currency="EUR",
        max_line_qty=100,
        max_order_qty=1000,
        max_open_orders_per_device=10_000,
        max_units_per_device=30_000,  # one load generator is one phone and one address
        max_units_per_address=1_000_000,
        pick_target_minutes=600,
    )
    made = []
    for s in range(showcases):
        team = Team.objects.create(store=store, name=f"Team {s}")
        showcase = Showcase.objects.create(store=store, team=team, name=f"Case {s}", code=f"BENCH{s:03d}")
        products = []
        for p in range(products_per_showcase):
            n = s * products_per_showcase + p
            product = Product.objects.create(
                organization=org,
                sku=f"SKU-{n:05d}",
                upc=f"40000000{n:05d}",
                name=f"Product {n}",
                colour="Black",
                price=Decimal("19.99") + n,
            )
            StockLevel.objects.create(store=store, product=product, on_hand=stock)
            ShowcaseItem.objects.create(showcase=showcase, product=product, position=p)
            products.append(product)
        made.append((showcase, products))
    drop_zone = DropZone.objects.create(store=store, name="Customer Service desk")
    return BenchStore(store, made, drop_zone, stock)


def make_staff(store, name: str):
    """A staff Actor; an unusable password keeps PBKDF2 out of the setup time."""
    from django.contrib.auth import get_user_model

    from shelfcall.orders.events import Actor
    from shelfcall.stores.models import Membership, Role

    user = get_user_model().objects.create_user(name.lower(), password=None, first_name=name)
    Membership.objects.create(user=user, organization=store.organization, store=store, role=Role.ASSOCIATE)
    return Actor.staff(user)


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation): p99 of 200 samples is the 198th smallest."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))  # ceil
    return ordered[int(rank) - 1]


def summary_ms(values_s: list[float]) -> str:
    ms = [v * 1000 for v in values_s]
    return (
        f"n={len(ms)}  p50={percentile(ms, 50):.1f} ms  p95={percentile(ms, 95):.1f} ms  "
        f"p99={percentile(ms, 99):.1f} ms  max={max(ms):.1f} ms  mean={statistics.fmean(ms):.1f} ms"
    )

"""Full order lifecycles through the Integration API in production shape: many stores' tills at once.

PostgreSQL (default): a throw-away database on 127.0.0.1:5432 gets S stores (default 20) of one
organization, each with its stock, a drop zone and its own store API key. `shelfcall serve --workers W`,
`shelfcall worker` and Debian's nginx with the shipped deploy/nginx.conf in front are started on it. Each
store is one till (one keep-alive HTTP client, through nginx) running lifecycles one after another, as
api_throughput.py runs them: create (POST /orders, source pos, 1-3 lines) -> claim -> pick each line ->
ready for pickup -> mark paid -> hand off. Rate limits are on, as in production (the key's limit raised
so it never refuses).

--sqlite: the embedded default instead, one `shelfcall serve` process on SQLite with its worker inside,
no nginx (item 5 of the "Prove it" issue).

It prints orders/s, p50/p99 per step and per order, and per order: SQL statements (counted by the
app's processes, SHELFCALL_COUNT_STATEMENTS, BEGIN/COMMIT excluded), transactions (the database's
xact_commit + xact_rollback, PostgreSQL only), and CPU split into web processes, worker, PostgreSQL
backends (this database's, /proc), nginx and the load generator (psutil). All share this machine's cores.

Run: .venv/bin/python benchmarks/http_lifecycle.py [--stores 20] [--orders 600] [--workers 2] [--sqlite]
"""

import argparse
import asyncio
import contextlib
import os
import tempfile
import time
from pathlib import Path

import httpx
import psutil
from _common import MACHINE_NOTE, bench_environment, create_database, make_store, migrate, setup_django, summary_ms
from _server import (
    finish_run,
    free_port,
    pid_tree_cpu_seconds,
    start_nginx,
    start_server,
    start_worker,
    stop_server,
    wait_until_serving,
)
from api_throughput import LIFECYCLE_STEPS, Tally, lifecycle


def seed_stores(count: int, *, stock: int) -> tuple[list[tuple[str, int]], list[str]]:
    """`count` stores sharing one catalogue, each with its stock, a drop zone and a store key with every
    scope: [(key, drop zone id)] and the SKUs."""
    from shelfcall.api.keys import issue_key
    from shelfcall.api.scopes import Scope
    from shelfcall.catalog.models import StockLevel
    from shelfcall.stores.models import DropZone

    bench = make_store(showcases=2, products_per_showcase=25, stock=stock)
    products = [product for _showcase, some in bench.showcases for product in some]
    tills = []
    for n in range(count):
        store = bench.store
        if n:  # the first is make_store's; the others copy its settings (limits, currency, time zone)
            store.pk, store.slug, store.name = None, f"bench-{n}", f"Bench Store {n}"
            store._state.adding = True
            store.save()
            StockLevel.objects.bulk_create(StockLevel(store=store, product=p, on_hand=stock) for p in products)
        drop_zone = bench.drop_zone if not n else DropZone.objects.create(store=store, name="Customer Service desk")
        key = issue_key(organization=store.organization, store=store, name=f"till {n}", scopes=list(Scope))
        tills.append((key.plaintext, drop_zone.pk))
    return tills, [product.sku for product in products]


class Measure:
    """CPU seconds by role, statements by command and the database's transactions, read before and after."""

    def __init__(self, roles: dict[str, list[int]], metrics_dir: Path, db_name: str | None) -> None:
        self.roles, self.metrics_dir, self.db_name = roles, metrics_dir, db_name

    def read(self) -> dict[str, float]:
        figures = {f"cpu {role}": pid_tree_cpu_seconds(pids) for role, pids in self.roles.items()}
        me = psutil.Process().cpu_times()
        figures["cpu load generator"] = me.user + me.system
        figures |= self._statements()
        if self.db_name:
            figures |= self._database()
        return figures

    def _statements(self) -> dict[str, float]:
        from prometheus_client import CollectorRegistry
        from prometheus_client.multiprocess import MultiProcessCollector

        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(self.metrics_dir))
        counted = {}
        for family in registry.collect():
            for sample in family.samples:
                if sample.name == "shelfcall_sql_statements_total":
                    counted[f"statements {sample.labels['command']}"] = sample.value
        return counted

    def _database(self) -> dict[str, float]:
        """Transactions from pg_stat_database; CPU of this database's backends from /proc."""
        import psycopg
        from _common import PG_HOST, PG_PORT, PG_USER

        with psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", autocommit=True) as conn:
            xacts = conn.execute(
                "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s", [self.db_name]
            ).fetchone()[0]
            backends = [
                pid for (pid,) in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [self.db_name])
            ]
        cpu = {}
        for pid in backends:
            with contextlib.suppress(psutil.Error):
                times = psutil.Process(pid).cpu_times()
                cpu[pid] = times.user + times.system
        return {"transactions": float(xacts), **{f"backend {pid}": seconds for pid, seconds in cpu.items()}}


def differences(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """After minus before; a backend that started meanwhile counts from 0, one that ended is lost (pooled
    connections live as long as their server, so few do)."""
    change = {name: value - before.get(name, 0.0) for name, value in after.items()}
    backends = [name for name in change if name.startswith("backend ")]
    if "transactions" in change:  # PostgreSQL
        change["cpu PostgreSQL backends"] = sum(change.pop(name) for name in backends)
    return change


async def run_tills(base_url: str, tills: list[tuple[str, int]], skus: list[str], total: int, first: int):
    """Each till runs lifecycles one after another until `total` have started; returns (tally, order times)."""
    tally, order_seconds, numbers = Tally(), [], iter(range(first, first + total))

    async def till(key: str, drop_zone_id: int) -> None:
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=60.0) as client:
            for n in numbers:  # shared: each lifecycle runs once, on whichever till is free
                started = time.perf_counter()
                if await lifecycle(client, tally, n, skus, drop_zone_id):
                    order_seconds.append(time.perf_counter() - started)

    await asyncio.gather(*(till(key, drop_zone_id) for key, drop_zone_id in tills))
    return tally, order_seconds


def report(tally: Tally, order_seconds: list[float], seconds: float, change: dict[str, float]) -> None:
    done = len(order_seconds)
    print(f"\n{done} complete orders in {seconds:.1f} s = {done / seconds:.1f} orders/s")
    if not done:
        return
    for step in LIFECYCLE_STEPS:
        if tally.latencies.get(step):
            print(f"  {step:<9} {summary_ms(tally.latencies[step])}")
    print(f"  order     {summary_ms(order_seconds)}")
    calls = sum(len(values) for values in tally.latencies.values())
    print(f"per order ({calls / done:.1f} API calls):")
    for name in sorted(change):
        if name.startswith("statements"):
            print(f"  SQL {name}: {change[name] / done:.1f}")
    if "transactions" in change:
        print(f"  transactions (xact_commit + xact_rollback, all clients): {change['transactions'] / done:.1f}")
    cpu = {name.removeprefix("cpu "): value for name, value in change.items() if name.startswith("cpu ")}
    print("  CPU: " + ", ".join(f"{role} {1000 * value / done:.1f} ms" for role, value in cpu.items()), end="")
    print(f"; total {1000 * sum(cpu.values()) / done:.1f} ms")
    for what, n in tally.errors.most_common():
        print(f"  error x{n}: {what}")
    if tally.first_error:
        print(f"  first error: {tally.first_error}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stores", type=int, default=20, help="stores, each one till running lifecycles")
    parser.add_argument("--orders", type=int, default=600, help="lifecycles measured (after one per store to warm up)")
    parser.add_argument("--workers", type=int, default=2, help="serving processes (`shelfcall serve --workers`)")
    parser.add_argument("--sqlite", action="store_true", help="the embedded default: one process on SQLite")
    parser.add_argument("--db", default="shelfcall_bench_http", help="PostgreSQL database to create and drop")
    parser.add_argument("--keep-log", action="store_true", help="keep the logs and print their folder")
    args = parser.parse_args()

    env = bench_environment(args.db) | {"SHELFCALL_API_RATE_PER_MINUTE": "100000000", "SHELFCALL_RATELIMIT": "true"}
    if args.sqlite:
        env.pop("DATABASE_URL")
    data_dir = Path(env["SHELFCALL_DATA_DIR"])
    metrics_dir = Path(tempfile.mkdtemp(prefix="metrics-", dir=data_dir))
    # Only the app's processes count statements and share the metrics folder; this one reads it.
    app_env = env | {"SHELFCALL_COUNT_STATEMENTS": "1", "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    log_path = data_dir / "server.log"
    server = worker = nginx = None
    began = time.perf_counter()
    if not args.sqlite:
        create_database(args.db)
    try:
        setup_django(env)
        from django.db import connections

        migrate()
        tills, skus = seed_stores(args.stores, stock=10 * (args.orders + args.stores) + 1000)
        connections.close_all()
        port = free_port()
        server = start_server(app_env, port, log_path, workers=1 if args.sqlite else args.workers)
        wait_until_serving(server, port)
        roles = {"web": [server.pid]}
        base_url = f"http://127.0.0.1:{port}"
        if not args.sqlite:
            worker = start_worker(app_env, data_dir / "worker.log")
            listen = free_port()
            nginx = start_nginx(data_dir / "nginx", [port, port], listen)
            roles |= {"worker": [worker.pid], "nginx": [nginx.pid]}
            base_url = f"http://127.0.0.1:{listen}"
            wait_until_serving(nginx, listen)
        shape = (
            "SQLite, one process (worker inside)"
            if args.sqlite
            else f"PostgreSQL, nginx + {args.workers} serving processes + worker"
        )
        print(f"{MACHINE_NOTE}; load average {os.getloadavg()[0]:.1f}\n{shape}, {args.stores} stores' tills at once")

        asyncio.run(run_tills(base_url, tills, skus, args.stores, first=0))  # warm: pools, caches, imports
        measure = Measure(roles, metrics_dir, None if args.sqlite else args.db)
        time.sleep(1.5)  # PostgreSQL publishes a backend's transaction counts at most once a second
        before, started = measure.read(), time.perf_counter()
        tally, order_seconds = asyncio.run(run_tills(base_url, tills, skus, args.orders, first=args.stores))
        seconds = time.perf_counter() - started
        time.sleep(1.5)
        report(tally, order_seconds, seconds, differences(before, measure.read()))
    finally:
        for process in (nginx, worker):
            if process is not None:
                stop_server(process)
        finish_run(server, log_path, args.db, keep_log=args.keep_log, began=began)


if __name__ == "__main__":
    main()

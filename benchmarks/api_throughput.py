"""The Integration API under load: barcode look-ups per second and full lifecycles per second, over HTTP.

A fresh PostgreSQL database gets one store with a catalogue of large stock and one store API key with
every scope. `shelfcall serve --workers W` is started on it, and C concurrent HTTP clients of this
process (one `httpx.AsyncClient`, keep-alive connections) then:

1. look orders up by barcode (`GET /api/v1/orders/by-code/SC<n>`, as a till does) for a fixed time;
2. run full lifecycles through the API only, as a POS with its own screens would:
   create (POST /orders, source pos) -> claim -> pick each line -> ready for pickup -> mark paid -> hand off.

Server, load generator and PostgreSQL share this machine's cores; the figures include that. It prints
the rates, latency percentiles per step, the server's CPU seconds per lifecycle, and every error seen.

Run: .venv/bin/python benchmarks/api_throughput.py [--workers 2] [--clients 16] [--lookup-seconds 10]
                                                    [--lifecycles 400]
"""

import argparse
import asyncio
import contextlib
import random
import time
from collections import Counter, defaultdict
from pathlib import Path

import httpx
from _common import (
    MACHINE_NOTE,
    bench_environment,
    create_database,
    make_store,
    migrate,
    setup_django,
    summary_ms,
)
from _server import finish_run, free_port, process_group_cpu_seconds, start_server, wait_until_serving

LIFECYCLE_STEPS = ("create", "claim", "pick", "ready", "pay", "hand off")


class Tally:
    """Latencies per step and errors by (step, status, code), shared by the clients of one phase."""

    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: Counter[str] = Counter()
        self.first_error = ""

    async def call(self, client: httpx.AsyncClient, step: str, method: str, url: str, **kwargs) -> dict | None:
        started = time.perf_counter()
        try:
            response = await client.request(method, url, **kwargs)
        except httpx.HTTPError as error:
            self._fail(step, type(error).__name__, str(error))
            return None
        self.latencies[step].append(time.perf_counter() - started)
        if response.status_code >= 400:
            self._fail(step, f"{response.status_code} {_error_code(response)}", response.text[:300])
            return None
        return response.json()

    def _fail(self, step: str, what: str, detail: str) -> None:
        self.errors[f"{step}: {what}"] += 1
        self.first_error = self.first_error or f"{step}: {detail}"


def _error_code(response: httpx.Response) -> str:
    with contextlib.suppress(ValueError, AttributeError):
        return response.json()["error"]["code"]
    return "(not the API's error shape)"


def seed(orders: int, *, stock: int) -> tuple[object, str, list[str], list[str]]:
    """The store, a key with every scope, `orders` barcodes to look up, and the SKUs to order."""
    from shelfcall.api.keys import issue_key
    from shelfcall.api.scopes import Scope
    from shelfcall.orders import actions
    from shelfcall.orders.actions import CartLine, ShopperContact

    bench = make_store(showcases=4, products_per_showcase=25, stock=stock)
    key = issue_key(organization=bench.store.organization, store=bench.store, name="bench", scopes=list(Scope))
    rng = random.Random(7)
    codes = []
    for n in range(orders):
        showcase, products = bench.showcases[n % len(bench.showcases)]
        lines = [CartLine(product.pk, rng.randint(1, 2), product.price) for product in rng.sample(products, 2)]
        order = actions.submit_showcase_order(
            showcase, lines, contact=ShopperContact(name="Bench"), submission_key=f"seed-{n}", device_id=f"d{n}"
        )
        codes.append(order.barcode_value)
    skus = [product.sku for _showcase, products in bench.showcases for product in products]
    return bench, key.plaintext, codes, skus


async def look_up(client: httpx.AsyncClient, tally: Tally, codes: list[str], stop_at: float, seed: int) -> int:
    rng, done = random.Random(seed), 0
    while time.perf_counter() < stop_at:
        if await tally.call(client, "look up", "GET", f"/api/v1/orders/by-code/{rng.choice(codes)}") is not None:
            done += 1
    return done


async def lifecycle(client: httpx.AsyncClient, tally: Tally, n: int, skus: list[str], drop_zone_id: int) -> bool:
    """One order through the API, as a POS with its own screens would drive it. False at the first refusal."""
    rng = random.Random(n)
    body = {
        "source": "pos",
        "external_id": f"bench-{n}",
        "lines": [{"sku": sku, "qty": rng.randint(1, 2)} for sku in rng.sample(skus, rng.randint(1, 3))],
        "customer": {"name": "Bench", "phone": "+33600000000"},
    }
    order = await tally.call(client, "create", "POST", "/api/v1/orders", json=body)
    if order is None:
        return False
    base = f"/api/v1/orders/{order['id']}"
    if await tally.call(client, "claim", "POST", f"{base}/claim", json={}) is None:
        return False
    for line in order["lines"]:
        picked = await tally.call(
            client, "pick", "POST", f"{base}/lines/{line['id']}/pick", json={"qty": line["requested"]}
        )
        if picked is None:
            return False
    steps = [
        ("ready", f"{base}/ready-for-pickup", {"drop_zone_id": drop_zone_id}),
        ("pay", f"{base}/mark-paid", {"method": "card", "reference": f"bench-{n}"}),
        ("hand off", f"{base}/hand-off", {"pickup_code": order["barcode"]}),
    ]
    for step, url, payload in steps:
        if await tally.call(client, step, "POST", url, json=payload) is None:
            return False
    return True


async def run_lifecycles(client: httpx.AsyncClient, tally: Tally, total: int, clients: int, skus, drop_zone_id) -> int:
    numbers = iter(range(total))
    completed = 0

    async def one_client() -> None:
        nonlocal completed
        for n in numbers:  # one shared iterator: each lifecycle runs once, whichever client is free
            done = await lifecycle(client, tally, n, skus, drop_zone_id)
            completed += done  # after the await: `completed += await …` would add to a stale value

    await asyncio.gather(*(one_client() for _ in range(clients)))
    return completed


def print_phase(name: str, count: int, seconds: float, cpu_s: float, tally: Tally, unit: str) -> None:
    print(f"\n== {name} ==")
    print(f"{count} {unit} in {seconds:.1f} s = {count / seconds:.1f} {unit}/s; server CPU {cpu_s:.1f} s", end="")
    print(f" = {1000 * cpu_s / count:.1f} ms per {unit[:-1]}" if count else "")
    for step, values in tally.latencies.items():
        print(f"  {step:<9} {summary_ms(values)}")
    for what, n in tally.errors.most_common():
        print(f"  error x{n}: {what}")
    if tally.first_error:
        print(f"  first error: {tally.first_error}")


async def measure(port: int, key: str, codes: list[str], skus: list[str], drop_zone_id: int, server_pgid: int, args):
    limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", headers=headers, limits=limits, timeout=30.0
    ) as client:
        tally, cpu_before, started = Tally(), process_group_cpu_seconds(server_pgid), time.perf_counter()
        stop_at = started + args.lookup_seconds
        counts = await asyncio.gather(*(look_up(client, tally, codes, stop_at, i) for i in range(args.clients)))
        elapsed = time.perf_counter() - started
        cpu = process_group_cpu_seconds(server_pgid) - cpu_before
        print_phase("barcode look-ups", sum(counts), elapsed, cpu, tally, "look-ups")

        tally, cpu_before, started = Tally(), process_group_cpu_seconds(server_pgid), time.perf_counter()
        done = await run_lifecycles(client, tally, args.lifecycles, args.clients, skus, drop_zone_id)
        elapsed = time.perf_counter() - started
        cpu = process_group_cpu_seconds(server_pgid) - cpu_before
        print_phase("full lifecycles over the API", done, elapsed, cpu, tally, "lifecycles")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2, help="serving processes (`shelfcall serve --workers`)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent HTTP clients")
    parser.add_argument("--lookup-seconds", type=float, default=10.0)
    parser.add_argument("--lifecycles", type=int, default=400)
    parser.add_argument("--seed-orders", type=int, default=500, help="orders to look up")
    parser.add_argument("--db", default="shelfcall_bench_api", help="database to create and drop")
    parser.add_argument("--keep-log", action="store_true", help="keep the server log and print its path")
    args = parser.parse_args()

    env = bench_environment(args.db) | {"SHELFCALL_API_RATE_PER_MINUTE": "100000000"}
    log_path = Path(env["SHELFCALL_DATA_DIR"]) / "server.log"  # finish_run removes its folder
    server, began = None, time.perf_counter()
    create_database(args.db)
    try:
        setup_django(env)
        from django.db import connections

        migrate()
        bench, key, codes, skus = seed(args.seed_orders, stock=10 * args.lifecycles + 1000)
        connections.close_all()
        port = free_port()
        server = start_server(env, port, log_path, workers=args.workers)
        wait_until_serving(server, port)
        print(f"{MACHINE_NOTE}\nserver: {args.workers} serving process(es), {args.clients} clients")
        asyncio.run(measure(port, key, codes, skus, bench.drop_zone.pk, server.pid, args))
    finally:
        finish_run(server, log_path, args.db, keep_log=args.keep_log, began=began)


if __name__ == "__main__":
    main()

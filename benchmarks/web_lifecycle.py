"""Full orders through the pages, as a shopper's phone and an associate's browser drive them.

A fresh database gets one store (one showcase, a few products with large stock, a drop zone) and C
associates with passwords. `shelfcall serve --workers W` and `shelfcall worker` are started on it
(with `--nginx`: two `serve` processes behind Debian's nginx running the shipped `deploy/nginx.conf`,
as tests/ops/test_nginx.py runs it). C lanes then each sign one associate in through the login page
(its own cookie jar, kept) and run orders one after another; each order is a new phone (a new
cookie jar) and 20 page requests, redirects followed one by one as a browser does, every form sent
with the CSRF token the page rendered:

  shopper:   showcase, add (POST, 302), showcase, cart, submit (POST, 302), status page
  associate: queue, order page, Picking (POST, 302), order page, scan (POST, 302), order page,
             1x for Customer (POST, 302), order page, Mark Paid (POST, 302), order page,
             hand-off form, hand-off review (POST), Mark Picked Up (POST, 302), order page

Not loaded: static files (a browser has them cached after its first page) and the live streams the
pages open (they are measured by sse_latency.py).

What it counts, and how:
- SQL statements per page: the server runs with SHELFCALL_COUNT_STATEMENTS=true, which makes every
  response carry the number of statements Django executed for it (core/middleware.py). Django's
  BEGIN/COMMIT and the pool's connection check are not statements it executes, so they are not in it;
  a server-side cursor's FETCH and CLOSE would not be either (the settings turn those cursors off).
- transactions and new database connections: pg_stat_database (xact_commit + xact_rollback, and
  `sessions`, the connections ever opened to the database), read before and after on one connection
  held open for the purpose. They include the worker's work and its connections.
- per page new connections: a first order run alone, page by page, reading `sessions` after each.
- CPU by process (psutil / /proc): the web processes (the serve group), the worker, this load
  generator, and PostgreSQL's backends for this database (sampled every 0.2 s; a backend that ends
  between samples loses its last share, which a pool makes rare: the figure is a lower bound).

`--sqlite`: one `shelfcall serve` on the embedded SQLite default (worker inside, item 5); no
PostgreSQL figures then, and a request's "connection" is a file opened in-process.

Server, load generator and PostgreSQL share this machine's cores: throughput and latency include
that contention (and other people's work); statements and CPU per order do not depend on it.

Run: .venv/bin/python benchmarks/web_lifecycle.py [--workers 2] [--clients 8] [--orders 200]
                                                  [--nginx] [--sqlite] [--keep-log]
"""

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import subprocess
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
from _common import (
    MACHINE_NOTE,
    PG_HOST,
    PG_PORT,
    PG_USER,
    VENV_BIN,
    bench_environment,
    create_database,
    make_store,
    migrate,
    percentile,
    setup_django,
)
from _server import (
    finish_run,
    free_port,
    process_group_cpu_seconds,
    start_nginx,
    start_server,
    stop_server,
    wait_until_serving,
)

PASSWORD = "bench-only-password-0123"
PAGES = (
    "showcase",
    "add",
    "showcase again",
    "cart",
    "submit",
    "status",
    "queue",
    "order",
    "claim",
    "order after claim",
    "scan",
    "order after scan",
    "stage",
    "order after stage",
    "pay",
    "order after pay",
    "hand-off form",
    "hand-off review",
    "hand-off confirm",
    "order after hand-off",
)
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_HIDDEN = re.compile(r'type="hidden" name="([^"]+)" value="([^"]*)"')


class Refused(Exception):
    """A page did not answer as a browser expects; the order is abandoned and counted."""


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statements: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    order_seconds: list[float] = field(default_factory=list)
    order_statements: list[int] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    first_error: str = ""


class Browser:
    """One cookie jar, as one phone or one associate's browser; every page timed and counted."""

    def __init__(self, base: str, tally: Tally, on_page=None) -> None:
        self.client = httpx.AsyncClient(base_url=base, timeout=30.0)
        self.tally, self.on_page = tally, on_page
        self.html, self.url, self.statements = "", "", 0

    async def close(self) -> None:
        await self.client.aclose()

    async def get(self, page: str, url: str) -> str:
        return await self._load(page, "GET", url, None)

    async def submit(self, page: str, url: str, data: dict, then: str = "") -> str:
        """Send a form of the page last loaded (its CSRF token added); follow the redirect as `then`."""
        token = _CSRF.search(self.html)
        if token is None:
            raise Refused(f"{page}: the page before it has no form token")
        body = await self._load(page, "POST", url, {"csrfmiddlewaretoken": token.group(1), **data})
        if then:
            if not self.location:
                raise Refused(f"{page}: no redirect")
            body = await self.get(then, self.location)
        return body

    async def _load(self, page: str, method: str, url: str, data: dict | None) -> str:
        headers = {"Referer": str(self.client.base_url.join(self.url or url))}
        started = time.perf_counter()
        response = await self.client.request(method, url, data=data, headers=headers)
        self.tally.latencies[page].append(time.perf_counter() - started)
        statements = int(response.headers.get("X-Shelfcall-Statements", "0"))
        self.tally.statements[page].append(statements)
        self.statements += statements
        if self.on_page:
            self.on_page(page)
        if response.status_code >= 400:
            raise Refused(f"{page}: {response.status_code} {response.text[:200]!r}")
        self.location = response.headers.get("Location", "") if response.is_redirect else ""
        if not response.is_redirect:
            self.html, self.url = response.text, url
        return response.text


async def sign_in(base: str, tally: Tally, username: str) -> Browser:
    associate = Browser(base, Tally())  # signing in is once per shift, not part of an order
    await associate.get("login", "/w/login")
    await associate.submit("login", "/w/login", {"username": username, "password": PASSWORD}, then="after login")
    if 'href="/w/orders/' not in associate.html and "queue" not in associate.html:
        raise RuntimeError(f"{username} could not sign in")
    associate.tally = tally
    return associate


async def one_order(base: str, associate: Browser, tally: Tally, code: str, product_id: int, upc: str, on_page=None):
    phone = Browser(base, tally, on_page)
    associate.tally, associate.on_page, associate.statements = tally, on_page, 0
    started = time.perf_counter()
    try:
        await phone.get("showcase", f"/s/{code}")
        await phone.submit("add", f"/s/{code}/add", {"product": str(product_id)}, then="showcase again")
        cart = await phone.get("cart", f"/s/{code}/cart")
        key = re.search(r'name="submission_key" value="([^"]+)"', cart)
        if key is None:
            raise Refused("cart: no submission key")
        status = await phone.submit(
            "submit", f"/s/{code}/submit", {"submission_key": key.group(1), "name": "Bench"}, then="status"
        )
        number = re.search(r'<span class="barcode-number">SC(\d+)</span>', status)  # as the till scans it
        if number is None:
            raise Refused("status: no order number")
        queue = await associate.get("queue", "/w/")
        link = re.search(
            rf'href="(/w/orders/\d+)" class="queue-link">\s*<span class="queue-number">#{number.group(1)}<', queue
        )
        if link is None:
            raise Refused(f"queue: order #{number.group(1)} not listed")
        order = link.group(1)
        await associate.get("order", order)
        await associate.submit("claim", f"{order}/claim", {}, then="order after claim")
        page = await associate.submit("scan", f"{order}/scan", {"code": upc}, then="order after scan")
        zone = re.search(r'name="drop_zone" value="(\d+)"', page)
        await associate.submit(
            "stage",
            f"{order}/stage",
            {"drop_zone": zone.group(1) if zone else "", "note": ""},
            then="order after stage",
        )
        await associate.submit("pay", f"{order}/pay", {"reference": ""}, then="order after pay")
        await associate.get("hand-off form", f"{order}/handoff")
        review = await associate.submit("hand-off review", f"{order}/handoff", {"pickup_code": f"SC{number.group(1)}"})
        hidden = {name: value for name, value in _HIDDEN.findall(review) if name != "csrfmiddlewaretoken"}
        done = await associate.submit(
            "hand-off confirm", f"{order}/handoff", {**hidden, "confirm": "yes"}, then="order after hand-off"
        )
        if "Completed" not in done and "completed" not in done:
            raise Refused("hand-off: the order page does not say completed")
    except (Refused, httpx.HTTPError) as error:
        tally.errors[str(error).split(":")[0]] += 1
        tally.first_error = tally.first_error or str(error)
        return False
    finally:
        await phone.close()
    tally.order_seconds.append(time.perf_counter() - started)
    tally.order_statements.append(phone.statements + associate.statements)
    return True


class PgStats:
    """pg_stat_database for the benchmark's database, read on one connection opened once."""

    def __init__(self, db_name: str) -> None:
        import psycopg

        self.db_name = db_name
        self.conn = psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", autocommit=True)

    def read(self) -> dict[str, int]:
        self.conn.execute("SELECT pg_stat_clear_snapshot()")
        row = self.conn.execute(
            "SELECT xact_commit + xact_rollback, sessions, numbackends FROM pg_stat_database WHERE datname = %s",
            [self.db_name],
        ).fetchone()
        return {"transactions": row[0], "sessions": row[1], "backends": row[2]}

    def backend_pids(self) -> list[int]:
        rows = self.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [self.db_name]
        ).fetchall()
        return [pid for (pid,) in rows]

    def close(self) -> None:
        self.conn.close()


class BackendCpu:
    """CPU seconds of this database's PostgreSQL backends since `start`, sampled in a thread."""

    def __init__(self, stats: PgStats) -> None:
        self.stats, self._stop = stats, threading.Event()
        self.base: dict[int, float] = {}  # what each backend had used at the start (0 for later ones)
        self.last: dict[int, float] = {}
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self, *, first: bool = False) -> None:
        for pid in self.stats.backend_pids():
            with contextlib.suppress(psutil.Error):
                times = psutil.Process(pid).cpu_times()
                self.last[pid] = times.user + times.system
                self.base.setdefault(pid, self.last[pid] if first else 0.0)

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self._sample()

    def start(self) -> None:
        self._sample(first=True)
        self._thread.start()

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        self._sample()
        return sum(self.last[pid] - self.base.get(pid, 0.0) for pid in self.last)


def seed(clients: int, stock: int):
    from django.contrib.auth import get_user_model

    from shelfcall.stores.models import Membership, Role

    bench = make_store(showcases=1, products_per_showcase=5, stock=stock)
    store = bench.store
    for n in range(clients):
        user = get_user_model().objects.create_user(f"associate{n}", password=PASSWORD, first_name=f"Associate {n}")
        Membership.objects.create(user=user, organization=store.organization, store=store, role=Role.ASSOCIATE)
    showcase, products = bench.showcases[0]
    return showcase.code, [(product.pk, product.upc) for product in products]


def process_cpu(pid: int) -> float:
    with contextlib.suppress(psutil.Error):
        times = psutil.Process(pid).cpu_times()
        return times.user + times.system
    return 0.0


async def measure(base: str, args, code: str, products, groups: dict, stats: PgStats | None) -> None:
    lanes = [await sign_in(base, Tally(), f"associate{n}") for n in range(args.clients)]

    # One order alone, page by page: statements and new database connections of each page.
    alone, per_page_sessions = Tally(), {}
    if stats is not None:
        before = {"s": stats.read()["sessions"]}

        def note_sessions(page: str) -> None:
            now = stats.read()["sessions"]
            per_page_sessions[page] = now - before["s"]
            before["s"] = now

        on_page = note_sessions
    else:
        on_page = None
    for n in range(args.warm_orders):  # the first orders warm each process's pool, caches and templates
        product_id, upc = products[n % len(products)]
        await one_order(base, lanes[0], Tally(), code, product_id, upc)
    product_id, upc = products[0]
    await one_order(base, lanes[0], alone, code, product_id, upc, on_page)
    lanes[0].on_page = None
    print_alone(alone, per_page_sessions)

    # C lanes at once.
    tally, numbers = Tally(), iter(range(args.orders))
    for lane in lanes:
        lane.tally = tally
    cpu_before = {name: read() for name, read in groups.items()}
    pg_before = stats.read() if stats else None
    backends = BackendCpu(stats) if stats else None
    if backends:
        backends.start()
    started = time.perf_counter()
    completed = 0

    async def run_lane(lane: Browser) -> None:
        nonlocal completed
        for n in numbers:
            product_id, upc = products[n % len(products)]
            done = await one_order(base, lane, tally, code, product_id, upc)
            completed += done

    await asyncio.gather(*(run_lane(lane) for lane in lanes))
    elapsed = time.perf_counter() - started
    cpu = {name: read() - cpu_before[name] for name, read in groups.items()}
    if backends:
        cpu["PostgreSQL backends"] = backends.stop()
    pg_after = stats.read() if stats else None
    for lane in lanes:
        await lane.close()
    print_run(args, tally, completed, elapsed, cpu, pg_before, pg_after)


def print_alone(tally: Tally, sessions: dict[str, int]) -> None:
    print("\n== one order alone, page by page ==")
    print(f"{'page':<22}{'ms':>8}{'statements':>12}{'new conns':>11}")
    for page in PAGES:
        if page in tally.latencies:
            conns = str(sessions[page]) if page in sessions else "-"
            ms = 1000 * tally.latencies[page][-1]
            print(f"{page:<22}{ms:>8.1f}{tally.statements[page][-1]:>12}{conns:>11}")
    if tally.order_statements:
        total = f"{sum(sessions.values())}" if sessions else "-"
        print(f"{'whole order':<22}{1000 * tally.order_seconds[-1]:>8.1f}{tally.order_statements[-1]:>12}{total:>11}")
    for what, n in tally.errors.items():
        print(f"  refused x{n}: {what}   first: {tally.first_error}")


def print_run(args, tally: Tally, completed: int, elapsed: float, cpu: dict, pg_before, pg_after) -> None:
    print(f"\n== {args.clients} lanes at once ==")
    rate = completed / elapsed if elapsed else 0
    print(f"{completed} complete orders in {elapsed:.1f} s = {rate:.1f} orders/s (busy-machine figure, see below)")
    if completed:
        print(
            f"per order: p50 {1000 * percentile(tally.order_seconds, 50):.0f} ms, "
            f"p99 {1000 * percentile(tally.order_seconds, 99):.0f} ms; "
            f"SQL statements {sum(tally.order_statements) / completed:.1f} (Django's, from the response headers)"
        )
        if pg_before and pg_after:
            per = {key: (pg_after[key] - pg_before[key]) / completed for key in ("transactions", "sessions")}
            print(
                f"per order (pg_stat_database, worker included): {per['transactions']:.1f} transactions, "
                f"{per['sessions']:.2f} new database connections; backends now {pg_after['backends']}"
            )
        total = sum(cpu.values())
        parts = ", ".join(f"{name} {1000 * seconds / completed:.1f}" for name, seconds in cpu.items())
        print(f"CPU per order: {1000 * total / completed:.1f} ms = {parts} (ms)")
    print(f"{'page':<22}{'n':>6}{'p50 ms':>9}{'p99 ms':>9}{'statements':>12}")
    for page in PAGES:
        values = tally.latencies.get(page)
        if values:
            ms = [1000 * v for v in values]
            mean_statements = sum(tally.statements[page]) / len(tally.statements[page])
            print(f"{page:<22}{len(ms):>6}{percentile(ms, 50):>9.1f}{percentile(ms, 99):>9.1f}{mean_statements:>12.1f}")
    for what, n in tally.errors.most_common():
        print(f"  refused x{n}: {what}")
    if tally.first_error:
        print(f"  first refusal: {tally.first_error}")
    print(MACHINE_NOTE + f"; load average now {os.getloadavg()[0]:.1f}")


@contextlib.contextmanager
def nginx_in_front(ports: list[int], folder: Path):
    """deploy/nginx.conf as the nginx test runs it: only its upstream servers and its port changed."""
    port = free_port()
    try:
        nginx = start_nginx(folder / "nginx", ports, port)
    except RuntimeError as problem:
        raise SystemExit(f"--nginx: {problem}") from None
    try:
        yield port, nginx.pid
    finally:
        nginx.terminate()
        nginx.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--workers", type=int, default=2, help="serving processes (`serve --workers`; split over two with --nginx)"
    )
    parser.add_argument(
        "--clients", type=int, default=8, help="lanes: associates signed in, each running orders in turn"
    )
    parser.add_argument("--orders", type=int, default=200, help="orders run by the lanes together")
    parser.add_argument("--warm-orders", type=int, default=4, help="orders run first, not measured")
    parser.add_argument("--nginx", action="store_true", help="two `serve` processes behind deploy/nginx.conf")
    parser.add_argument("--sqlite", action="store_true", help="one process on the embedded SQLite default")
    parser.add_argument(
        "--server-command", default="", help="serve through this command instead ({port}, {python} filled in)"
    )
    parser.add_argument("--db", default="shelfcall_bench_web", help="database to create and drop")
    parser.add_argument("--keep-log", action="store_true", help="keep the server logs and print their folder")
    args = parser.parse_args()

    env = bench_environment(args.db) | {"SHELFCALL_COUNT_STATEMENTS": "true"}
    if args.sqlite:
        del env["DATABASE_URL"]
        os.environ.pop("DATABASE_URL", None)
    folder = Path(env["SHELFCALL_DATA_DIR"])
    log_path = folder / "server.log"  # finish_run removes its folder
    servers: list[subprocess.Popen] = []
    worker = None
    began = time.perf_counter()
    if not args.sqlite:
        create_database(args.db)
    stats = None
    try:
        setup_django(env)
        from django.db import connections

        migrate()
        code, products = seed(args.clients, stock=10 * args.orders + 1000)
        connections.close_all()
        groups = {"load generator": lambda: process_cpu(os.getpid())}
        if args.sqlite:
            port = free_port()
            servers.append(start_server(env, port, log_path, args.server_command))
            wait_until_serving(servers[0], port)
            shape = "one `shelfcall serve` on SQLite (worker inside)"
        else:
            stats = PgStats(args.db)
            ports = [free_port() for _ in range(2 if args.nginx else 1)]
            per_server = max(1, args.workers // len(ports))
            for n, port in enumerate(ports):
                servers.append(
                    start_server(
                        env, port, folder / f"server{n}.log" if n else log_path, args.server_command, per_server
                    )
                )
            worker = start_server(env, 0, folder / "worker.log", command=f"{VENV_BIN / 'shelfcall'} worker")
            for server, port in zip(servers, ports, strict=True):
                wait_until_serving(server, port)
            shape = f"{len(ports)} x `serve --workers {per_server}` + `shelfcall worker` on PostgreSQL"
            groups["worker"] = lambda: process_group_cpu_seconds(worker.pid)
        groups["web processes"] = lambda: sum(process_group_cpu_seconds(server.pid) for server in servers)
        with contextlib.ExitStack() as stack:
            if args.nginx:
                port, nginx_pid = stack.enter_context(nginx_in_front(ports, folder))
                groups["nginx"] = lambda: process_group_cpu_seconds(nginx_pid)
                shape += ", nginx in front"
            print(f"{MACHINE_NOTE}\n{shape}; {args.clients} lanes, {args.orders} orders")
            asyncio.run(measure(f"http://127.0.0.1:{port}", args, code, products, groups, stats))
    finally:
        if stats:
            stats.close()
        if worker is not None:
            stop_server(worker)
        for extra in servers[1:]:
            stop_server(extra)
        if args.sqlite:
            finish_sqlite(servers[0] if servers else None, folder, args.keep_log, began)
        else:
            finish_run(servers[0] if servers else None, log_path, args.db, keep_log=args.keep_log, began=began)


def finish_sqlite(server, folder: Path, keep_log: bool, began: float) -> None:
    if server is not None:
        stop_server(server)
    if keep_log:
        print(f"logs kept: {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"run time {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()

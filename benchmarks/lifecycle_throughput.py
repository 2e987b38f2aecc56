"""Budget: lifecycle throughput, PostgreSQL, this 2-core machine, load generator included: >= 150 orders/s.

A fresh database gets one store with several showcases of products with large stock. K worker
threads of this one process (each with its own database connection) then run full lifecycles with
the domain actions, as the till, the associates' screens and the shoppers' phones would:
submit -> claim -> pick each line -> stage at a drop zone -> mark paid -> hand off.
Each order has 1-3 lines of 1-2 units. Throughput = completed lifecycles / wall time.

Run: .venv/bin/python benchmarks/lifecycle_throughput.py [--workers 8] [--orders 3000]
"""

import argparse
import random
import threading
import time
from collections import Counter, defaultdict

from _common import (
    MACHINE_NOTE,
    backend_cpu_seconds,
    bench_environment,
    create_database,
    end_run,
    make_staff,
    make_store,
    migrate,
    setup_django,
    summary_ms,
)

BUDGET_ORDERS_PER_S = 150.0
BUDGET_CPU_MS = 13.0  # Python + PostgreSQL per lifecycle: what 150 orders/s on 2 cores leaves
LINES_NOTE = "orders of 1-3 lines, 2 on average"
STEPS = ("submit", "claim", "read lines", "pick", "stage", "pay", "hand off")


class Shared:
    """What the workers share: the order counter, the stop time, and the results."""

    def __init__(self, orders: int, stop_at: float) -> None:
        self.lock = threading.Lock()
        self.remaining = orders
        self.stop_at = stop_at
        self.durations: list[float] = []
        self.step_seconds: dict[str, float] = defaultdict(float)
        self.errors: Counter[str] = Counter()
        self.first_error = ""
        self.backend_cpu_s = 0.0  # CPU of this run's PostgreSQL backends, when /proc shows them
        self.backends_seen = 0
        self.statements = 0  # SQL statements the workers sent (BEGIN and COMMIT are psycopg's, not counted)

    def take(self) -> bool:
        with self.lock:
            if self.remaining <= 0 or time.perf_counter() >= self.stop_at:
                return False
            self.remaining -= 1
            return True


def lifecycle(n: int, worker: int, rng: random.Random, bench, actor, steps: dict[str, float]) -> None:
    from shelfcall.orders import actions
    from shelfcall.orders.actions import CartLine, ShopperContact
    from shelfcall.orders.models import OrderLine

    showcase, products = rng.choice(bench.showcases)
    chosen = rng.sample(products, rng.randint(1, 3))

    t = time.perf_counter()
    order = actions.submit_showcase_order(
        showcase,
        [CartLine(p.pk, rng.randint(1, 2), p.price) for p in chosen],
        contact=ShopperContact(name=f"Shopper {n}"),
        submission_key=f"w{worker}-{n}",
    )
    t = _lap(steps, "submit", t)
    actions.claim_order(order.pk, by=actor)
    t = _lap(steps, "claim", t)
    lines = list(OrderLine.objects.filter(order_id=order.pk).values_list("pk", "requested_qty"))  # the picking screen
    t = _lap(steps, "read lines", t)
    for line_id, qty in lines:
        actions.pick_line(order.pk, line_id, by=actor, qty=qty)
    t = _lap(steps, "pick", t)
    actions.stage_order(order.pk, by=actor, drop_zone=bench.drop_zone)
    t = _lap(steps, "stage", t)
    actions.mark_paid(order.pk, by=actor, reference=f"TILL-{worker}-{n}")
    t = _lap(steps, "pay", t)
    actions.hand_off_order(order.pk, by=actor)
    _lap(steps, "hand off", t)


def as_workspace_actor(actor, look_up_role: bool):
    """The associate as the workspace hands them to the actions: with the role its access check read once
    per request (workspace/views/access.py), so the action does not read the membership again."""
    from shelfcall.orders.events import Actor
    from shelfcall.stores.models import Role

    return actor if look_up_role else Actor.staff(actor.user, Role.ASSOCIATE)


def _lap(steps: dict[str, float], name: str, since: float) -> float:
    now = time.perf_counter()
    steps[name] += now - since
    return now


def worker_loop(worker: int, shared: Shared, bench, actor, start: threading.Barrier, seed: int) -> None:
    from django.db import connection

    rng = random.Random(seed * 1000 + worker)
    durations: list[float] = []
    steps: dict[str, float] = defaultdict(float)
    errors: Counter[str] = Counter()
    first_error = ""
    statements = [0]

    def count(execute, sql, params, many, context):
        statements[0] += 1
        return execute(sql, params, many, context)

    try:
        start.wait()
        connection.execute_wrappers.append(count)  # this thread's connection only
        n = 0
        while shared.take():
            n += 1
            began = time.perf_counter()
            try:
                lifecycle(n, worker, rng, bench, actor, steps)
            except Exception as error:  # counted and shown; a benchmark keeps going
                errors[type(error).__name__] += 1
                first_error = first_error or f"{type(error).__name__}: {error}"
                continue
            durations.append(time.perf_counter() - began)
    finally:
        backend_cpu = backend_cpu_seconds(connection)
        connection.close()
        with shared.lock:
            shared.statements += statements[0]
            if backend_cpu is not None:
                shared.backend_cpu_s += backend_cpu
                shared.backends_seen += 1
            shared.durations += durations
            for name, seconds in steps.items():
                shared.step_seconds[name] += seconds
            shared.errors += errors
            shared.first_error = shared.first_error or first_error


def check_books(bench) -> str:
    """Every completed order took its units out of stock; nothing stays reserved."""
    from django.db.models import Sum

    from shelfcall.catalog.models import StockLevel
    from shelfcall.orders.models import Order, OrderLine

    statuses = dict(Counter(Order.objects.values_list("status", flat=True)))
    stock = StockLevel.objects.filter(store=bench.store).aggregate(on_hand=Sum("on_hand"), reserved=Sum("reserved"))
    handed = OrderLine.objects.filter(order__status="completed").aggregate(n=Sum("picked_qty"))["n"] or 0
    initial = sum(len(products) for _, products in bench.showcases) * bench.stock
    consistent = stock["reserved"] == 0 and initial - stock["on_hand"] == handed
    return f"orders by status {statuses}; stock consistent: {'yes' if consistent else 'NO ' + str(stock)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=8, help="threads, each with its own DB connection")
    parser.add_argument("--orders", type=int, default=3000, help="lifecycles to run")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="stop early after this long")
    parser.add_argument("--showcases", type=int, default=4)
    parser.add_argument("--products", type=int, default=10, help="products per showcase")
    parser.add_argument("--db", default="shelfcall_bench_throughput", help="database to create and drop")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--look-up-role",
        action="store_true",
        help="staff actors without their role, so each action reads the membership (before 2026-12-01 the default)",
    )
    args = parser.parse_args()

    env = bench_environment(args.db)
    began = time.perf_counter()
    create_database(args.db)
    try:
        setup_django(env)
        from django.db import connections

        migrate()
        bench = make_store(showcases=args.showcases, products_per_showcase=args.products, stock=1_000_000)
        actors = [
            as_workspace_actor(make_staff(bench.store, f"Picker{i}"), args.look_up_role) for i in range(args.workers)
        ]
        connections.close_all()

        start = threading.Barrier(args.workers + 1)
        shared = Shared(args.orders, stop_at=float("inf"))
        threads = [
            threading.Thread(target=worker_loop, args=(i, shared, bench, actors[i], start, args.seed), daemon=True)
            for i in range(args.workers)
        ]
        for thread in threads:
            thread.start()
        shared.stop_at = time.perf_counter() + args.max_seconds
        start.wait()
        t0, cpu0 = time.perf_counter(), time.process_time()
        for thread in threads:
            thread.join()
        wall, app_cpu = time.perf_counter() - t0, time.process_time() - cpu0

        done = len(shared.durations)
        rate = done / wall
        print()
        print(f"lifecycle throughput: {args.workers} worker threads in one process, PostgreSQL")
        print(f"  completed lifecycles: {done} in {wall:.1f} s = {rate:.1f} orders/s")
        if done < args.orders:
            missing = args.orders - done
            print(f"  not completed: {missing} (failed, see errors, or --max-seconds {args.max_seconds:.0f} reached)")
        print(f"  one lifecycle's duration: {summary_ms(shared.durations)}" if done else "  nothing completed")
        total_step = sum(shared.step_seconds.values()) or 1.0
        print("  mean time per step (ms per order, share):")
        for name in STEPS:
            seconds = shared.step_seconds.get(name, 0.0)
            print(f"    {name:<10} {seconds / max(done, 1) * 1000:7.2f} ms  {seconds / total_step:5.1%}")
        if done:
            pg_cpu = (
                f"{shared.backend_cpu_s / done * 1000:.1f} ms in its PostgreSQL backends"
                if shared.backends_seen == args.workers
                else "PostgreSQL backends not visible in /proc"
            )
            print(
                f"  CPU per lifecycle: {app_cpu / done * 1000:.1f} ms in this Python process (all threads; "
                f"{app_cpu / wall:.2f} cores busy on average), {pg_cpu}"
            )
            if shared.backends_seen == args.workers:
                total_cpu = app_cpu + shared.backend_cpu_s
                verdict_cpu = "MET" if total_cpu / done * 1000 <= BUDGET_CPU_MS else "MISSED"
                print(
                    f"  CPU per lifecycle, Python + PostgreSQL: {total_cpu / done * 1000:.1f} ms; "
                    f"budget <= {BUDGET_CPU_MS:.0f} ms: {verdict_cpu}"
                )
            print(
                f"  SQL statements per lifecycle: {shared.statements / done:.1f} "
                f"(mean over {done}, {LINES_NOTE}; failed lifecycles' statements included)"
            )
        if shared.errors:
            print(f"  errors: {dict(shared.errors)}; first: {shared.first_error[:300]}")
        verdict = "MET" if rate >= BUDGET_ORDERS_PER_S and not shared.errors else "MISSED"
        print(f"  budget >= {BUDGET_ORDERS_PER_S:.0f} orders/s: {verdict}")
        print(f"  {check_books(bench)}")
        print(f"  {MACHINE_NOTE}")
    finally:
        end_run(args.db, env["SHELFCALL_DATA_DIR"], began)


if __name__ == "__main__":
    main()

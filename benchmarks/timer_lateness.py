"""Budget: escalation lateness with 100,000 open timers, PostgreSQL, this 2-core machine: p99 <= 2 s.

A fresh database gets one store whose escalation policy has one level (3 minutes, to a webhook channel
at http://127.0.0.1:9/, which nothing delivers here: the messages only wait in the outbox). N open
(submitted) orders are bulk-created without timers. Then W sweeper processes start, and one statement
gives every order its timer: next_escalation_at evenly spread over --window seconds, the first one
--lead seconds later (defaults: 100,000 timers over 60 s, i.e. ~1,700 per second falling due; each
order's created_at is its timer minus the 3 minutes, as if it had been submitted then). With --due D,
only the first D fall due over the window and the others a day later: all stay open in the table and
its index, but the rate falling due can be a realistic one (e.g. --due 20000 --window 200: 100/s).

Sweepers (--runner):
- sweep (default): this script, started again as a subprocess, runs the worker's timers thread only:
  core.jobs.loop.one_pass over the registered "timers" work (notify's escalations, then orders'
  reminders and expiries) in a loop, resting as the worker does when nothing fired (without its LISTEN
  wake-ups: at most core.jobs.loop.UNHEARD_REST_SECONDS). Only the timers are measured.
- worker: `python -m shelfcall.cli worker`, the real loop, which also delivers the outbox (to a
  closed port: each message fails fast, SHELFCALL_OUTBOX_MAX_ATTEMPTS=1).

Measured per timer:
- lateness = created_at of its order.escalated event - its scheduled next_escalation_at (the budget);
- visible lateness = when a LISTEN connection of this script heard the event's pg_notify - the
  schedule. The notification goes out at COMMIT, which is when the escalation's outbox message can be
  sent and the live screens hear of it; the sweeper commits a whole batch at once.
Also: fired, fired exactly once, throughput (fired / (last firing - first timer due)), and the CPU per
fired timer of the sweepers and their PostgreSQL backends (steadier than wall time when other work
shares the machine). The run gives up --grace seconds after the last timer fell due.

Only 127.0.0.1 is contacted; the database is dropped at the end.
Run: PYTHONPATH=src .venv/bin/python benchmarks/timer_lateness.py [--timers 100000] [--due N] [--window 60]
         [--workers 2] [--runner sweep|worker] [--batch 500]
"""

import argparse
import contextlib
import dataclasses
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
from _common import PG_HOST, PG_PORT, PG_USER, REPO, create_database, drop_database, percentile, pid_cpu_seconds
from _common import bench_environment as common_environment
from psycopg import sql

SRC = REPO / "src"
BUDGET_P99_S = 2.0
ESCALATE_AFTER_MINUTES = 3
NOTIFY_CHANNEL = "shelfcall_events"  # orders/migrations/0002_notify_trigger.py


def bench_environment(db_name: str, data_dir: str) -> dict[str, str]:
    """os.environ plus what this benchmark's processes run with; this checkout's src/ comes first."""
    path = os.pathsep.join(p for p in (str(SRC), os.environ.get("PYTHONPATH", "")) if p)
    return (
        os.environ
        | common_environment(db_name, data_dir)
        | {
            "PYTHONPATH": path,
            "SHELFCALL_OUTBOX_MAX_ATTEMPTS": "1",
            "SHELFCALL_HTTP_TIMEOUT": "2",
        }
    )


def setup_django() -> None:
    if str(SRC) not in sys.path:
        sys.path.insert(0, str(SRC))
    import django

    django.setup()


# -- the sweeper runner (a subprocess of this script) ----------------------------------------------------


def run_sweeper(index: int, state_dir: Path, batch: int | None, max_seconds: float) -> None:
    """The worker's timers thread without its wake-ups (core.jobs.loop.one_pass over the "timers" work:
    escalations, reminders, expiries), resting as it would, counting what each pass fired."""
    setup_django()
    from django.db import connection

    from shelfcall.core.jobs import registry
    from shelfcall.core.jobs.loop import Schedule, one_pass
    from shelfcall.notify import sweeper

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    deadline = time.monotonic() + max_seconds
    stats = Counter()

    backend_cpu: dict[int, float] = {}  # CPU seconds of each PostgreSQL backend this process used

    def counted(work):
        """The work, counting what it fired and reading its PostgreSQL backend's CPU while it holds one."""

        def counting() -> int:
            handled = work()
            stats["fired"] += handled
            if connection.connection is not None:
                pid = connection.connection.info.backend_pid
                backend_cpu[pid] = pid_cpu_seconds(pid) or backend_cpu.get(pid, 0.0)
            return handled

        return counting

    timer_work = []
    for entry in registry.threads()[registry.TIMERS]:
        work = entry.work
        if batch and work is sweeper.escalate_due:
            work = functools.partial(sweeper.escalate_due, batch=batch)
        timer_work.append(dataclasses.replace(entry, work=counted(work)))
    schedule = Schedule()
    longest_busy_pass = 0.0
    cpu_at_start = time.process_time()
    (state_dir / f"ready-{index}").touch()
    while not stop.is_set() and time.monotonic() < deadline:
        began, fired_before = time.perf_counter(), stats["fired"]
        rest = one_pass(timer_work, schedule, heard=lambda: False)  # logs and rests after an error, as the worker does
        took = time.perf_counter() - began
        stats["passes"] += 1
        if stats["fired"] > fired_before:
            stats["busy_passes"] += 1
            stats["busy_seconds"] += took
            longest_busy_pass = max(longest_busy_pass, took)
        if rest:
            stop.wait(rest)
    stats["cpu_seconds"] = time.process_time() - cpu_at_start
    stats["backend_cpu_seconds"] = sum(backend_cpu.values())
    stats["longest_busy_pass"] = longest_busy_pass
    (state_dir / f"stats-{index}.json").write_text(json.dumps(stats))


# -- setup -----------------------------------------------------------------------------------------------


def make_store_and_orders(timers: int) -> tuple[int, int]:
    """One store, team, showcase, product, escalation policy; `timers` submitted orders without timers yet."""
    from django.db import transaction

    from shelfcall.catalog.models import Product, Showcase, ShowcaseItem, StockLevel
    from shelfcall.notify.models import Channel, EscalationLevel, EscalationPolicy
    from shelfcall.orders.models import Order, OrderSource, OrderStatus
    from shelfcall.stores.models import Organization, Store, Team

    org = Organization.objects.create(name="Bench Retail", slug="bench-retail")
    store = Store.objects.create(
        organization=org, name="Bench Store", slug="bench", timezone="Europe/Paris", currency="EUR"
    )
    team = Team.objects.create(store=store, name="Floor")
    showcase = Showcase.objects.create(store=store, team=team, name="Case A", code="BENCHT01")
    product = Product.objects.create(organization=org, sku="SKU-1", name="Product 1", price=Decimal("19.99"))
    StockLevel.objects.create(store=store, product=product, on_hand=1_000_000)
    ShowcaseItem.objects.create(showcase=showcase, product=product, position=0)
    channel = Channel.objects.create(
        store=store,
        name="Supervisors",
        kind="webhook",
        target="http://127.0.0.1:9/",
        secret="bench-secret",
        events=[],
        allow_private_network=True,
    )
    policy = EscalationPolicy.objects.create(store=store)
    EscalationLevel.objects.create(policy=policy, after_minutes=ESCALATE_AFTER_MINUTES, channel=channel)

    placeholder = datetime.now(UTC)  # overwritten when the timers are set
    first_number = store.order_seq
    with transaction.atomic():
        for start in range(0, timers, 5000):
            Order.objects.bulk_create(
                [
                    Order(
                        store=store,
                        team=team,
                        showcase=showcase,
                        source=OrderSource.SHOWCASE,
                        number=first_number + n,
                        locale="en",
                        shopper_name=f"Shopper {n}",
                        status=OrderStatus.SUBMITTED,
                        currency="EUR",
                        total_amount=Decimal("19.99"),
                        escalation_level=0,
                        created_at=placeholder,
                        updated_at=placeholder,
                        due_at=placeholder,
                    )
                    for n in range(start, min(start + 5000, timers))
                ]
            )
        Store.objects.filter(pk=store.pk).update(order_seq=first_number + timers)
    return store.pk, first_number


def set_timers(store_id: int, first_number: int, first_due: datetime, step: float, due: int) -> dict[int, datetime]:
    """Every order's timer, in one statement (one commit): order k < due falls due at first_due + k * step,
    the others a day later (they stay open, in the table and its index, all through the run).

    Returns the schedule of the `due` timers.
    """
    from django.db import connection

    from shelfcall.notify.wakeup import WORK_CHANNEL
    from shelfcall.orders.models import Order

    table = connection.ops.quote_name(Order._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {table} AS o SET next_escalation_at = s.due, due_at = s.due,
                    created_at = s.due - make_interval(mins => %s), updated_at = s.due - make_interval(mins => %s)
                FROM (SELECT id, %s + (number - %s) * %s * interval '1 second'
                                 + CASE WHEN number - %s < %s THEN interval '0' ELSE interval '1 day' END AS due
                      FROM {table} WHERE store_id = %s) AS s
                WHERE o.id = s.id""",
            [
                ESCALATE_AFTER_MINUTES,
                ESCALATE_AFTER_MINUTES,
                first_due,
                first_number,
                step,
                first_number,
                due,
                store_id,
            ],
        )
        # Workers rest until told of new work: an action's event would notify them; this bulk write must too.
        cursor.execute("SELECT pg_notify(%s, '')", [WORK_CHANNEL])
    soon = Order.objects.filter(store_id=store_id, next_escalation_at__lt=first_due + timedelta(hours=12))
    return dict(soon.values_list("pk", "next_escalation_at"))


def vacuum_orders(db_name: str) -> None:
    """The timer statement left a dead version of every order row: clean up and refresh the statistics."""
    from shelfcall.orders.models import Order

    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=db_name, autocommit=True) as conn:
        conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(Order._meta.db_table)))


# -- measuring -------------------------------------------------------------------------------------------


class Listener(threading.Thread):
    """LISTENs to the event trigger's notifications: when each event became visible (its commit)."""

    def __init__(self, db_name: str) -> None:
        super().__init__(name="listener", daemon=True)
        self.conn = psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=db_name, autocommit=True)
        self.conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(NOTIFY_CHANNEL)))
        self.stop = threading.Event()
        self.first_heard: dict[int, float] = {}  # order id -> time.time() when its first event was heard
        self.events_heard = 0

    def run(self) -> None:
        while not self.stop.is_set():
            for notify in self.conn.notifies(timeout=0.5):
                order_id = int(notify.payload.split(",", 2)[1])
                self.events_heard += 1
                self.first_heard.setdefault(order_id, time.time())

    def close(self) -> None:
        self.stop.set()
        self.join(timeout=5)
        self.conn.close()


def summary_s(values: list[float]) -> str:
    if not values:
        return "n=0"
    return (
        f"p50={percentile(values, 50):.3f} s  p95={percentile(values, 95):.3f} s  "
        f"p99={percentile(values, 99):.3f} s  max={max(values):.3f} s"
    )


def start_sweepers(args, env: dict[str, str], state_dir: Path, max_seconds: float) -> list[subprocess.Popen]:
    procs = []
    for i in range(args.workers):
        if args.runner == "worker":
            command = [sys.executable, "-m", "shelfcall.cli", "worker"]
        else:
            command = [sys.executable, __file__, "--sweeper", str(i), "--state-dir", str(state_dir)]
            command += ["--max-seconds", str(max_seconds)] + (["--batch", str(args.batch)] if args.batch else [])
        with open(state_dir / f"sweeper-{i}.log", "wb") as log:  # the worker logs every failed delivery
            procs.append(subprocess.Popen(command, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT))
    if args.runner == "sweep":
        deadline = time.monotonic() + 60
        while len(list(state_dir.glob("ready-*"))) < args.workers:
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                raise RuntimeError("the sweeper processes did not start")
            time.sleep(0.1)
    else:
        time.sleep(3)  # Django set up in each worker; their first passes find nothing due
    return procs


def stop_sweepers(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def wait_for_firings(listener: Listener, timers: int, schedule_start: float, step: float, give_up_at: float) -> None:
    next_report = time.time() + 5
    while time.time() < give_up_at:
        heard = len(listener.first_heard)
        if heard >= timers:
            return
        if time.time() >= next_report:
            due = min(timers, max(0, int((time.time() - schedule_start) / step) + 1))
            elapsed = time.time() - schedule_start
            print(f"  t={elapsed:6.1f} s  due {due:>7}  fired {heard:>7}  backlog {due - heard:>7}", flush=True)
            next_report += 5
        time.sleep(0.2)


def report(args, schedule: dict[int, datetime], listener: Listener, state_dir: Path, setup_s: float) -> None:
    from shelfcall.notify.models import OutboxMessage
    from shelfcall.orders.events import EventType
    from shelfcall.orders.models import OrderEvent

    fired_at: dict[int, datetime] = {}
    per_order: Counter[int] = Counter()
    for order_id, created_at in OrderEvent.objects.filter(type=EventType.ESCALATED).values_list(
        "order_id", "created_at"
    ):
        per_order[order_id] += 1
        fired_at[order_id] = min(created_at, fired_at.get(order_id, created_at))
    lateness = [(fired_at[pk] - due).total_seconds() for pk, due in schedule.items() if pk in fired_at]
    heard_at = listener.first_heard
    visible = [heard_at[pk] - due.timestamp() for pk, due in schedule.items() if pk in heard_at]
    not_due = sum(n for pk, n in per_order.items() if pk not in schedule)
    first_due = min(schedule.values())
    last_fired = max(fired_at.values()) if fired_at else first_due
    span = (last_fired - first_due).total_seconds()
    once = sum(1 for pk in schedule if per_order[pk] == 1)
    outbox = OutboxMessage.objects.filter(purpose="escalation").count()
    early = sum(1 for v in lateness if v < 0)

    print()
    print(
        f"open timers {args.timers}, due in the run {len(schedule)}, workers {args.workers} ({args.runner}), "
        f"batch {args.batch or 'default'}, window {args.window:g} s "
        f"(~{len(schedule) / args.window:.0f} timers/s falling due), lead {args.lead:g} s, setup {setup_s:.0f} s"
    )
    print(
        f"fired {len(fired_at)} of {len(schedule)}; fired exactly once {once}; "
        f"more than once {sum(1 for n in per_order.values() if n > 1)}; early {early}; not due {not_due}; "
        f"escalation messages queued {outbox}"
    )
    print(f"lateness (event created_at - schedule):       {summary_s(lateness)}")
    print(f"visible lateness (commit heard - schedule):   {summary_s(visible)}  (heard {len(heard_at)})")
    print(
        f"throughput {len(fired_at) / span if span > 0 else float('nan'):.0f} timers/s "
        f"(fired / (last firing - first timer due) = {len(fired_at)} / {span:.1f} s)"
    )
    all_stats = [json.loads(path.read_text()) for path in sorted(state_dir.glob("stats-*.json"))]
    cpu = sum(st.get("cpu_seconds", 0.0) + st.get("backend_cpu_seconds", 0.0) for st in all_stats)
    if all_stats and fired_at:
        print(
            f"CPU per fired timer: {1000 * cpu / len(fired_at):.2f} ms (sweeper processes and their PostgreSQL "
            f"backends; less sensitive than wall time to other load on the machine)"
        )
    for path, stats in zip(sorted(state_dir.glob("stats-*.json")), all_stats, strict=True):
        busy = stats.get("busy_seconds", 0.0)
        print(
            f"  {path.stem}: fired {stats.get('fired', 0)} in {stats.get('busy_passes', 0)} busy passes, "
            f"{busy:.1f} s busy ({stats.get('fired', 0) / busy if busy else 0:.0f}/s), "
            f"longest busy pass {stats.get('longest_busy_pass', 0):.2f} s, "
            f"CPU {stats.get('cpu_seconds', 0):.1f} s + its PostgreSQL backend "
            f"{stats.get('backend_cpu_seconds', 0):.1f} s (a failed pass is logged, below)"
        )
    for path in sorted(state_dir.glob("sweeper-*.log")):
        lines = path.read_text(errors="replace").splitlines()
        if lines:
            print(f"  {path.name}: {len(lines)} lines, e.g. {lines[0][:160]}")
    complete = len(fired_at) == len(schedule) and once == len(schedule) and not_due == 0
    verdict = "PASS" if complete and lateness and percentile(lateness, 99) <= BUDGET_P99_S else "FAIL"
    print(f"budget p99 <= {BUDGET_P99_S:g} s with every timer fired exactly once: {verdict}")
    print(f"load average after: {Path('/proc/loadavg').read_text().split()[0]}")
    print(f"machine: {os.cpu_count()} CPU cores shared by PostgreSQL, the sweepers and this script (all on 127.0.0.1)")


# -- main ------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timers", type=int, default=100_000, help="open orders, one escalation timer each")
    parser.add_argument("--due", type=int, default=None, help="how many fall due in the run (default: all)")
    parser.add_argument("--window", type=float, default=60.0, help="seconds over which they fall due")
    parser.add_argument("--lead", type=float, default=20.0, help="seconds from setting the timers to the first due")
    parser.add_argument("--workers", type=int, default=2, help="sweeper processes")
    parser.add_argument("--runner", choices=["sweep", "worker"], default="sweep", help="see above")
    parser.add_argument("--batch", type=int, default=None, help="escalate_due(batch=...); default: sweeper.BATCH")
    parser.add_argument("--grace", type=float, default=120.0, help="give up this long after the last timer due")
    parser.add_argument("--db", default="shelfcall_timers_bench", help="database to create and drop")
    parser.add_argument("--sweeper", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--state-dir", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--max-seconds", type=float, default=600.0, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.sweeper is not None:
        run_sweeper(args.sweeper, Path(args.state_dir), args.batch, args.max_seconds)
        return
    args.due = args.timers if args.due is None else args.due
    if min(args.timers, args.due, args.workers) < 1 or args.window <= 0 or args.due > args.timers:
        parser.error("--timers, --due, --window and --workers must be positive, and --due at most --timers")
    if args.runner == "worker" and args.batch:
        parser.error("--batch applies to --runner sweep only")

    data_dir = tempfile.mkdtemp(prefix="shelfcall-timers-")
    state_dir = Path(data_dir) / "state"
    state_dir.mkdir()
    env = bench_environment(args.db, data_dir)
    os.environ.update(env)
    began = time.time()
    procs: list[subprocess.Popen] = []
    listener = None
    create_database(args.db)
    try:
        subprocess.run(
            [sys.executable, "-m", "shelfcall.cli", "manage", "migrate", "--verbosity", "0"],
            env=env,
            cwd=REPO,
            check=True,
            timeout=300,
        )
        setup_django()
        from django.db import connections

        print(f"creating {args.timers} open orders …", flush=True)
        store_id, first_number = make_store_and_orders(args.timers)
        connections.close_all()

        step = args.window / args.due
        max_seconds = args.lead + args.window + args.grace + 120
        procs = start_sweepers(args, env, state_dir, max_seconds)
        listener = Listener(args.db)
        listener.start()

        first_due = datetime.now(UTC) + timedelta(seconds=args.lead)
        schedule = set_timers(store_id, first_number, first_due, step, args.due)
        vacuum_orders(args.db)
        connections.close_all()
        setup_s = time.time() - began
        ready_in = (first_due - datetime.now(UTC)).total_seconds()
        load = Path("/proc/loadavg").read_text().split()[0]
        print(f"timers set; the first falls due in {ready_in:.1f} s, the last {args.window:g} s after it", flush=True)
        print(f"  (load average before the sweep: {load})")
        if ready_in < 0:
            print("  warning: setting the timers took longer than --lead; the first were due before the sweep began")

        give_up_at = first_due.timestamp() + args.window + args.grace
        wait_for_firings(listener, args.due, first_due.timestamp(), step, give_up_at)
        time.sleep(1)  # the last notifications
        stop_sweepers(procs)
        listener.close()
        report(args, schedule, listener, state_dir, setup_s)
    finally:
        stop_sweepers(procs)
        if listener is not None and not listener.conn.closed:
            listener.close()
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        drop_database(args.db)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()

"""What the database layer costs before the domain does anything: the floor of the 13 ms budget of
lifecycle_throughput.py (CPU per lifecycle, Python + PostgreSQL).

One thread runs lifecycles of the same shape as lifecycle_throughput.py's: 31 statements in 6
transactions and one read outside them (submit 9, claim 4, read lines 1, pick 6, stage 4, pay 4,
hand off 3). Every statement is as cheap as a statement gets: a look-up by primary key in a table of
one row per order, and each transaction ends with an event row INSERTed (whose trigger NOTIFYs, as
orders_orderevent's does) and the order's row UPDATEd. The connection is the product's: Django's,
with its pool, prepared statements and server-side binding (settings.py). `--psycopg` runs the same
statements on a bare psycopg connection instead, to show what Django's cursor adds.

It prints the CPU of a lifecycle in this process and in its PostgreSQL backend.

  .venv/bin/python benchmarks/domain_floor.py [--orders 2000] [--psycopg]
"""

import argparse
import contextlib
import time

import psycopg
from _common import (
    MACHINE_NOTE,
    bench_environment,
    create_database,
    database_url,
    end_run,
    pid_cpu_seconds,
    setup_django,
)

BUDGET_CPU_MS = 13.0
# Each step of lifecycle_throughput.py's lifecycle: its statements, and whether it is a transaction.
STEPS = (("submit", 9, True), ("claim", 4, True), ("read lines", 1, False), ("pick", 6, True))
STEPS += (("stage", 4, True), ("pay", 4, True), ("hand off", 3, True))
SCHEMA = """
CREATE TABLE floor_order (id bigint PRIMARY KEY, status text NOT NULL, version int NOT NULL);
CREATE TABLE floor_event (id bigserial PRIMARY KEY, order_id bigint NOT NULL, type text NOT NULL);
CREATE FUNCTION floor_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_notify('floor', NEW.order_id::text); RETURN NEW; END $$;
CREATE TRIGGER floor_event_notify AFTER INSERT ON floor_event FOR EACH ROW EXECUTE FUNCTION floor_notify();
"""
READ = "SELECT id, status, version FROM floor_order WHERE id = %s"
EVENT = "INSERT INTO floor_event (order_id, type) VALUES (%s, %s) RETURNING id"
MOVE = "UPDATE floor_order SET status = %s, version = version + 1 WHERE id = %s"


def lifecycle(cursor, order_id: int, atomic) -> None:
    cursor.execute("INSERT INTO floor_order (id, status, version) VALUES (%s, 'new', 0)", [order_id])
    for name, statements, own_transaction in STEPS:
        with atomic() if own_transaction else contextlib.nullcontext():
            for _ in range(statements - (2 if own_transaction else 0)):
                cursor.execute(READ, [order_id])
                cursor.fetchone()
            if own_transaction:
                cursor.execute(EVENT, [order_id, name])
                cursor.fetchone()
                cursor.execute(MOVE, [name, order_id])


def run(orders: int, bare: bool, db: str) -> tuple[float, float, float]:
    """Seconds of wall time, of this process's CPU and of its backend's CPU for `orders` lifecycles."""
    from django.db import connection, transaction

    if bare:
        conn = psycopg.connect(database_url(db), autocommit=True, prepare_threshold=1)
        cursor, atomic, pid = conn.cursor(), conn.transaction, conn.info.backend_pid
    else:
        cursor, atomic = connection.cursor(), transaction.atomic
        pid = connection.connection.info.backend_pid
    for warm in range(-50, 0):  # prepared statements, the pool, the caches
        lifecycle(cursor, warm, atomic)
    t0, cpu0, pg0 = time.perf_counter(), time.process_time(), (pid_cpu_seconds(pid) or 0.0)
    for order_id in range(1, orders + 1):
        lifecycle(cursor, order_id, atomic)
    return time.perf_counter() - t0, time.process_time() - cpu0, (pid_cpu_seconds(pid) or 0.0) - pg0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--psycopg", action="store_true", help="a bare psycopg connection, not Django's")
    parser.add_argument("--db", default="shelfcall_bench_floor")
    args = parser.parse_args()
    env = bench_environment(args.db)
    began = time.perf_counter()
    create_database(args.db)
    try:
        with psycopg.connect(database_url(args.db), autocommit=True) as admin:
            admin.execute(SCHEMA)
        setup_django(env)
        wall, python_s, pg_s = run(args.orders, args.psycopg, args.db)
        per = 1000 / args.orders
        total = (python_s + pg_s) * per
        layer = "a bare psycopg connection" if args.psycopg else "Django's connection (pool, prepared statements)"
        print(f"\ndomain floor: {args.orders} lifecycles of 31 primary-key statements in 6 transactions, {layer}")
        print(f"  {args.orders / wall:.0f} lifecycles/s on one thread; {wall * per:.2f} ms each")
        print(f"  CPU per lifecycle: {python_s * per:.2f} ms in this Python process, {pg_s * per:.2f} ms in PostgreSQL")
        verdict = "under" if total <= BUDGET_CPU_MS else "OVER"
        print(f"  Python + PostgreSQL: {total:.2f} ms, {verdict} the {BUDGET_CPU_MS:.0f} ms budget, with no domain")
        print(f"  {MACHINE_NOTE}")
    finally:
        end_run(args.db, env["SHELFCALL_DATA_DIR"], began)


if __name__ == "__main__":
    main()

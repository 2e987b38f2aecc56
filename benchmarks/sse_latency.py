"""Live updates at scale (PostgreSQL): 10,000 open SSE streams over several `shelfcall serve`
processes behind nginx (deploy/nginx.conf), event-to-client p99 <= 100 ms, memory per open stream
<= 50 KB; and, as a separate mode, the status page loads per second one process sustains.

Streams mode (the default). A fresh database gets N submitted orders. P `shelfcall serve` processes
start on their own ports, nginx in front of them (the shipped site file, only its upstream servers
and listening port changed). K client processes (the browsers) each open N/K status streams
(/o/<token>/events) through nginx on raw asyncio sockets. With every stream open, this process reads
each server's and nginx's memory (RSS), threads and sockets, then claims a sample of the orders from
a thread of its own, ~20 ms apart; latency = the moment the complete "order" message arrived on that
order's stream (in a client process) minus the moment claim_order() returned (its transaction had
committed). Both are time.perf_counter() (CLOCK_MONOTONIC), comparable across processes.
Memory per open stream = (RSS with its streams - RSS idle) / its streams, per serving process and
for nginx; "idle" is after every process has served a few streams and let them go.

Pages mode (--mode pages): one serving process, no nginx; K client processes keep C connections each
loading /o/<token> (the shopper's status page, gzip accepted as a phone's browser does) for D seconds.

Server, nginx, load generator and PostgreSQL share this machine's CPU cores; the figures include that.

Run: .venv/bin/python benchmarks/sse_latency.py [--streams 10000] [--processes 4] [--clients 4]
     .venv/bin/python benchmarks/sse_latency.py --streams 1000 --processes 1 --no-nginx   # one process
     .venv/bin/python benchmarks/sse_latency.py --mode pages [--duration 20] [--clients 2] [--connections 8]
"""

import argparse
import asyncio
import contextlib
import multiprocessing as mp
import os
import random
import re
import resource
import socket
import subprocess
import threading
import time
import zlib
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from _common import (
    MACHINE_NOTE,
    PG_HOST,
    PG_PORT,
    PG_USER,
    REPO,
    bench_environment,
    create_database,
    make_staff,
    make_store,
    migrate,
    percentile,
    pid_cpu_seconds,
    setup_django,
    summary_ms,
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

BUDGET_P99_MS = 100.0
BUDGET_KB_PER_STREAM = 50.0
DRAIN_LIMIT_S = 10.0
WARM_UP_STREAMS = 4  # per serving process, before "idle" is measured
SITE = REPO / "deploy" / "nginx.conf"
# What marks the claim's own message: a claim moves every waiting order's place in the queue, and
# each of their streams is sent its promise alone, status "submitted" (shopper/status.py, StatusPoll).
CLAIMED = b'"status":"picking"'


@dataclass(frozen=True)
class Target:
    order_id: int
    token: str
    last_event_id: int


# --- the database -------------------------------------------------------------------------------


def seed_orders(count: int, workers: int, queue_length: int) -> tuple[list[Target], object]:
    """`count` orders submitted through the domain action, by `workers` processes at once, over as many
    showcases (each its own team, so its own queue) as `queue_length` orders a queue asks for."""
    from django.db import connections
    from django.db.models import Max

    from shelfcall.orders.models import Order, OrderEvent
    from shelfcall.stores.models import Store

    queues = -(-count // queue_length)
    bench = make_store(showcases=queues, products_per_showcase=3, stock=1_000_000)
    # Every benchmark order comes from one "phone": let it hold them all (one unit a line, at most
    # three lines: 30,000 units for 10,000 orders; the limits are small integers).
    Store.objects.filter(pk=bench.store.pk).update(
        max_open_orders_per_device=min(count + 10, 32_767), max_units_per_device=min(count * 3 + 10, 32_767)
    )
    actor = make_staff(bench.store, "Bench")
    connections.close_all()  # each seeding process opens its own
    seeders = [
        mp.Process(target=submit_orders, args=(bench.showcases, range(w, count, workers))) for w in range(workers)
    ]
    for seeder in seeders:
        seeder.start()
    for seeder in seeders:
        seeder.join()
        if seeder.exitcode != 0:
            raise SystemExit(f"a seeding process failed (exit code {seeder.exitcode})")
    last_ids = dict(
        OrderEvent.objects.filter(order__store=bench.store)
        .values("order_id")
        .annotate(last=Max("pk"))
        .values_list("order_id", "last")
    )
    orders = Order.objects.filter(store=bench.store).order_by("pk").values_list("pk", "public_token")
    return [Target(pk, token, last_ids[pk]) for pk, token in orders], actor


def submit_orders(showcases: list[tuple], numbers: range) -> None:
    """Order n from showcase n mod len(showcases): the queues fill evenly."""
    from django.db import connection

    from shelfcall.orders import actions
    from shelfcall.orders.actions import CartLine, ShopperContact

    showcases[0][0].store.refresh_from_db()
    rng = random.Random(numbers.start)
    for n in numbers:
        showcase, products = showcases[n % len(showcases)]
        chosen = rng.sample(products, rng.randint(1, 3))
        actions.submit_showcase_order(
            showcase,
            [CartLine(p.pk, 1, p.price) for p in chosen],
            contact=ShopperContact(name=f"Shopper {n}"),
            submission_key=f"sse-bench-{n}",
        )
    connection.close()


def database_connections(db_name: str) -> str:
    try:
        with psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", autocommit=True) as conn:
            row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [db_name]).fetchone()
            limit = conn.execute("SHOW max_connections").fetchone()
            return f"{row[0]} (server max_connections = {limit[0]})"
    except psycopg.OperationalError as error:
        return f"n/a ({str(error).strip().splitlines()[-1]})"


def backend_cpu_seconds(db_name: str) -> float:
    """User + system CPU of the PostgreSQL backends now connected to the benchmark's database."""
    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", autocommit=True) as conn:
        pids = [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [db_name])]
    return sum(pid_cpu_seconds(pid) or 0.0 for pid in pids)


def claim_paced(order_ids: list[int], actor, interval: float, claimed_at: dict[int, float]) -> None:
    """Runs in its own thread (with its own DB connection): one claim every `interval` seconds."""
    from django.db import connection

    from shelfcall.orders import actions

    try:
        start = time.perf_counter()
        for i, order_id in enumerate(order_ids):
            delay = start + i * interval - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            actions.claim_order(order_id, by=actor)  # @transaction.atomic: committed when it returns
            claimed_at[order_id] = time.perf_counter()
    finally:
        connection.close()


# --- processes: memory, threads, sockets, CPU ---------------------------------------------------


def process_status(pid: int) -> dict[str, int]:
    """VmRSS (KB), Threads, and open sockets of one process."""
    found = {"rss_kb": 0, "threads": 0, "sockets": 0}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key == "VmRSS":
                found["rss_kb"] = int(value.split()[0])
            elif key == "Threads":
                found["threads"] = int(value)
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                found["sockets"] += os.readlink(fd).startswith("socket:")
    return found


def serving_pid(group_leader: int) -> int:
    """The process that serves (uvicorn's worker under `serve`'s supervisor, or the leader itself)."""
    children = [pid for pid in group_members(group_leader) if pid != group_leader]
    return max(children, key=lambda pid: process_status(pid)["rss_kb"]) if children else group_leader


def group_members(pgid: int) -> list[int]:
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[2]) == pgid:
                members.append(int(stat.parent.name))
    return members


def raise_open_file_limit(needed: int) -> int:
    """Soft RLIMIT_NOFILE up to the hard limit, inherited by the servers, nginx and the clients."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, needed)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    if wanted < needed:
        print(f"warning: RLIMIT_NOFILE hard limit {hard} < {needed} descriptors one process may need", flush=True)
    return wanted


# --- nginx --------------------------------------------------------------------------------------


def shipped_main_context() -> dict[str, int]:
    """What deploy/nginx.conf tells the operator to set in /etc/nginx/nginx.conf for many streams."""
    text = SITE.read_text()
    found = {
        name: int(match.group(1))
        for name in ("worker_connections", "worker_rlimit_nofile")
        if (match := re.search(rf"^#\s+{name} (\d+);", text, re.MULTILINE))
    }
    if len(found) != 2:
        raise SystemExit(f"{SITE} no longer says which worker_connections and worker_rlimit_nofile it needs")
    return found


def start_nginx_for_streams(folder: Path, ports: list[int], listen: int, workers: int) -> subprocess.Popen:
    """The shipped site file, with the main context deploy/nginx.conf asks of the operator for many streams."""
    main = shipped_main_context()
    return start_nginx(
        folder,
        ports,
        listen,
        workers=workers,
        rlimit=main["worker_rlimit_nofile"],
        connections=main["worker_connections"],
    )


# --- the browsers (client processes) ------------------------------------------------------------


async def read_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    status = int(head[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:] if line)}
    return status, headers


async def body_chunks(reader: asyncio.StreamReader, headers: dict[str, str]) -> AsyncIterator[bytes]:
    """The body as it arrives. uvicorn chunks a stream even for an HTTP/1.0 request (nginx does not)."""
    if "content-length" in headers:
        yield await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            yield (await reader.readexactly(size + 2))[:-2]
        await reader.readuntil(b"\r\n")
    else:
        while chunk := await reader.read(65536):
            yield chunk


@dataclass
class ClientTally:
    opened: int = 0
    failures: Counter = field(default_factory=Counter)
    ended: int = 0
    keepalives: int = 0
    repeats: int = 0
    arrivals: dict[tuple[int, int], float] = field(default_factory=dict)  # (order id, copy) -> arrival


async def follow_stream(port: int, target: Target, copy: int, tally: ClientTally, gate: asyncio.Semaphore) -> None:
    """One shopper's browser (HTTP/1.0, so the body is the bare event stream until the server closes)."""
    writer = None
    opening = True
    await gate.acquire()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
        writer.write(
            f"GET /o/{target.token}/events?last_event_id={target.last_event_id} HTTP/1.0\r\n"
            f"Host: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n".encode()
        )
        status, headers = await read_head(reader)
        if status != 200:
            tally.failures[f"HTTP {status}"] += 1
            return
        buffer = b""
        async for chunk in body_chunks(reader, headers):
            now = time.perf_counter()
            buffer += chunk
            while b"\n\n" in buffer:
                message, buffer = buffer.split(b"\n\n", 1)
                if message.startswith(b"retry:"):
                    tally.opened += 1
                    opening = False
                    gate.release()
                elif message.startswith(b":"):
                    tally.keepalives += 1
                elif b"\nevent: order\n" in b"\n" + message + b"\n" and CLAIMED in message:
                    if (target.order_id, copy) in tally.arrivals:
                        tally.repeats += 1
                    else:
                        tally.arrivals[target.order_id, copy] = now
        tally.ended += 1
    except (OSError, asyncio.IncompleteReadError, ValueError) as error:
        tally.failures[type(error).__name__] += 1
    finally:
        if opening:
            gate.release()
        if writer is not None:
            writer.close()


def stream_client(
    port: int, streams: list[tuple[Target, int]], concurrency: int, reports: mp.Queue, done: mp.Event
) -> None:
    """A client process: open its streams, say how many opened, hold them until `done`, send arrivals."""

    async def run() -> None:
        tally = ClientTally()
        gate = asyncio.Semaphore(concurrency)
        tasks = [asyncio.create_task(follow_stream(port, t, copy, tally, gate)) for t, copy in streams]
        while tally.opened + sum(tally.failures.values()) < len(streams):
            await asyncio.sleep(0.1)
        reports.put(("opened", tally.opened, dict(tally.failures)))
        while not done.is_set():
            await asyncio.sleep(0.05)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        reports.put(("done", tally.arrivals, tally.ended, tally.keepalives, tally.repeats))

    asyncio.run(run())


async def load_pages(port: int, tokens: list[str], seconds: float, reports: mp.Queue, connections: int) -> None:
    """Keep-alive connections, each loading status pages one after another for `seconds`."""
    latencies: list[float] = []
    statuses: Counter = Counter()
    body_bytes = 0
    end = time.perf_counter() + seconds

    async def one_connection(n: int) -> None:
        nonlocal body_bytes
        rng = random.Random(n)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < end:
                token = rng.choice(tokens)
                began = time.perf_counter()
                writer.write(
                    f"GET /o/{token} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/html\r\n"
                    f"Accept-Encoding: gzip\r\n\r\n".encode()
                )
                status, headers = await read_head(reader)
                body = await read_body(reader, headers)
                latencies.append(time.perf_counter() - began)
                statuses[status] += 1
                body_bytes += len(body)
                if headers.get("content-encoding") == "gzip":
                    zlib.decompress(body, 16 + zlib.MAX_WBITS)  # what a phone does with it (proves it whole)
                if headers.get("connection", "").lower() == "close":
                    break
        finally:
            writer.close()

    await asyncio.gather(*(one_connection(n) for n in range(connections)), return_exceptions=False)
    reports.put(("pages", latencies, dict(statuses), body_bytes))


async def read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    return b"".join([chunk async for chunk in body_chunks(reader, headers)])


def pages_client(port: int, tokens: list[str], seconds: float, reports: mp.Queue, connections: int) -> None:
    asyncio.run(load_pages(port, tokens, seconds, reports, connections))


# --- the run ------------------------------------------------------------------------------------


def warm_up(ports: list[int], targets: list[Target]) -> None:
    """Each serving process serves a few streams and a status page, and lets them go: what a process
    loads once (code, templates, the pool, the LISTEN connection) is in its "idle" memory."""

    async def one(port: int, target: Target) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(f"GET /o/{target.token}/events HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
        while b"retry:" not in await reader.read(4096):
            pass
        writer.close()

    async def all_of_them() -> None:
        picks = iter(targets)
        await asyncio.gather(*(one(port, next(picks)) for port in ports for _ in range(WARM_UP_STREAMS)))

    asyncio.run(all_of_them())
    time.sleep(2.0)  # the streams' tasks and buffers are given back


def snapshot(pids: list[int]) -> dict[int, dict[str, int]]:
    return {pid: process_status(pid) for pid in pids}


def memory_report(label: str, idle: dict, loaded: dict, streams: dict[int, int]) -> list[float]:
    """Print one line per process and return KB per stream of each."""
    per_stream = []
    for pid, before in idle.items():
        after = loaded[pid]
        held = streams[pid]
        kb = (after["rss_kb"] - before["rss_kb"]) / held if held else float("nan")
        per_stream.append(kb)
        print(
            f"  {label} pid {pid}: {held} streams, RSS {before['rss_kb'] / 1024:.1f} -> {after['rss_kb'] / 1024:.1f} MB"
            f" = {kb:.1f} KB per stream; threads {before['threads']} -> {after['threads']}"
        )
    return per_stream


def run_streams(args, env: dict[str, str], targets: list[Target], actor, folder: Path, servers: list) -> bool:
    ports = [server.port for server in servers]
    nginx = None
    try:
        if args.no_nginx:
            front = ports[0]
        else:
            front = free_port()
            nginx = start_nginx_for_streams(folder / "nginx", ports, front, args.nginx_workers)
            wait_for_port(front)
        warm_up(ports, targets)
        server_pids = [serving_pid(s.process.pid) for s in servers]
        nginx_pids = group_members(nginx.pid) if nginx else []
        idle = snapshot(server_pids)
        nginx_idle = snapshot(nginx_pids)

        reports: mp.Queue = mp.Queue()
        done = mp.Event()
        streams = [(t, copy) for copy in range(args.streams_per_order) for t in targets]
        shares = [streams[i :: args.clients] for i in range(args.clients)]
        clients = [
            mp.Process(target=stream_client, args=(front, share, args.connect_concurrency, reports, done))
            for share in shares
        ]
        started = time.perf_counter()
        cpu_start = sum(process_group_cpu_seconds(s.process.pid) for s in servers)
        for client in clients:
            client.start()
        opened, failures = 0, Counter()
        for _ in clients:
            _, n, failed = reports.get(timeout=args.connect_limit)
            opened += n
            failures.update(failed)
        connect_s = time.perf_counter() - started
        connect_cpu = sum(process_group_cpu_seconds(s.process.pid) for s in servers) - cpu_start
        print(f"streams open: {opened}/{len(streams)} after {connect_s:.1f} s; failures: {dict(failures) or 'none'}")
        print(
            f"  server CPU to open them: {connect_cpu:.1f} s = {connect_cpu / max(opened, 1) * 1000:.2f} ms per stream"
        )
        time.sleep(args.settle)
        loaded = snapshot(server_pids)
        nginx_loaded = snapshot(nginx_pids)
        streams_at = {pid: loaded[pid]["sockets"] - idle[pid]["sockets"] for pid in server_pids}
        print(f"memory with {opened} open streams ({args.settle:.0f} s after the last opened):")
        per_stream = memory_report("server", idle, loaded, streams_at)
        nginx_kb = None
        if nginx_pids:
            before = sum(v["rss_kb"] for v in nginx_idle.values())
            after = sum(v["rss_kb"] for v in nginx_loaded.values())
            nginx_kb = (after - before) / max(opened, 1)
            print(
                f"  nginx ({len(nginx_pids)} processes): RSS {before / 1024:.1f} -> {after / 1024:.1f} MB"
                f" = {nginx_kb:.1f} KB per stream (two connections each: the browser's and the server's)"
            )
        print(f"  PostgreSQL connections to {args.db} while streaming: {database_connections(args.db)}")
        idle_cpu_start = sum(process_group_cpu_seconds(s.process.pid) for s in servers)
        time.sleep(args.idle_window)
        idle_cpu = sum(process_group_cpu_seconds(s.process.pid) for s in servers) - idle_cpu_start
        print(
            f"  server CPU while {opened} streams stay quiet: {idle_cpu / args.idle_window * 100:.1f} % of one core"
            f" (heartbeats every {env.get('SHELFCALL_LIVE_HEARTBEAT_SECONDS', '15')} s, over {args.idle_window:.0f} s)"
        )

        sample = random.Random(args.seed).sample([t.order_id for t in targets], min(args.claims, len(targets)))
        claimed_at: dict[int, float] = {}
        print(f"claiming {len(sample)} orders, one every {args.interval * 1000:.0f} ms ...", flush=True)
        cpu_before = sum(process_group_cpu_seconds(s.process.pid) for s in servers)
        pg_before = backend_cpu_seconds(args.db)
        claimer = threading.Thread(target=claim_paced, args=(sample, actor, args.interval, claimed_at))
        claimer.start()
        claimer.join()
        time.sleep(min(DRAIN_LIMIT_S, 2.0))
        claim_cpu = sum(process_group_cpu_seconds(s.process.pid) for s in servers) - cpu_before
        pg_cpu = backend_cpu_seconds(args.db) - pg_before
        done.set()
        arrivals: dict[tuple[int, int], float] = {}
        ended = keepalives = repeats = 0
        for _ in clients:
            _, got, n_ended, n_keepalives, n_repeats = reports.get(timeout=60)
            arrivals |= got
            ended, keepalives, repeats = ended + n_ended, keepalives + n_keepalives, repeats + n_repeats
        for client in clients:
            client.join(30)
        print(
            f"  server CPU per claim (NOTIFY heard by {len(servers)} processes, each of its streams reads, renders): "
            f"{claim_cpu / len(sample) * 1000:.2f} ms; PostgreSQL backends of the pool and LISTEN: "
            f"{pg_cpu / len(sample) * 1000:.2f} ms (the claims' own connection not included)"
        )
        if ended:
            print(f"  streams the server ended before the claims were over: {ended}")
        return report(arrivals, claimed_at, args.streams_per_order, opened, len(streams), repeats, per_stream, nginx_kb)
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait(10)


def wait_for_port(port: int, limit: float = 10.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def report(
    arrivals: dict[tuple[int, int], float],
    claimed_at: dict[int, float],
    copies: int,
    opened: int,
    expected: int,
    repeats: int,
    per_stream_kb: list[float],
    nginx_kb: float | None,
) -> bool:
    expected_arrivals = [(o, copy, t) for o, t in claimed_at.items() for copy in range(copies)]
    latencies = [arrivals[o, copy] - t for o, copy, t in expected_arrivals if (o, copy) in arrivals]
    missing = [(o, copy) for o, copy, _ in expected_arrivals if (o, copy) not in arrivals]
    unclaimed = [o for o, _ in arrivals if o not in claimed_at]
    print()
    print("SSE event to browser: claim committed -> its 'order' message fully received by that stream")
    print(f"  open streams: {opened} (requested {expected})")
    met = False
    if latencies:
        print(f"  {summary_ms(latencies)}")
        p99 = percentile(latencies, 99) * 1000
        met = p99 <= BUDGET_P99_MS and not missing and opened == expected
        print(f"  budget p99 <= {BUDGET_P99_MS:.0f} ms with {expected} streams: {'MET' if met else 'MISSED'}")
    print(f"  messages not received within {DRAIN_LIMIT_S:.0f} s of the last claim: {len(missing)}")
    if copies > 1:
        print(
            f"  ({copies} streams follow each order: every claim is sent {copies} times, and read once by each"
            " process that holds one of them; nginx sends them all to one)"
        )
    if unclaimed or repeats:
        print(f"  unexpected messages: {len(unclaimed)} on unclaimed orders, {repeats} repeats")
    worst = max(per_stream_kb) + (nginx_kb or 0.0)
    memory_met = worst <= BUDGET_KB_PER_STREAM
    print(
        f"  memory per open stream: worst serving process {max(per_stream_kb):.1f} KB + nginx {nginx_kb or 0.0:.1f} KB"
        f" = {worst:.1f} KB; budget <= {BUDGET_KB_PER_STREAM:.0f} KB: {'MET' if memory_met else 'MISSED'}"
    )
    print(f"  {MACHINE_NOTE}")
    return met and memory_met


def run_pages(args, targets: list[Target], servers: list) -> None:
    server = servers[0]
    port = server.port
    tokens = [t.token for t in targets]
    warm_up([port], targets)
    reports: mp.Queue = mp.Queue()
    clients = [
        mp.Process(target=pages_client, args=(port, tokens, args.duration, reports, args.connections))
        for _ in range(args.clients)
    ]
    cpu_before = process_group_cpu_seconds(server.process.pid)
    pg_before = backend_cpu_seconds(args.db)
    started = time.perf_counter()
    for client in clients:
        client.start()
    latencies: list[float] = []
    statuses: Counter = Counter()
    body_bytes = 0
    for _ in clients:
        _, got, codes, size = reports.get(timeout=args.duration + 60)
        latencies += got
        statuses.update(codes)
        body_bytes += size
    elapsed = time.perf_counter() - started
    for client in clients:
        client.join(10)
    cpu = process_group_cpu_seconds(server.process.pid) - cpu_before
    pg_cpu = backend_cpu_seconds(args.db) - pg_before
    loads = len(latencies)
    print()
    print(f"status page (/o/<token>, gzip) on one serving process, {args.clients} x {args.connections} connections:")
    print(f"  {loads} loads in {elapsed:.1f} s = {loads / elapsed:.1f} loads/s; answers {dict(statuses)}")
    print(f"  {summary_ms(latencies)}")
    print(f"  {body_bytes / max(loads, 1) / 1024:.1f} KB per page (compressed)")
    print(
        f"  CPU per load: server {cpu / max(loads, 1) * 1000:.2f} ms (it used {cpu / elapsed * 100:.0f} % of one core),"
        f" PostgreSQL backends {pg_cpu / max(loads, 1) * 1000:.2f} ms"
    )
    print(f"  so one process on one free core would sustain about {loads / cpu:.0f} loads/s")
    print(f"  {MACHINE_NOTE}")


@dataclass
class Serving:
    process: subprocess.Popen
    port: int


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=["streams", "pages"], default="streams")
    parser.add_argument("--streams", type=int, default=10_000, help="open SSE streams")
    parser.add_argument(
        "--streams-per-order",
        type=int,
        default=4,
        help="streams following each order (a shopper's tabs and devices): fewer orders to seed",
    )
    parser.add_argument(
        "--queue-length",
        type=int,
        default=25,
        help="waiting orders in each queue (a team of the store): a claim moves the place of every order "
        "behind it in its queue, and each of their streams is sent its panel again",
    )
    parser.add_argument("--processes", type=int, default=4, help="`shelfcall serve` processes behind nginx")
    parser.add_argument("--clients", type=int, default=4, help="load generator processes")
    parser.add_argument("--no-nginx", action="store_true", help="streams straight to one serving process")
    parser.add_argument("--nginx-workers", type=int, default=2, help="nginx worker processes")
    parser.add_argument("--claims", type=int, default=200, help="claim actions to time")
    parser.add_argument("--interval", type=float, default=0.02, help="seconds between claims")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds between the last opening and measuring")
    parser.add_argument("--idle-window", type=float, default=20.0, help="seconds of quiet streams to time CPU over")
    parser.add_argument("--connect-concurrency", type=int, default=50, help="streams each client opens at once")
    parser.add_argument("--connect-limit", type=float, default=600.0, help="seconds the streams may take to open")
    parser.add_argument("--duration", type=float, default=20.0, help="pages mode: seconds of loading")
    parser.add_argument("--connections", type=int, default=8, help="pages mode: connections per client")
    parser.add_argument("--orders", type=int, default=200, help="pages mode: orders whose pages are loaded")
    parser.add_argument("--seeders", type=int, default=3, help="processes submitting the orders")
    parser.add_argument("--pool", type=int, default=6, help="SHELFCALL_DB_POOL_MAX of each serving process")
    parser.add_argument("--db", default="shelfcall_bench_sse", help="database to create and drop")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--server-command",
        default="",
        help="serve with this command instead of `shelfcall serve` ({port} and {python} are filled in), "
        "e.g. to measure another tree",
    )
    parser.add_argument("--keep-log", action="store_true", help="keep the servers' logs and print where")
    args = parser.parse_args()
    if args.mode == "pages":
        args.processes, args.no_nginx = 1, True
    if args.no_nginx and args.processes != 1:
        parser.error("--no-nginx serves from one process: add --processes 1")

    per_process = -(-args.streams // args.processes)
    limit = raise_open_file_limit(args.streams + 100)
    env = bench_environment(args.db) | {
        "SHELFCALL_DB_POOL_MAX": str(args.pool),
        "SHELFCALL_DB_POOL_MIN": "1",
        "SHELFCALL_TRUSTED_PROXIES": "127.0.0.1",
        "SHELFCALL_WEB_PROCESSES": "1",
    }
    folder = Path(env["SHELFCALL_DATA_DIR"])
    log_path = folder / "server.log"  # finish_run removes its folder
    servers: list[Serving] = []
    began = time.perf_counter()
    create_database(args.db)
    try:
        # No pool here: the seeding and client processes are forked from this one, and must not
        # share its pooled connections (each seeder opens its own).
        setup_django(env | {"SHELFCALL_DB_POOL_MAX": "0"})
        from django.db import connections

        migrate()
        t0 = time.perf_counter()
        count = args.orders if args.mode == "pages" else -(-args.streams // args.streams_per_order)
        targets, actor = seed_orders(count, args.seeders, args.queue_length)
        print(f"seeded {len(targets)} orders in {time.perf_counter() - t0:.1f} s", flush=True)
        connections.close_all()
        if args.mode == "streams":
            print(
                f"RLIMIT_NOFILE {limit} for every process of the run; a serving process needs about "
                f"{per_process + args.pool + 50} (its streams + its pool + ~50)",
                flush=True,
            )
        for n in range(args.processes):
            port = free_port()
            path = log_path if n == 0 else folder / f"server-{n}.log"
            servers.append(Serving(start_server(env, port, path, args.server_command), port))
        for server in servers:
            wait_until_serving(server.process, server.port)
        print(f"{len(servers)} serving processes on ports {[s.port for s in servers]}", flush=True)
        if args.mode == "pages":
            run_pages(args, targets, servers)
        else:
            run_streams(args, env, targets, actor, folder, servers)
    finally:
        for server in servers[1:]:
            stop_server(server.process)
        finish_run(servers[0].process if servers else None, log_path, args.db, keep_log=args.keep_log, began=began)


if __name__ == "__main__":
    main()

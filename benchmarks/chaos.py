"""Chaos run: faults under load, then a check that nothing was lost, doubled or left stuck.

The stack is the production shape on a private PostgreSQL cluster of its own (initdb into a temporary
folder, its own port and socket folder; the shared server on 5432 is never touched): two `shelfcall
serve` processes behind Debian's nginx with the shipped deploy/nginx.conf, one `shelfcall worker`, and
a local webhook receiver as the channels' target. Under load through nginx (till/POS clients creating,
claiming, picking, staging, paying and handing off orders over the API, every write with an
Idempotency-Key and retried with the same key after a connection error or a 5xx, as a real client
does; a few shoppers' status streams open) it:

1. `kill -9`s one web process. It stays dead: nginx routes around it. Streams it held reconnect
   with Last-Event-ID (after the 2 s the stream's `retry:` asks for, as a browser would).
2. `kill -9`s the worker and starts a new one a second later, as a supervisor (systemd's
   Restart=always) would.
3. Restarts PostgreSQL (`pg_ctl restart -m immediate`: a crash, then recovery).

Orders of a second store are left unclaimed: their escalation (after 1 minute, a level that also
cancels) falls due after the faults. Once the load stops it waits for those timers, the outbox and the
streams, then checks and prints: every order the client was told exists and its event log replays to
its status; every payment once; every notification delivered, once per dedupe key; stock = on hand
minus active reservations; every timer fired; the streams got each event of their order once, in
order; and that all of it came back without anyone's help. Exit status 1 if any check fails.

Run: .venv/bin/python benchmarks/chaos.py [--small] [--clients 12] [--phase-seconds 20]
tests/ops/test_chaos.py runs `--small` (about a minute and a half).
"""

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import httpx
import psycopg
from _common import REPO, bench_environment, migrate, setup_django
from _server import free_port, start_nginx

sys.path.insert(0, str(REPO))  # the test suite's helpers: private cluster, servers, webhook receiver
from tests.notify.receiver import TEST_WEBHOOK_SECRET, Received, start_receiver
from tests.support.pgcluster import PrivateCluster
from tests.support.servers import Server, wait_until_up

DATABASE = "shelfcall"
INITIAL_STOCK = 1_000_000
ESCALATE_AFTER_MINUTES = 1  # the smallest an escalation level allows
RETRY_FOR_SECONDS = 30.0  # a client gives up on a call after retrying this long
STREAM_RETRY_SECONDS = 2.0  # what the stream's `retry: 2000` asks a browser to wait
SUPERVISOR_RESTART_SECONDS = 1.0
SETTLE_LIMIT_SECONDS = 60.0  # after the load: outbox drained, streams caught up
OUTBOX_LEASE_SECONDS = 10  # a message the killed worker held is sent again after this
T = TypeVar("T")


@dataclass(frozen=True)
class Load:
    clients: int  # concurrent API clients running lifecycles back to back
    phase_seconds: float  # load before each fault, and after the last
    watched: int  # orders run slowly, each followed by a shopper's status stream
    timer_orders: int  # unclaimed orders whose timers fall due after the faults


FULL = Load(clients=12, phase_seconds=20.0, watched=10, timer_orders=20)
SMALL = Load(clients=4, phase_seconds=6.0, watched=4, timer_orders=3)


# ---------------------------------------------------------------- the stack and its faults


@dataclass
class Fault:
    name: str
    at: float  # wall clock (time.time()), comparable with the database's timestamps
    took: float = 0.0


class Stack:
    """Private PostgreSQL, two web processes behind nginx, one worker, the webhook receiver."""

    def __init__(self, folder: Path, env: dict[str, str], cluster: PrivateCluster) -> None:
        self.folder, self.env, self.cluster = folder, env, cluster
        self.web: list[Server] = []
        self.worker: subprocess.Popen | None = None
        self.workers_started = 0
        self.nginx: subprocess.Popen | None = None
        self.url = ""
        self.faults: list[Fault] = []
        self.load_began = 0.0

    def start(self) -> None:
        self.web = [Server("serve", self.env, "--no-migrate") for _ in range(2)]
        wait_until_up(self.web)
        self.start_worker()
        port = free_port()
        self.nginx = start_nginx(self.folder / "nginx", [server.port for server in self.web], port)
        self.url = f"http://127.0.0.1:{port}"
        print(
            f"stack: nginx {self.url} -> shelfcall serve on {[s.port for s in self.web]}, worker pid "
            f"{self.worker.pid}, PostgreSQL (private) on port {self.cluster.port}"
        )

    def start_worker(self) -> None:
        self.workers_started += 1
        log = (self.folder / f"worker-{self.workers_started}.log").open("wb")
        command = [sys.executable, "-m", "shelfcall.cli", "worker"]
        self.worker = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def kill_web(self) -> None:
        victim = self.web[0]
        pid = httpx.get(f"{victim.url}/healthz", timeout=5).json()["pid"]
        fault = self._fault(f"kill -9 web process {pid} (port {victim.port}); it stays dead, nginx routes around it")
        os.kill(pid, signal.SIGKILL)
        victim.process.wait(10)
        fault.took = time.time() - fault.at

    def kill_worker(self) -> None:
        assert self.worker is not None
        fault = self._fault(f"kill -9 worker {self.worker.pid}; a new one {SUPERVISOR_RESTART_SECONDS:.0f} s later")
        self.worker.kill()
        self.worker.wait(10)
        time.sleep(SUPERVISOR_RESTART_SECONDS)
        self.start_worker()
        fault.took = time.time() - fault.at

    def restart_postgres(self) -> None:
        fault = self._fault("restart PostgreSQL: pg_ctl stop -m immediate, then start (crash recovery)")
        self.cluster.stop("immediate")
        self.cluster.start()
        fault.took = time.time() - fault.at

    def _fault(self, name: str) -> Fault:
        fault = Fault(name, time.time())
        self.faults.append(fault)
        print(f"  t={fault.at - self.load_began:5.1f} s  {name}", flush=True)
        return fault

    def surviving_web(self) -> list[Server]:
        return [server for server in self.web if server.process.poll() is None]

    def stop(self) -> None:
        if self.nginx is not None:
            self.nginx.terminate()
            self.nginx.wait(10)
        for server in self.web:
            server.stop()
        if self.worker is not None and self.worker.poll() is None:
            self.worker.terminate()
            self.worker.wait(15)

    def error_lines(self) -> list[str]:
        lines = []
        for log in sorted(self.folder.glob("**/*.log")):
            lines += [f"{log.name}: {line}" for line in log.read_text(errors="replace").splitlines() if "Error" in line]
        return lines


# ---------------------------------------------------------------- the stores


@dataclass
class Seeded:
    key: str  # the load store's API key (every scope)
    timer_key: str  # the timer store's
    skus: list[str]
    drop_zone_id: int


def seed(receiver_url: str) -> Seeded:
    """Two stores: one for the load, one whose unclaimed orders escalate (and are cancelled) after a minute.
    Webhook channels send their events to the receiver, one path per channel."""
    from _common import make_store

    from shelfcall.api.keys import issue_key
    from shelfcall.api.scopes import Scope
    from shelfcall.catalog.models import Product, StockLevel
    from shelfcall.notify.models import Channel, EscalationLevel, EscalationPolicy
    from shelfcall.stores.models import Store

    bench = make_store(showcases=2, products_per_showcase=10, stock=INITIAL_STOCK)
    store = bench.store
    timer_store = Store.objects.create(
        organization=store.organization, name="Timer Store", slug="timers", timezone="Europe/Paris", currency="EUR"
    )
    for product in Product.objects.all():
        StockLevel.objects.create(store=timer_store, product=product, on_hand=INITIAL_STOCK)

    def channel(on: Store, path: str, events: list[str]) -> Channel:
        return Channel.objects.create(
            store=on,
            name=path,
            kind="webhook",
            target=f"{receiver_url}/{path}",
            secret=TEST_WEBHOOK_SECRET,
            events=events,
            allow_private_network=True,
        )

    channel(store, "orders", ["order.created", "order.paid", "order.completed"])
    channel(timer_store, "timers", ["order.created", "order.expired"])
    policy = EscalationPolicy.objects.create(store=timer_store)
    EscalationLevel.objects.create(
        policy=policy,
        after_minutes=ESCALATE_AFTER_MINUTES,
        channel=channel(timer_store, "escalations", []),
        cancel_and_release=True,
    )
    key = issue_key(organization=store.organization, store=store, name="chaos tills", scopes=list(Scope))
    timer_key = issue_key(organization=store.organization, store=timer_store, name="chaos web shop", scopes=list(Scope))
    skus = [product.sku for _showcase, products in bench.showcases for product in products]
    return Seeded(key.plaintext, timer_key.plaintext, skus, bench.drop_zone.pk)


# ---------------------------------------------------------------- clients that retry like real ones


class Refused(Exception):
    """A definite answer (4xx) that retrying cannot change."""


class GaveUp(Exception):
    """Still no answer after RETRY_FOR_SECONDS of retries."""


def _error_code(response: httpx.Response) -> str:
    with contextlib.suppress(ValueError, KeyError, TypeError):
        return response.json()["error"]["code"]
    return "-"


@dataclass
class Record:
    """What the clients were told, and what they went through."""

    created: dict[int, str] = field(default_factory=dict)  # order id -> external id, each create answered 2xx
    payments: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))  # order id -> payment ids
    completed: set[int] = field(default_factory=set)
    started: dict[int, float] = field(default_factory=dict)  # order id -> when its lifecycle began
    failures: list[str] = field(default_factory=list)
    retries: Counter[str] = field(default_factory=Counter)
    replayed: int = 0  # answers marked Idempotent-Replayed: a retry got the first answer


class Till:
    """An API client: each write has its own Idempotency-Key, kept across the retries of that write."""

    def __init__(self, http: httpx.AsyncClient, key: str, record: Record) -> None:
        self.http, self.headers, self.record = http, {"Authorization": f"Bearer {key}"}, record

    async def call(self, step: str, method: str, url: str, body: dict | None = None) -> dict:
        headers = dict(self.headers)
        if method == "POST":
            headers["Idempotency-Key"] = str(uuid.uuid4())
        give_up_at, delay = time.monotonic() + RETRY_FOR_SECONDS, 0.2
        while True:
            try:
                response = await self.http.request(method, url, json=body, headers=headers)
            except httpx.TransportError as error:  # reset by a kill, refused, timed out
                outcome = type(error).__name__
            else:
                if response.status_code < 300:
                    self.record.replayed += response.headers.get("Idempotent-Replayed") == "true"
                    return response.json()
                code = _error_code(response)
                outcome = f"{response.status_code} {code}"
                retry = response.status_code >= 500 or code == "idempotent_request_running"
                if not retry:
                    raise Refused(f"{step}: {outcome}: {response.text[:200]}")
            self.record.retries[f"{step}: {outcome}"] += 1
            if time.monotonic() > give_up_at:
                raise GaveUp(f"{step}: still {outcome} after {RETRY_FOR_SECONDS:.0f} s of retries")
            await asyncio.sleep(delay)
            delay = min(2 * delay, 2.0)

    async def create(self, external_id: str, skus: list[str], n: int) -> dict:
        lines = [{"sku": sku, "qty": 1 + (n + i) % 2} for i, sku in enumerate(skus)]
        body = {"source": "pos", "external_id": external_id, "lines": lines, "customer": {"name": f"Shopper {n}"}}
        order = await self.call("create", "POST", "/api/v1/orders", body)
        self.record.created[order["id"]] = external_id
        return order

    async def fulfil(self, order: dict, drop_zone_id: int, pause: float = 0.0) -> None:
        """Claim, pick each line, stage, pay at the till, hand off: the associate's and the till's part."""
        base = f"/api/v1/orders/{order['id']}"
        steps: list[tuple[str, str, dict]] = [("claim", f"{base}/claim", {})]
        steps += [("pick", f"{base}/lines/{line['id']}/pick", {"qty": line["requested"]}) for line in order["lines"]]
        steps += [
            ("ready", f"{base}/ready-for-pickup", {"drop_zone_id": drop_zone_id}),
            ("look up", "", {}),
            ("pay", f"{base}/mark-paid", {"method": "card", "reference": f"till/{order['number']}"}),
            ("hand off", f"{base}/hand-off", {"pickup_code": order["barcode"]}),
        ]
        for step, url, body in steps:
            await asyncio.sleep(pause)
            if step == "look up":  # the till scans the shopper's barcode
                await self.call(step, "GET", f"/api/v1/orders/by-code/{order['barcode']}")
                continue
            answer = await self.call(step, "POST", url, body)
            if step == "pay":
                self.record.payments[order["id"]].add(answer["payment"]["id"])
        self.record.completed.add(order["id"])


# ---------------------------------------------------------------- shoppers' status streams


@dataclass
class Watch:
    """One shopper's status stream, reconnecting as the page's EventSource would."""

    order_id: int
    token: str
    ids: list[int] = field(default_factory=list)
    types: list[str] = field(default_factory=list)  # every event type the stream announced, in order
    opened: int = 0
    cuts: list[float] = field(default_factory=list)  # when the stream broke (time.time())
    resumed_from: list[int] = field(default_factory=list)  # the Last-Event-ID of each reconnection
    refusals: Counter[str] = field(default_factory=Counter)

    @property
    def last_id(self) -> int:
        return self.ids[-1] if self.ids else 0


async def _messages(response: httpx.Response) -> AsyncIterator[dict[str, str]]:
    fields: dict[str, str] = {}
    async for line in response.aiter_lines():
        if not line:
            if "data" in fields:
                yield fields
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")


async def follow(http: httpx.AsyncClient, watch: Watch) -> None:
    """Until cancelled: read the order's stream; when it breaks, wait as asked and resume from the last id."""
    while True:
        headers = {"Last-Event-ID": str(watch.last_id)} if watch.ids else {}
        if watch.ids and watch.opened:
            watch.resumed_from.append(watch.last_id)
        try:
            async with http.stream("GET", f"/o/{watch.token}/events", headers=headers) as response:
                if response.status_code != 200:
                    watch.refusals[str(response.status_code)] += 1
                else:
                    watch.opened += 1
                    async for message in _messages(response):
                        types = json.loads(message["data"])["types"]
                        if not types:
                            continue  # the panel again as the queue ahead moved (the pickup promise): no event
                        watch.ids.append(int(message["id"]))
                        watch.types += types
        except httpx.TransportError:
            watch.cuts.append(time.time())
        await asyncio.sleep(STREAM_RETRY_SECONDS)


# ---------------------------------------------------------------- the run


def in_thread(work: Callable[[], T]) -> "asyncio.Future[T]":
    """ORM work off the event loop, on a connection of its own that is closed afterwards."""

    def closing() -> T:
        from django.db import connections

        try:
            return work()
        finally:
            connections.close_all()

    return asyncio.ensure_future(asyncio.to_thread(closing))


def token_of(order_id: int) -> str:
    """The status link's token: what the shopper's phone has (the API does not publish it)."""
    from shelfcall.orders.models import Order

    return Order.objects.values_list("public_token", flat=True).get(pk=order_id)


@dataclass
class Outcome:
    record: Record
    watches: list[Watch]
    timer_order_ids: list[int]
    recovered_at: float  # when PostgreSQL answered again after its restart
    settled: dict[str, bool]


async def run(stack: Stack, seeded: Seeded, load: Load) -> Outcome:
    record = Record()
    limits = httpx.Limits(max_connections=load.clients + 8, max_keepalive_connections=load.clients + 8)
    async with (
        httpx.AsyncClient(base_url=stack.url, limits=limits, timeout=10.0) as http,
        httpx.AsyncClient(base_url=stack.url, timeout=httpx.Timeout(10.0, read=60.0)) as streams_http,
    ):
        till, web_shop = Till(http, seeded.key, record), Till(http, seeded.timer_key, record)
        stopping = asyncio.Event()
        numbers = itertools.count()

        def skus_for(n: int) -> list[str]:
            return [seeded.skus[(n * 7 + i) % len(seeded.skus)] for i in range(1 + n % 3)]

        async def shopper_and_till() -> None:
            while not stopping.is_set():
                n = next(numbers)
                try:
                    began = time.time()
                    order = await till.create(f"load-{n}", skus_for(n), n)
                    record.started[order["id"]] = began
                    await till.fulfil(order, seeded.drop_zone_id)
                except (Refused, GaveUp) as failure:
                    record.failures.append(f"lifecycle {n}: {failure}")

        async def watched(till: Till, name: str, n: int, pause: float | None) -> Watch | None:
            """An order with a shopper watching its status stream; None if it could not be created."""
            try:
                order = await till.create(name, skus_for(n), n)
                watch = Watch(order["id"], await in_thread(lambda: token_of(order["id"])))
                watch_tasks.append(asyncio.create_task(follow(streams_http, watch)))
                if pause is not None:  # None: left unclaimed, for its timers
                    await till.fulfil(order, seeded.drop_zone_id, pause=pause)
            except (Refused, GaveUp) as failure:
                record.failures.append(f"{name}: {failure}")
                return None
            return watch

        async def unclaimed_later() -> list[Watch | None]:
            # Left unclaimed when the timers would otherwise fall due before the last fault is over.
            await asyncio.sleep(max(0.0, 3 * load.phase_seconds + 10 - 60 * ESCALATE_AFTER_MINUTES))
            return await asyncio.gather(*(watched(web_shop, f"timer-{n}", n, None) for n in range(load.timer_orders)))

        watch_tasks: list[asyncio.Task] = []
        stack.load_began = time.time()
        timer_run = asyncio.ensure_future(unclaimed_later())
        # Each watched order's steps are spread over the three faults and the phase after them.
        pause = 4 * load.phase_seconds / 9
        watched_run = asyncio.gather(*(watched(till, f"watched-{n}", n, pause) for n in range(load.watched)))
        clients = [asyncio.create_task(shopper_and_till()) for _ in range(load.clients)]
        print(
            f"load: {load.clients} clients, {load.watched} watched orders, {load.timer_orders} orders left "
            f"unclaimed for their timers; faults {load.phase_seconds:.0f} s apart"
        )

        for fault in (stack.kill_web, stack.kill_worker, stack.restart_postgres):
            await asyncio.sleep(load.phase_seconds)
            await asyncio.to_thread(fault)
        recovered_at = time.time()
        await asyncio.sleep(load.phase_seconds)
        # On a busy machine the clients may still be retrying lifecycles begun before the restart when the
        # phase ends; the load runs on until some begun after it have completed, so that is what is checked.
        await wait_for(lambda: completed_after(record, recovered_at) >= load.clients, time.time() + RETRY_FOR_SECONDS)
        stopping.set()
        await asyncio.gather(*clients)
        timer_watches = [watch for watch in await timer_run if watch is not None]
        watches = [watch for watch in await watched_run if watch is not None] + timer_watches
        print(
            f"load stopped: {len(record.completed)} lifecycles completed; waiting for the timers, the outbox "
            "and the streams"
        )

        timer_ids = [watch.order_id for watch in timer_watches]
        settled = {
            "timers fired": await wait_for(
                lambda: timers_fired(timer_ids), await in_thread(lambda: timers_due(timer_ids))
            ),
            "outbox drained": await wait_for(outbox_drained, time.time() + SETTLE_LIMIT_SECONDS),
        }
        settled["streams caught up"] = await wait_for(
            lambda: streams_caught_up(watches), time.time() + SETTLE_LIMIT_SECONDS
        )
        for task in watch_tasks:
            task.cancel()
        await asyncio.gather(*watch_tasks, return_exceptions=True)
    return Outcome(record, watches, timer_ids, recovered_at, settled)


async def wait_for(done: Callable[[], bool], until: float) -> bool:
    while True:
        with contextlib.suppress(Exception):  # the database may still be recovering
            if await in_thread(done):
                return True
        if time.time() > until:
            return False
        await asyncio.sleep(1.0)


def timers_due(order_ids: list[int]) -> float:
    """When the last of these timers falls due, and 30 s more: they fire late by seconds at most."""
    from shelfcall.orders.models import Order

    latest = max(Order.objects.filter(pk__in=order_ids).values_list("created_at", flat=True), default=None)
    due = latest.timestamp() + 60 * ESCALATE_AFTER_MINUTES if latest else time.time()
    return due + 30.0


def timers_fired(order_ids: list[int]) -> bool:
    from shelfcall.orders.models import Order, OrderStatus

    return not Order.objects.filter(pk__in=order_ids).exclude(status=OrderStatus.EXPIRED).exists()


def outbox_drained() -> bool:
    from shelfcall.notify.models import MessageStatus, OutboxMessage

    return not OutboxMessage.objects.filter(status=MessageStatus.PENDING).exists()


def streams_caught_up(watches: list[Watch]) -> bool:
    from django.db.models import Max

    from shelfcall.orders.models import OrderEvent

    ids = [watch.order_id for watch in watches]
    last = dict(
        OrderEvent.objects.filter(order_id__in=ids)
        .values("order_id")
        .annotate(last=Max("pk"))
        .values_list("order_id", "last")
    )
    return all(watch.last_id == last.get(watch.order_id) for watch in watches)


# ---------------------------------------------------------------- the checks


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def verdict(name: str, passed: str, problems: dict[str, object]) -> Check:
    """PASS saying `passed`, or FAIL naming each problem that was found (the non-empty values)."""
    found = [f"{what}: {value}" for what, value in problems.items() if value]
    return Check(name, not found, "; ".join(found) or passed)


# The status each event leaves an order in (the others leave it as it was).
STATUS_AFTER = {
    "order.created": "submitted",
    "order.claimed": "picking",
    "order.unclaimed": "submitted",
    "order.fulfilled": "ready",
    "order.completed": "completed",
    "order.cancelled": "cancelled",
    "order.expired": "expired",
}


def check_orders(outcome: Outcome) -> list[Check]:
    from shelfcall.orders.models import Order, OrderEvent

    record = outcome.record
    orders = {order.pk: order for order in Order.objects.all()}
    told = {pk: external for pk, external in record.created.items()}
    missing = [pk for pk, external in told.items() if pk not in orders or orders[pk].external_id != external]
    unknown = sorted(set(orders) - set(told))
    events: dict[int, list[str]] = defaultdict(list)
    for order_id, kind in OrderEvent.objects.order_by("pk").values_list("order_id", "type"):
        events[order_id].append(kind)
    wrong = []
    for pk, order in orders.items():
        replayed = None
        for kind in events[pk]:
            replayed = STATUS_AFTER.get(kind, replayed)
        if replayed != order.status:
            wrong.append(f"#{pk}: {order.status}, log says {replayed} ({', '.join(events[pk])})")
    not_completed = sorted(pk for pk in record.completed if orders.get(pk) is None or orders[pk].status != "completed")
    return [
        Check(
            "no order lost",
            not missing,
            f"{len(told)} creates answered 2xx, all found"
            if not missing
            else f"answered 2xx but missing or different: {missing[:10]}",
        ),
        Check(
            "no order the clients were not told of",
            not unknown,
            f"{len(orders)} orders in the database"
            if not unknown
            else f"{len(unknown)} created without a 2xx reaching the client: {unknown[:10]}",
        ),
        Check(
            "event log replays to the status",
            not wrong,
            f"{len(orders)} orders, {sum(map(len, events.values()))} events" if not wrong else "; ".join(wrong[:5]),
        ),
        Check(
            "handed-off orders are completed",
            not not_completed,
            f"{len(record.completed)} hand-offs answered 2xx" if not not_completed else f"{not_completed[:10]}",
        ),
    ]


def check_payments(outcome: Outcome) -> list[Check]:
    from django.db.models import Count, Sum

    from shelfcall.orders.models import Order, OrderEvent, Payment, PaymentKind

    rows = Payment.objects.filter(kind=PaymentKind.PAYMENT)
    per_order = dict(rows.values("order_id").annotate(n=Count("pk")).values_list("order_id", "n"))
    doubled = {pk: n for pk, n in per_order.items() if n > 1}
    sums = dict(rows.values("order_id").annotate(s=Sum("amount")).values_list("order_id", "s"))
    totals = dict(Order.objects.filter(pk__in=list(sums)).values_list("pk", "total_amount"))
    wrong_sum = [pk for pk, paid in sums.items() if paid != totals[pk]]
    told = outcome.record.payments
    unrecorded = [
        pk for pk, ids in told.items() if not ids <= set(rows.filter(order_id=pk).values_list("pk", flat=True))
    ]
    two_answers = [pk for pk, ids in told.items() if len(ids) > 1]
    paid_events = OrderEvent.objects.filter(type="order.paid").count()
    unpaid_completions = Order.objects.filter(status="completed").exclude(payment_status="paid").count()
    passed = (
        f"{rows.count()} payments on {len(per_order)} orders, one each, each the order's total, one order.paid "
        f"event each; every completed order paid; {len(told)} mark-paid answers, all recorded"
    )
    problems = {
        "paid twice": doubled,
        "sum differs from the total": wrong_sum[:10],
        "answered but not recorded": unrecorded[:10],
        "two payment ids answered": two_answers[:10],
        "order.paid events for the payments": paid_events != rows.count() and f"{paid_events} for {rows.count()}",
        "completed orders not paid": unpaid_completions,
    }
    return [verdict("every payment recorded once", passed, problems)]


def check_notifications(receipts: list[Received], crashes: list[tuple[float, float]]) -> list[Check]:
    """Each outbox row reached the receiver. A second copy is the at-least-once case only when the first
    arrived during a crash (the worker killed, PostgreSQL restarting: sent, but the send not recorded)
    and the second after it, with the same webhook-id for the receiver to drop; any other is a failure."""
    from shelfcall.notify.models import Channel, MessageStatus, OutboxMessage
    from shelfcall.orders.models import OrderEvent

    paths = {channel.pk: "/" + channel.target.split("/", 3)[3] for channel in Channel.objects.all()}
    got: dict[tuple[str, str], list[Received]] = defaultdict(list)
    for receipt in receipts:
        got[(receipt.path, receipt.headers.get("webhook-id", ""))].append(receipt)
    messages = list(OutboxMessage.objects.all())
    undelivered = [m.dedupe_key for m in messages if m.status != MessageStatus.DELIVERED]
    lost, across_a_crash, twice = [], [], []
    for message in messages:
        copies = got.pop((paths[message.channel_id], str(message.event_id)), [])
        if not copies:
            lost.append(message.dedupe_key)
        elif len(copies) > 1:
            first, again = copies[0].received_at, copies[1].received_at
            explained = len(copies) == 2 and any(begin <= first <= end < again for begin, end in crashes)
            (across_a_crash if explained else twice).append(message.dedupe_key)
    strangers = [f"{path} {webhook_id}" for path, webhook_id in got]
    unverified = [r.headers.get("webhook-id") for r in receipts if r.verified is not True]
    # Every event a channel asked for, and every escalation, queued its message.
    for channel in Channel.objects.all():
        events = OrderEvent.objects.filter(order__store_id=channel.store_id)
        events = events.filter(type__in=channel.events) if channel.events else events.filter(type="order.escalated")
        queued = set(OutboxMessage.objects.filter(channel=channel).values_list("event_id", flat=True))
        missing = set(events.values_list("pk", flat=True)) - queued
        lost += [f"event {pk} never queued for {channel.name}" for pk in sorted(missing)[:5]]
    passed = (
        f"{len(messages)} outbox messages, each delivered and received (signature verified); "
        f"{len(across_a_crash)} sent twice across a crash (first copy sent, not recorded), same webhook-id"
    )
    problems = {
        "undelivered": undelivered[:5],
        "lost": lost[:5],
        "received twice": twice[:5],
        "received without a message": strangers[:5],
        "signature not verified": unverified[:5],
    }
    return [verdict("no notification lost or sent twice per dedupe key", passed, problems)]


def check_stock() -> list[Check]:
    from django.db.models import Q, Sum

    from shelfcall.catalog.models import StockLevel
    from shelfcall.orders.models import ReservationEntry

    levels = StockLevel.objects.annotate(
        held=Sum("reservations__held_qty", default=0), consumed=Sum("reservations__consumed_qty", default=0)
    )
    wrong = [
        f"{level.pk}: on hand {level.on_hand}, reserved {level.reserved}, held {level.held}, consumed {level.consumed}"
        for level in levels
        if level.reserved != level.held or level.on_hand != INITIAL_STOCK - level.consumed
    ]
    journal = ReservationEntry.objects.values("stock_level_id").annotate(
        net=Sum("qty", filter=Q(kind="hold"), default=0) - Sum("qty", filter=~Q(kind="hold"), default=0)
    )
    held = {level.pk: level.held for level in levels}
    wrong += [
        f"{row['stock_level_id']}: journal {row['net']}" for row in journal if row["net"] != held[row["stock_level_id"]]
    ]
    consumed = sum(level.consumed for level in levels)
    return [
        Check(
            "stock = on hand - active reservations",
            not wrong,
            f"{len(levels)} stock levels: reserved = held, on hand = start - {consumed} units handed over, "
            "journal adds up"
            if not wrong
            else "; ".join(wrong[:5]),
        )
    ]


def check_timers(outcome: Outcome) -> list[Check]:
    from django.db.models import F, Q

    from shelfcall.core import clock
    from shelfcall.orders.models import OPEN_STATUSES, Order, OrderEvent

    escalations = OrderEvent.objects.filter(order_id__in=outcome.timer_order_ids, type="order.escalated")
    per_order = Counter(escalations.values_list("order_id", flat=True))
    expired = Counter(
        OrderEvent.objects.filter(order_id__in=outcome.timer_order_ids, type="order.expired").values_list(
            "order_id", flat=True
        )
    )
    late = [
        (event.created_at - event.order.created_at).total_seconds() - 60 * ESCALATE_AFTER_MINUTES
        for event in escalations.select_related("order")
    ]
    ok = all(per_order[pk] == 1 and expired[pk] == 1 for pk in outcome.timer_order_ids)
    overdue = Order.objects.filter(status__in=OPEN_STATUSES).filter(
        Q(next_escalation_at__lt=clock.now()) | Q(expires_at__lt=clock.now()) | Q(remind_at__lt=clock.now())
    )
    after_recovery = all(event.created_at.timestamp() > outcome.recovered_at for event in escalations)
    detail = (
        f"{len(outcome.timer_order_ids)} orders escalated once and expired once, each "
        f"{min(late, default=0):.1f}-{max(late, default=0):.1f} s after it fell due, after the faults; "
        "no open order has a timer in the past"
    )
    if not (ok and after_recovery and not overdue.exists()):
        detail = (
            f"escalations {dict(per_order)}, expiries {dict(expired)} of {outcome.timer_order_ids}; fired after "
            f"recovery: {after_recovery}; overdue open orders: {list(overdue.values_list('pk', F('status'))[:5])}"
        )
    return [Check("timers fire after recovery", ok and after_recovery and not overdue.exists(), detail)]


def check_streams(outcome: Outcome, web_killed_at: float) -> list[Check]:
    from shelfcall.orders.models import OrderEvent

    wrong, resumed = [], 0
    for watch in outcome.watches:
        log = list(OrderEvent.objects.filter(order_id=watch.order_id).order_by("pk").values_list("type", flat=True))
        if watch.types != log or watch.ids != sorted(set(watch.ids)):
            wrong.append(f"#{watch.order_id}: stream {watch.types} ids {watch.ids}, log {log}")
        resumed += any(cut >= web_killed_at for cut in watch.cuts) and bool(watch.resumed_from)
    opened = sum(watch.opened for watch in outcome.watches)
    return [
        Check(
            "streams: every event once, in order",
            not wrong,
            f"{len(outcome.watches)} streams, {opened} connections in all" if not wrong else "; ".join(wrong[:3]),
        ),
        Check(
            "streams cut by the kill resumed with Last-Event-ID",
            resumed > 0,
            f"{resumed} of {len(outcome.watches)} streams were cut and resumed from their last id",
        ),
    ]


def completed_after(record: Record, moment: float) -> int:
    return sum(1 for pk in record.completed if record.started.get(pk, 0) > moment)


def check_recovery(outcome: Outcome, stack: Stack) -> list[Check]:
    record = outcome.record
    after = completed_after(record, outcome.recovered_at)
    ready = []
    for server in stack.surviving_web():
        with contextlib.suppress(httpx.HTTPError):
            ready.append(httpx.get(f"{server.url}/readyz", timeout=5).status_code)
    worker_alive = stack.worker is not None and stack.worker.poll() is None
    ok = after > 0 and not record.failures and ready == [200] and worker_alive and all(outcome.settled.values())
    detail = (
        f"{after} lifecycles begun after the database restart completed; surviving web process ready; "
        f"the restarted worker runs; no client gave up; {', '.join(outcome.settled)}"
    )
    if not ok:
        detail = (
            f"lifecycles after recovery {after}; /readyz {ready}; worker alive {worker_alive}; "
            f"settled {outcome.settled}; failures {len(record.failures)}: {record.failures[:3]}"
        )
    return [Check("recovered without a human", ok, detail)]


# ---------------------------------------------------------------- main


def report(stack: Stack, outcome: Outcome, checks: list[Check]) -> None:
    record = outcome.record
    print("\nwhat the clients went through:")
    print(
        f"  {len(record.created)} orders created, {len(record.completed)} handed off, {record.replayed} answers "
        "replayed for a retried Idempotency-Key"
    )
    for what, n in record.retries.most_common():
        print(f"  retried x{n}: {what}")
    for failure in record.failures[:10]:
        print(f"  gave up: {failure}")
    cut = sum(len(watch.cuts) for watch in outcome.watches)
    refused = sum((watch.refusals for watch in outcome.watches), Counter())
    print(f"  streams: {cut} cuts, refusals on reopening {dict(refused) or 'none'}")
    errors = stack.error_lines()
    print(
        f"  server and worker logs: {len(errors)} lines naming an error"
        + (f"; last: {errors[-1][:200]}" if errors else "")
    )
    print("\nchecks:")
    for check in checks:
        print(f"  {'PASS' if check.ok else 'FAIL'}  {check.name}: {check.detail}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="the test's load: 4 clients, faults 6 s apart")
    parser.add_argument("--clients", type=int, help="concurrent API clients")
    parser.add_argument("--phase-seconds", type=float, help="load before each fault and after the last")
    parser.add_argument("--keep", action="store_true", help="keep the run's folder (logs, database) and print it")
    args = parser.parse_args()
    load = SMALL if args.small else FULL
    load = Load(args.clients or load.clients, args.phase_seconds or load.phase_seconds, load.watched, load.timer_orders)

    began = time.time()
    folder = Path(tempfile.mkdtemp(prefix="shelfcall-chaos-"))
    receiver, receiver_server = start_receiver()
    cluster = PrivateCluster(max_connections=80)
    stack: Stack | None = None
    try:
        with psycopg.connect(cluster.url, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {DATABASE}")
        database_url = cluster.url.rsplit("/", 1)[0] + f"/{DATABASE}"
        env = bench_environment(DATABASE, str(folder / "data")) | {
            "DATABASE_URL": database_url,
            "SHELFCALL_WEB_PROCESSES": "1",
            "SHELFCALL_TRUSTED_PROXIES": "127.0.0.1",
            "SHELFCALL_API_RATE_PER_MINUTE": "100000000",
            "SHELFCALL_OUTBOX_LEASE_SECONDS": str(OUTBOX_LEASE_SECONDS),
            "SHELFCALL_HTTP_TIMEOUT": str(OUTBOX_LEASE_SECONDS // 2),
        }
        # This process reads the database between faults: a fresh connection each time, no pool to go stale.
        setup_django(env | {"SHELFCALL_DB_POOL_MAX": "0"})
        migrate()
        seeded = seed(receiver.url)
        from django.db import connections

        connections.close_all()
        stack = Stack(folder, env, cluster)
        stack.start()
        outcome = asyncio.run(run(stack, seeded, load))
        connections.close_all()
        web_killed = stack.faults[0].at
        # A send in flight when the worker or the database went down began at most a send's deadline before.
        crashes = [(fault.at - OUTBOX_LEASE_SECONDS // 2, fault.at + fault.took) for fault in stack.faults[1:]]
        checks = [
            *check_orders(outcome),
            *check_payments(outcome),
            *check_notifications(list(receiver.received), crashes),
            *check_stock(),
            *check_timers(outcome),
            *check_streams(outcome, web_killed),
            *check_recovery(outcome, stack),
        ]
        report(stack, outcome, checks)
    finally:
        if stack is not None:
            stack.stop()
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        cluster.destroy()
        receiver_server.shutdown()
        if args.keep:
            print(f"run folder kept: {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    failed = [check.name for check in checks if not check.ok]
    print(
        f"\n{'FAILED: ' + ', '.join(failed) if failed else 'all checks passed'}; run time {time.time() - began:.0f} s"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

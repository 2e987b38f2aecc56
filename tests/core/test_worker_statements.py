"""What `shelfcall worker` runs per order of benchmarks/http_lifecycle.py, pinned.

The benchmark's stores have stock, a drop zone and a store key with every scope: no channel, no webhook,
no escalation policy (tests.factories.make_store's defaults). A till runs create -> claim -> pick each
line -> ready for pickup -> mark paid -> hand off; each step commits, and what it set wakes the worker's
resting threads (notify/wakeup.py): a timer set or moved (orders/migrations/0017 on PostgreSQL, heard by
the worker's LISTEN connection; the actions' bells on SQLite), outbox messages written. Here each step is
followed by the wake-ups it committed (tests/notify/wakeups.py), then one pass (core/jobs/loop.py
`one_pass`) of each thread whose bell rang, and more passes while a pass says more may be due. Under load
several commits share one wake-up, so this is the most the worker runs per order.
"""

from collections import defaultdict

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shelfcall.api.keys import issue_key
from shelfcall.api.scopes import Scope
from shelfcall.core.jobs import loop, registry
from shelfcall.notify import wakeup
from tests.factories import make_drop_zone, make_product, make_store
from tests.notify.wakeups import Wakeups

pytestmark = pytest.mark.django_db


class InProcessWorker:
    """The worker's threads, run one pass at a time in this thread; statements kept by thread."""

    def __init__(self) -> None:
        self.wakeups = Wakeups()
        self.threads = registry.threads()
        self.schedules = {name: loop.Schedule() for name in self.threads}
        self.bells = {
            name: wakeup.bells.new(frozenset().union(*(entry.woken_by for entry in entries)))
            for name, entries in self.threads.items()
        }
        self.statements: dict[str, list[str]] = defaultdict(list)

    def close(self) -> None:
        self.wakeups.close()
        for bell in self.bells.values():
            wakeup.bells.forget(bell)

    def run_rung(self) -> None:
        """One pass of each thread whose bell rang (more while it says more is due), as its loop would."""
        for name, entries in self.threads.items():
            if not self.bells[name].is_set():
                continue
            self.bells[name].clear()
            for _ in range(10):
                with CaptureQueriesContext(connection) as captured:
                    rest = loop.one_pass(entries, self.schedules[name], heard=lambda: True)
                self.statements[name] += [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
                if rest:
                    break

    def notified(self, topic: str | None) -> None:
        """What the LISTEN connection does at a notification (wakeup.listen)."""
        wakeup.bells.ring(topic)
        self.run_rung()

    def committed(self) -> None:
        """After a step's commit: on PostgreSQL the notifications it committed ring the bells, as the LISTEN
        connection does (wakeup.listen); on SQLite they rang at commit."""
        heard = self.wakeups.heard()
        if connection.vendor == "postgresql":
            for topic in heard:
                wakeup.bells.ring(topic)
        self.run_rung()

    def take(self) -> dict[str, list[str]]:
        taken, self.statements = dict(self.statements), defaultdict(list)
        return taken


@pytest.fixture
def worker(monkeypatch):
    monkeypatch.setattr(loop, "close_old_connections", lambda: None)  # the test's transaction stays open
    started = InProcessWorker()
    yield started
    started.close()


def _lifecycle(client, n: int, key: str, skus: list[str], desk_id: int, after_each_step) -> None:
    headers = {"Authorization": f"Bearer {key}"}

    def post(url: str, body: dict) -> dict:
        response = client.post(url, body, content_type="application/json", headers=headers)
        assert response.status_code in {200, 201}, response.content
        after_each_step()
        return response.json()

    order = post(
        "/api/v1/orders",
        {
            "source": "pos",
            "external_id": f"bench-{n}",
            "lines": [{"sku": sku, "qty": 1} for sku in skus],
            "customer": {"name": "Bench", "phone": "+33600000000"},
        },
    )
    base = f"/api/v1/orders/{order['id']}"
    post(f"{base}/claim", {})
    for line in order["lines"]:
        post(f"{base}/lines/{line['id']}/pick", {"qty": 1})
    post(f"{base}/ready-for-pickup", {"drop_zone_id": desk_id})
    post(f"{base}/mark-paid", {"method": "card", "reference": f"bench-{n}"})
    done = post(f"{base}/hand-off", {"pickup_code": order["barcode"]})
    assert done["status"] == "completed"


@pytest.fixture
def bench_store_and_key():
    store = make_store(max_line_qty=100, max_order_qty=1000, pick_target_minutes=600)
    desk = make_drop_zone(store)
    skus = [make_product(store, on_hand=50).sku for _ in range(2)]
    key = issue_key(organization=store.organization, store=store, name="till", scopes=list(Scope)).plaintext
    return key, skus, desk.pk


# Per order of two lines: 7 steps, one of which sets a timer (create: the unclaimed expiry; the claim
# clears it, the others set none). Its wake-up rings the timers thread only (deliveries wake when messages
# are written, notify/migrations/0009; jobs when one is queued; the facts and housekeeping keep their own
# time), which reads the first due of the four order timers (escalation, reminder, expiry, substitute):
# one statement of four index reads (orders/timers.py), shared by the thread's four entries. Nothing falls
# due and nothing is queued (no channel, no shopper channel configured, no timer due yet), so nothing else
# runs.
PER_ORDER = {"timers": 1}
# A pass at the end of a rest with nothing due (at most every LONGEST_REST_SECONDS per thread): the
# timers' one read, the outbox's, the job queue's two (queued, lease run out), the facts' cursor.
IDLE_PASS = {"timers": 1, "deliveries": 1, "jobs": 2, "insights": 1, "housekeeping": 0}


def _printed(ran: dict[str, list[str]]) -> dict[str, int]:
    for name, statements in ran.items():
        print(f"== {name}: {len(statements)}", *statements, sep="\n")
    return {name: len(statements) for name, statements in ran.items()}


@pytest.mark.django_db(transaction=True)  # the steps commit: their wake-ups are the ones the worker hears
def test_what_the_worker_runs_per_order(client, worker, bench_store_and_key):
    key, skus, desk_id = bench_store_and_key
    worker.notified(None)  # started before the orders: housekeeping, the facts' first refresh
    _lifecycle(client, 0, key, skus, desk_id, worker.wakeups.heard)  # warm: keys and policies read once per process
    worker.notified(None)
    worker.take()

    _lifecycle(client, 1, key, skus, desk_id, worker.committed)
    assert _printed(worker.take()) == PER_ORDER


def test_what_an_idle_pass_runs(client, worker, bench_store_and_key):
    worker.notified(None)
    worker.take()
    worker.notified(None)  # every thread's rest ends: what each runs then
    assert _printed(worker.take()) == IDLE_PASS


def test_each_notification_rings_only_the_threads_it_concerns():
    """wakeup.listen's topics: the order table's timer trigger's notification, the outbox trigger's, a queued job's."""
    assert wakeup.topic_of(wakeup.TIMERS_PAYLOAD) == registry.TIMERS_SET
    assert wakeup.topic_of(wakeup.MESSAGES_PAYLOAD) == registry.MESSAGES_QUEUED
    assert wakeup.topic_of("") == registry.QUEUED_WORK
    rung = {
        name: frozenset().union(*(entry.woken_by for entry in entries)) for name, entries in registry.threads().items()
    }
    assert rung == {
        "timers": {registry.TIMERS_SET},
        "deliveries": {registry.MESSAGES_QUEUED, registry.QUEUED_WORK},
        "jobs": {registry.QUEUED_WORK},
        "insights": frozenset(),
        "housekeeping": frozenset(),
    }

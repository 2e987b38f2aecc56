"""Prometheus metrics at `/metrics`.

Two kinds, because `shelfcall serve --workers N` runs N processes behind one port:
- per-process figures (request latencies per route, open live streams), kept by prometheus-client
  in its multiprocess mode when `PROMETHEUS_MULTIPROC_DIR` is set (`shelfcall serve` sets it) and
  summed over the processes at scrape time, whichever process answers;
- figures of the whole system (open orders by store and status, the outbox backlog and the age of
  its oldest message, overdue timers), read from the database at scrape time, so every process
  answers the same and none of them counts alone.

The page is for the monitoring system only: it answers clients on this machine, or anyone sending
`Authorization: Bearer $SHELFCALL_METRICS_TOKEN`; everyone else gets a 404."""

import hmac
import ipaddress
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.db.models import Count, Min
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.deprecation import MiddlewareMixin
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector

from shelfcall.core import clock
from shelfcall.core.clients import client_address

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

REQUEST_SECONDS = Histogram(
    "shelfcall_http_request_duration_seconds",
    "Time to answer a request (to the first byte for live streams), by route.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
OPEN_STREAMS = Gauge(
    "shelfcall_live_streams_open",
    "Live (SSE) streams open now, over all serving processes.",
    multiprocess_mode="livesum",
)

# Benchmarks only (SHELFCALL_COUNT_STATEMENTS set): statements sent, by the command the process runs.
# Transaction control (BEGIN, COMMIT) does not pass through cursors and is not counted.
SQL_STATEMENTS = Counter(
    "shelfcall_sql_statements",
    "SQL statements sent, by command (serve, worker); counted only when SHELFCALL_COUNT_STATEMENTS is set.",
    ["command"],
)

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class SystemCollector(Collector):
    """What the database says, read when scraped: a handful of indexed statements."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from shelfcall.notify.models import MessageStatus, OutboxMessage
        from shelfcall.orders.actions.timers import TIMER_COLUMNS
        from shelfcall.orders.models import OPEN_STATUSES, Order

        now = clock.now()
        orders = GaugeMetricFamily(
            "shelfcall_orders_open", "Open orders, by store and status.", labels=["store", "status"]
        )
        counts = Order.objects.filter(status__in=OPEN_STATUSES).values("store_id", "status").annotate(n=Count("pk"))
        for row in counts.order_by():
            orders.add_metric([str(row["store_id"]), row["status"]], row["n"])
        yield orders

        pending = OutboxMessage.objects.filter(status=MessageStatus.PENDING).aggregate(
            n=Count("pk"), oldest=Min("created_at")
        )
        yield GaugeMetricFamily("shelfcall_outbox_pending", "Messages not delivered yet.", value=pending["n"])
        yield GaugeMetricFamily(
            "shelfcall_outbox_oldest_pending_age_seconds",
            "Age of the oldest message not delivered yet (0 when none waits).",
            value=(now - pending["oldest"]).total_seconds() if pending["oldest"] else 0.0,
        )

        lateness = GaugeMetricFamily(
            "shelfcall_timer_lateness_seconds",
            "How long the most overdue timer of each kind is past due (0 when none is): the sweeper's lag.",
            labels=["timer"],
        )
        for timer in TIMER_COLUMNS:  # every timer the sweepers fire, the substitutes' decision included
            due = Order.objects.filter(**{f"{timer}__lte": now}).aggregate(oldest=Min(timer))["oldest"]
            lateness.add_metric([timer], (now - due).total_seconds() if due else 0.0)
        yield lateness


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    if folder := os.environ.get(MULTIPROCESS_DIR_VARIABLE):
        _forget_dead_processes(Path(folder))
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # prometheus_client leaves it unannotated
    else:
        registry.register(_ThisProcess())
    registry.register(SystemCollector())
    return registry


def _forget_dead_processes(folder: Path) -> None:
    """A serving process that crashed (and was replaced) must not keep counting its open streams."""
    for file in folder.glob("gauge_live*_*.db"):
        pid = int(file.stem.rsplit("_", 1)[1])
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            mark_process_dead(pid, str(folder))  # type: ignore[no-untyped-call]  # unannotated in prometheus_client
        except PermissionError:
            pass  # alive, someone else's


class _ThisProcess(Collector):
    """One process (tests, `shelfcall demo`): its own metrics, without the default process/GC ones."""

    def collect(self) -> Iterator:
        yield from REQUEST_SECONDS.collect()
        yield from OPEN_STREAMS.collect()


def _allowed(request: HttpRequest) -> bool:
    token = settings.SHELFCALL_METRICS_TOKEN
    sent = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return True
    try:
        return ipaddress.ip_address(client_address(request)).is_loopback
    except ValueError:
        return False


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        raise Http404("no such page")
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)


class RequestMetricsMiddleware(MiddlewareMixin):
    """Times every request by its route pattern (`w/orders/<id:order_id>`), never by its raw path or
    an invented method, so a scanner trying a million URLs adds a few series, not a million."""

    def process_request(self, request: HttpRequest) -> None:
        # This middleware's own mark on the request, read back below: HttpRequest does not declare it.
        request._metrics_started = time.perf_counter()  # type: ignore[attr-defined]

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        started = getattr(request, "_metrics_started", None)
        if started is not None:
            match = getattr(request, "resolver_match", None)
            route = match.route if match is not None else "(unmatched)"
            method = request.method if request.method in _METHODS else "other"
            REQUEST_SECONDS.labels(route, method, str(response.status_code)).observe(time.perf_counter() - started)
        return response


def count_statements_if_asked() -> None:
    """For the benchmarks: when SHELFCALL_COUNT_STATEMENTS is set, count every statement this process
    sends (`shelfcall_sql_statements_total`). Off otherwise: production pays nothing for it."""
    if not settings.COUNT_STATEMENTS:
        return
    counted = SQL_STATEMENTS.labels(sys.argv[1] if len(sys.argv) > 1 else "other")

    def count(execute: Callable, sql: str, params: object, many: bool, context: dict) -> object:
        counted.inc()
        return execute(sql, params, many, context)

    def watch(sender: object, connection: BaseDatabaseWrapper, **kwargs: object) -> None:
        if count not in connection.execute_wrappers:  # a pooled connection connects again and again
            connection.execute_wrappers.append(count)

    connection_created.connect(watch, weak=False)

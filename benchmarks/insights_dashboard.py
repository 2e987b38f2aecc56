"""Render time of the insights page on the database benchmarks/insights_generate.py made: one store for
one month, and the whole organization for one month, each compared with the month before (as the page
always is). Timed through the whole Django stack in this process (middleware, the figures, the
template): after one request for a month without orders (which loads the middleware, the code and the
template), the first request of each (cold: this month's figures not read yet by this process, the
facts' index pages wherever earlier runs left them), then --runs more (warm). Besides wall time, the CPU each
request cost PostgreSQL (its backend process) and this process, which hold better than wall time on a
busy machine, and the SQL statements of each request.

Budgets (DESIGN.md): one store-month < 1 s, the whole organization < 2 s.

Run: .venv/bin/python benchmarks/insights_dashboard.py [--db bench_insights] [--runs 5] [--drop]
(the generated database is kept for further runs until one passes --drop)
"""

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import MACHINE_NOTE, backend_cpu_seconds, bench_environment, drop_database, setup_django

BUDGETS = {"one store, one month": 1.0, "whole organization, one month": 2.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="bench_insights")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--start", default="2026-10-01")
    parser.add_argument("--end", default="2026-10-31")
    parser.add_argument("--drop", action="store_true", help="drop the database afterwards")
    args = parser.parse_args()
    setup_django(bench_environment(args.db))
    from django.conf import settings
    from django.test.utils import override_settings

    # In this process, static URLs without collectstatic's manifest (the timing is the page's, not its files').
    storages = settings.STORAGES | {"staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    with override_settings(STORAGES=storages):
        failed = measure(args)
    if args.drop:
        from django.db import connections

        connections.close_all()
        drop_database(args.db)
    sys.exit(failed)


def measure(args: argparse.Namespace) -> int:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from shelfcall.insights import facts
    from shelfcall.insights.figures import Period, build_dashboard
    from shelfcall.insights.models import OrderFact
    from shelfcall.stores.models import Membership, Organization, Role

    organization = Organization.objects.get(slug="insights-retail")
    store = organization.stores.order_by("name").first()
    admin, _new = get_user_model().objects.get_or_create(username="insights-bench-admin")
    Membership.objects.get_or_create(user=admin, organization=organization, store=None, role=Role.ORG_ADMIN)
    browser = Client(HTTP_HOST="localhost", secure=True)
    browser.force_login(admin)
    started = time.perf_counter()
    caught_up = facts.refresh_all()  # the worker's job, had it fallen behind (normally nothing to do)
    print(f"refresh job: {caught_up:,} events to catch up, {time.perf_counter() - started:.1f} s")
    print(f"database: {connection.vendor}, {OrderFact.objects.count():,} order facts; {MACHINE_NOTE}")
    period = Period(date.fromisoformat(args.start), date.fromisoformat(args.end))
    query = f"start={args.start}&end={args.end}"
    browser.get("/insights/?start=2000-01-01&end=2000-01-31")  # the process warms up, no facts are read
    failed = False
    for name, url, stores in (
        ("one store, one month", f"/insights/?store={store.pk}&{query}", [store]),
        ("whole organization, one month", f"/insights/?{query}", list(organization.stores.all())),
    ):
        cold, *warm = [_timed(browser, url) for _run in range(args.runs + 1)]
        figures = build_dashboard(stores, period, breakdowns=False).overall
        seconds = [request.seconds for request in warm]
        within = max(seconds) < BUDGETS[name] and cold.seconds < BUDGETS[name]
        failed |= not within
        print(
            f"{name}: {figures.current.requested:,} orders in the period, {figures.previous.requested:,} the month"
            f" before; load average {os.getloadavg()[0]:.1f}\n"
            f"  cold {cold.seconds * 1000:.0f} ms (PostgreSQL CPU {cold.database_cpu * 1000:.0f} ms);"
            f" warm median {statistics.median(seconds) * 1000:.0f} ms, max {max(seconds) * 1000:.0f} ms,"
            f" PostgreSQL CPU median {statistics.median(r.database_cpu for r in warm) * 1000:.0f} ms,"
            f" this process's CPU median {statistics.median(r.python_cpu for r in warm) * 1000:.0f} ms;"
            f" {warm[-1].statements} statements (budget {BUDGETS[name] * 1000:.0f} ms: {'ok' if within else 'OVER'})"
        )
    return 1 if failed else 0


@dataclass(frozen=True)
class Request:
    seconds: float
    database_cpu: float  # 0 when PostgreSQL runs elsewhere
    python_cpu: float
    statements: int


def _timed(browser, url: str) -> Request:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    connection.ensure_connection()
    with CaptureQueriesContext(connection) as captured:
        database, python, started = backend_cpu_seconds(connection) or 0.0, time.process_time(), time.perf_counter()
        response = browser.get(url)
        seconds, python = time.perf_counter() - started, time.process_time() - python
        database = (backend_cpu_seconds(connection) or 0.0) - database
    assert response.status_code == 200, response.status_code
    return Request(seconds, database, python, len(captured))


if __name__ == "__main__":
    main()

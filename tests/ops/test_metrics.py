"""`/metrics`: what it says, whom it answers, and that several serving processes add up."""

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from shelfcall.core import clock
from shelfcall.live import caps
from shelfcall.orders.models import Order
from tests.factories import make_showcase, make_store, submit

pytestmark = pytest.mark.django_db


def scrape(client, **extra) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", **extra)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def test_open_orders_outbox_and_timers_come_from_the_database(client, django_assert_max_num_queries, time_machine):
    time_machine.move_to("2026-11-23 10:00:00+00:00", tick=False)
    store = make_store(unclaimed_expiry_minutes=5)
    submit(make_showcase(store))
    submit(make_showcase(store))
    with django_assert_max_num_queries(6):  # open orders, the outbox, one per timer
        seen = scrape(client)
    assert seen[("shelfcall_orders_open", (("status", "submitted"), ("store", str(store.pk))))] == 2
    assert ("shelfcall_outbox_pending", ()) in seen
    assert seen[("shelfcall_timer_lateness_seconds", (("timer", "expires_at"),))] == 0

    time_machine.shift(timedelta(minutes=7))
    seen = scrape(client)
    assert seen[("shelfcall_timer_lateness_seconds", (("timer", "expires_at"),))] == pytest.approx(120, abs=1)


def test_the_substitutes_decision_is_a_timer_like_the_others(client, time_machine):
    """Its job thread (orders.substitutes) lagging shows as the other timers' sweepers do."""
    time_machine.move_to("2026-11-23 10:00:00+00:00", tick=False)
    order = submit(make_showcase(make_store()))
    assert scrape(client)[("shelfcall_timer_lateness_seconds", (("timer", "substitute_due_at"),))] == 0
    Order.objects.filter(pk=order.pk).update(substitute_due_at=clock.now() - timedelta(seconds=90))
    seen = scrape(client)
    assert seen[("shelfcall_timer_lateness_seconds", (("timer", "substitute_due_at"),))] == pytest.approx(90, abs=1)


def test_requests_are_timed_by_route_pattern_never_by_raw_path_or_invented_method(client):
    client.get("/w/orders/123456")
    client.get("/no/such/page/at-all")
    client.generic("BREW", "/healthz")
    seen = scrape(client)
    routes = {dict(labels).get("route") for name, labels in seen if name.startswith("shelfcall_http_request")}
    assert "w/orders/<id:order_id>" in routes and "(unmatched)" in routes
    assert not any("123456" in str(route) or "at-all" in str(route) for route in routes)
    methods = {dict(labels).get("method") for name, labels in seen if name.startswith("shelfcall_http_request")}
    assert "other" in methods and "BREW" not in methods


def test_open_streams_are_counted_while_they_are_open(client):
    before = scrape(client)[("shelfcall_live_streams_open", ())]
    lease = caps.open_streams.take([caps.Cap("holder:metrics-test", 5)])
    assert scrape(client)[("shelfcall_live_streams_open", ())] == before + 1
    lease.release()
    assert scrape(client)[("shelfcall_live_streams_open", ())] == before


def test_only_this_machine_or_the_token_holder_may_read_it(client, settings):
    far = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", **far).status_code == 404
    settings.SHELFCALL_METRICS_TOKEN = "s3cret-token"
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong", **far).status_code == 404
    assert scrape(client, HTTP_AUTHORIZATION="Bearer s3cret-token", **far)


SERVING_PROCESS = """
from shelfcall.ops import metrics
metrics.OPEN_STREAMS.inc(3)
metrics.REQUEST_SECONDS.labels("q/", "GET", "200").observe(0.01)
"""
SCRAPER = """
from prometheus_client import generate_latest
from shelfcall.ops import metrics
print(generate_latest(metrics._registry()).decode())
"""


def test_several_processes_add_up_and_a_dead_one_stops_counting_its_streams(tmp_path):
    (folder := tmp_path / "metrics").mkdir()
    env = os.environ | {
        "PROMETHEUS_MULTIPROC_DIR": str(folder),
        "SHELFCALL_DATA_DIR": str(tmp_path / "data"),
        "DJANGO_SETTINGS_MODULE": "shelfcall.settings",
    }
    env.pop("DATABASE_URL", None)  # the scraper reads the (empty) embedded database's system figures

    def run(script: str) -> str:
        command = [sys.executable, "-m", "shelfcall.cli", "manage", "shell", "--no-imports", "-c", script]
        return subprocess.run(command, env=env, check=True, capture_output=True, text=True, timeout=120).stdout

    run("from django.core.management import call_command; call_command('migrate', verbosity=0)")
    run(SERVING_PROCESS)
    run(SERVING_PROCESS)  # two processes, both gone now
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(run(SCRAPER))
        for sample in family.samples
    }
    count = ("shelfcall_http_request_duration_seconds_count", (("method", "GET"), ("route", "q/"), ("status", "200")))
    assert samples[count] == 2, "requests are summed over the processes"
    assert samples[("shelfcall_live_streams_open", ())] == 0, "the streams of dead processes are not open"

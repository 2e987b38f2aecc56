"""The page's figures against a plain recomputation from the raw events of a generated set of orders:
two stores (one in Paris, one in New York), two teams, three associates, every kind of outcome, over a
period and the one before it."""

import math
import random
import zoneinfo
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection

from shelfcall.insights import facts, figures
from shelfcall.insights.figures import BREAKDOWN_INTERVALS, INTERVALS, Figures, Period, build_dashboard
from shelfcall.orders.events import Actor, EventType
from shelfcall.orders.models import Order, OrderEvent
from shelfcall.stores.models import Role
from tests.factories import make_drop_zone, make_product, make_showcase, make_store, make_user
from tests.insights.stories import Story, tell

pytestmark = pytest.mark.django_db
PERIOD = Period(date(2026, 11, 9), date(2026, 11, 15))


def _story(rng: random.Random) -> Story:
    fate = rng.random()
    claim = rng.choice([0.5, 1, 2, 3, 5, 8, 13])
    ready = claim + rng.choice([1, 2, 4, 6, 9, 15])
    escalate = 1 if claim > 4 and rng.random() < 0.7 else None
    if fate < 0.1:
        return Story(expire=rng.choice([30, 60]))
    if fate < 0.15:
        return Story(claim=claim, cancel=claim + 1)
    if fate < 0.3:
        return Story(claim=claim, ready=ready, escalate=escalate, expire=ready + 120)  # never collected
    pay = rng.choice([claim / 2, ready + 1, ready + 5])
    return Story(
        claim=claim,
        ready=ready,
        pay=pay,
        collect=max(ready, pay) + rng.choice([1, 3, 20, 90]),
        escalate=escalate,
        not_found=rng.random() < 0.15,
        reject=rng.random() < 0.1,
    )


@pytest.fixture
def generated(time_machine):
    rng = random.Random(15)
    stores = [
        make_store(name="Paris", timezone="Europe/Paris", pick_target_minutes=10, allow_pay_at_pickup=True),
        make_store(name="New York", timezone="America/New_York", pick_target_minutes=6, allow_pay_at_pickup=True),
    ]
    stores[1].organization = stores[0].organization
    stores[1].save()
    cases = []
    for store in stores:
        desk = make_drop_zone(store)
        people = [Actor.staff(make_user(store, name=n), Role.ASSOCIATE) for n in ("Ana", "Ben")]
        for _team in range(2):
            showcase = make_showcase(store, products=[make_product(store, on_hand=10_000)])
            cases.append((showcase, people, desk))
    start = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)
    for _n in range(90):
        showcase, people, desk = rng.choice(cases)
        sent = start + timedelta(minutes=rng.randrange(0, 14 * 24 * 60))
        tell(time_machine, showcase, sent, _story(rng), by=rng.choice(people), desk=desk)
    facts.rebuild_facts(Order.objects.values_list("pk", flat=True))
    return stores


def _nearest_rank(values: list[int], fraction: float) -> int | None:
    return sorted(values)[math.ceil(fraction * len(values)) - 1] if values else None


def _recomputed(stores) -> dict[tuple[str, object, bool], Figures]:
    """Figures by (dimension, key, in the period) read straight from OrderEvent, the slow, obvious way."""
    by_order: dict[int, list[OrderEvent]] = defaultdict(list)
    for event in OrderEvent.objects.order_by("pk"):
        by_order[event.order_id].append(event)
    targets = {store.pk: store.pick_target_minutes for store in stores}
    zones = {store.pk: zoneinfo.ZoneInfo(store.timezone) for store in stores}
    counts: dict[tuple[str, object, bool], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    times: dict[tuple[str, object, bool], dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for order in Order.objects.filter(store__in=stores):
        events = by_order[order.pk]
        when = {}
        for event in events:
            when.setdefault(event.type, event.created_at)
        paid = [e.created_at for e in events if e.type == EventType.PAID and Decimal(e.payload["owed"]) == 0]
        sent = when[EventType.CREATED]
        local = sent.astimezone(zones[order.store_id])
        if not PERIOD.previous.start <= local.date() <= PERIOD.end:
            continue
        current = local.date() >= PERIOD.start
        fulfilled = [e for e in events if e.type == EventType.FULFILLED]
        holders = [e.payload["assignee_id"] for e in events if e.type in (EventType.CLAIMED, EventType.REASSIGNED)]
        associate = fulfilled[0].actor_id if fulfilled else (holders[-1] if holders else None)
        flags = {
            "requested": True,
            "claimed": EventType.CLAIMED in when,
            "picked": EventType.PICKING in when,
            "ready": EventType.FULFILLED in when,
            "paid": bool(paid),
            "collected": EventType.COMPLETED in when,
            "not_found": EventType.LINE_NOT_FOUND in when,
            "rejected": any(e.type == EventType.COMPLETED and e.payload["rejected"] for e in events),
            "expired": EventType.EXPIRED in when,
            "escalated": EventType.ESCALATED in when,
        }
        ready = when.get(EventType.FULFILLED)
        flags["within_target"] = ready is not None and (ready - sent) <= timedelta(minutes=targets[order.store_id])
        durations = {
            "claim_seconds": (sent, when.get(EventType.CLAIMED)),
            "claim_ready_seconds": (when.get(EventType.CLAIMED), ready),
            "ready_paid_seconds": (ready, paid[0] if paid else None),
            "ready_collected_seconds": (ready, when.get(EventType.COMPLETED)),
        }
        keys = {
            ("overall", None),
            ("store", order.store_id),
            ("team", order.team_id),
            ("showcase", order.showcase_id),
            ("associate", associate),
            ("hour", local.hour),
        }
        for dimension, key in keys:
            group = (dimension, key, current)
            for name, on in flags.items():
                counts[group][name] += on
            for name, (start, end) in durations.items():
                if start is not None and end is not None:
                    times[group][name].append(max(int((end - start).total_seconds()), 0))
    return {
        group: Figures(
            times={name: (_nearest_rank(v, 0.5), _nearest_rank(v, 0.9)) for name, v in times[group].items()},
            **values,
        )
        for group, values in counts.items()
    }


def _normalised(group: tuple[str, object, bool], figures: Figures) -> Figures:
    """The times the page computes for the group (breakdowns: claim to ready only), when any."""
    shown = INTERVALS if group[0] == "overall" else BREAKDOWN_INTERVALS
    times = {name: value for name, value in figures.times.items() if value != (None, None) and name in shown}
    return Figures(**{**figures.__dict__, "times": times})


@pytest.mark.parametrize("which", ["Paris", "both"])
def test_every_figure_agrees_with_the_raw_events(generated, which):
    stores = generated[:1] if which == "Paris" else generated
    expected = _recomputed(stores)
    dashboard = build_dashboard(stores, PERIOD)
    shown: dict[tuple[str, object, bool], Figures] = {}
    for current in (True, False):
        shown[("overall", None, current)] = dashboard.overall.current if current else dashboard.overall.previous
        for dimension, groups in dashboard.by.items():
            for group in groups:
                figures = group.current if current else group.previous
                if figures.requested:
                    shown[(dimension, group.key, current)] = figures
    expected = {
        group: figures
        for group, figures in expected.items()
        if group[0] != "store" or group[1] in {s.pk for s in stores}
    }
    assert dashboard.overall.current.requested > 10 and dashboard.overall.previous.requested > 10
    assert {group: _normalised(group, f) for group, f in shown.items()} == {
        group: _normalised(group, f) for group, f in expected.items()
    }


def test_the_products_agree_with_the_order_lines(generated):
    zones = {store.pk: zoneinfo.ZoneInfo(store.timezone) for store in generated}
    expected: dict[int, dict[bool, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0, 0]))
    for order in Order.objects.prefetch_related("lines"):
        day = order.created_at.astimezone(zones[order.store_id]).date()
        if PERIOD.previous.start <= day <= PERIOD.end:
            for line in order.lines.all():
                figures = expected[line.product_id][day >= PERIOD.start]
                for n, value in enumerate((1, line.requested_qty, line.short_qty, line.rejected_qty)):
                    figures[n] += value
    shown = {
        product.key: {
            current: [figures["orders"], figures["units"], figures["not_found_units"], figures["rejected_units"]]
            for current, figures in ((True, product.current), (False, product.previous))
            if figures["orders"]
        }
        for product in build_dashboard(generated, PERIOD).products
    }
    assert shown == {key: dict(value) for key, value in expected.items()}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="grouping sets: PostgreSQL only")
def test_the_grouping_sets_query_gives_each_breakdown_its_own_query_s_rows(generated):
    """The breakdowns in one query (PostgreSQL) hold what a query per breakdown gives, null keys too."""
    facts = figures.facts_of(generated, PERIOD)
    one_query = figures.rows_by_grouping_sets(facts)
    for dimension, rows in figures.rows_by_dimension(facts).items():
        wanted = sorted(rows, key=repr)
        got = sorted(({name: row[name] for name in wanted[0]} for row in one_query[dimension]), key=repr)
        assert got == wanted, dimension
    assert any(row["associate_id"] is None for row in one_query["associate"])

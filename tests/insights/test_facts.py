"""Order facts from the events of real orders: each time and flag, late events, time zones."""

from datetime import UTC, date, datetime

import pytest

from shelfcall.insights import facts
from shelfcall.insights.figures import Period, build_dashboard
from shelfcall.insights.models import OrderFact
from shelfcall.orders import actions
from shelfcall.stores.models import Store
from tests.insights.stories import Story, caught_up, tell

# The refresh job reads only committed events (on PostgreSQL, those of finished transactions): real commits.
pytestmark = pytest.mark.django_db(transaction=True)
MONDAY = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # 10:00 in Paris


def test_a_whole_lifecycle_gives_each_time_and_flag(time_machine, showcase, associate, desk):
    story = Story(claim=2, ready=7.5, pay=9, collect=20, escalate=1, not_found=True, reject=True)
    order = tell(time_machine, showcase, MONDAY, story, by=associate, desk=desk)
    caught_up()
    fact = OrderFact.objects.get(order=order)
    assert (fact.claim_seconds, fact.claim_ready_seconds, fact.ready_paid_seconds, fact.ready_collected_seconds) == (
        120,
        330,
        90,
        750,
    )
    assert fact.ready_seconds == 450
    assert (fact.claimed, fact.picked, fact.ready, fact.paid, fact.collected) == (True,) * 5
    assert (fact.not_found, fact.rejected, fact.escalated, fact.expired) == (True, True, True, False)
    assert fact.associate_id == associate.user.pk
    assert (fact.local_date, fact.local_hour) == (date(2026, 11, 16), 10)


def test_paid_before_ready_waits_no_time_for_payment(time_machine, showcase, associate, desk):
    order = tell(time_machine, showcase, MONDAY, Story(claim=1, pay=2, ready=5, collect=6), by=associate, desk=desk)
    caught_up()
    assert OrderFact.objects.get(order=order).ready_paid_seconds == 0


def test_a_late_event_recomputes_its_order(time_machine, store, showcase, associate, desk):
    order = tell(time_machine, showcase, MONDAY, Story(claim=1, ready=4), by=associate, desk=desk)
    caught_up()
    week = Period(date(2026, 11, 16), date(2026, 11, 22))
    assert build_dashboard([store], week).overall.current.collected == 0

    time_machine.move_to(datetime(2026, 11, 25, 9, 0, tzinfo=UTC), tick=False)  # a week and more later
    actions.mark_paid(order.pk, by=associate)
    actions.hand_off_order(order.pk, by=associate)
    assert caught_up() == 2  # the two new events, nothing more

    figures = build_dashboard([store], week).overall.current
    assert (figures.paid, figures.collected) == (1, 1)
    assert figures.times["ready_collected_seconds"][0] == (9 * 24 * 60 - 4) * 60


def test_an_order_spanning_midnight_counts_on_the_day_it_was_sent(time_machine, store, showcase, associate, desk):
    sent = datetime(2026, 11, 16, 22, 50, tzinfo=UTC)  # 23:50 in Paris
    order = tell(time_machine, showcase, sent, Story(claim=5, ready=25, pay=26, collect=40), by=associate, desk=desk)
    caught_up()
    fact = OrderFact.objects.get(order=order)
    assert (fact.local_date, fact.local_hour, fact.claim_ready_seconds) == (date(2026, 11, 16), 23, 1200)
    assert build_dashboard([store], Period(date(2026, 11, 17), date(2026, 11, 17))).overall.current.requested == 0


def test_a_daylight_saving_change_keeps_local_hours(time_machine, store, showcase, associate, desk):
    """Paris leaves summer time on 25 October 2026 at 01:00 UTC: 09:00 local is 07:00 UTC before, 08:00 after."""
    before = tell(time_machine, showcase, datetime(2026, 10, 24, 7, 0, tzinfo=UTC), Story(), by=associate, desk=desk)
    after = tell(time_machine, showcase, datetime(2026, 10, 26, 8, 0, tzinfo=UTC), Story(), by=associate, desk=desk)
    the_night = tell(
        time_machine, showcase, datetime(2026, 10, 25, 0, 30, tzinfo=UTC), Story(), by=associate, desk=desk
    )
    caught_up()
    hours = dict(OrderFact.objects.values_list("order_id", "local_hour"))
    assert (hours[before.pk], hours[after.pk], hours[the_night.pk]) == (9, 9, 2)
    dashboard = build_dashboard([store], Period(date(2026, 10, 24), date(2026, 10, 26)))
    assert next(g for g in dashboard.by["hour"] if g.key == 9).current.requested == 2


def test_a_time_zone_change_keeps_the_old_orders_local_time(time_machine, store, showcase, associate, desk):
    early = tell(time_machine, showcase, MONDAY, Story(), by=associate, desk=desk)
    caught_up()
    time_machine.move_to(datetime(2026, 11, 18, 0, 0, tzinfo=UTC), tick=False)
    store.refresh_from_db()  # its order counter moved on
    store.timezone = "America/New_York"
    store.save()
    late = tell(time_machine, showcase, datetime(2026, 11, 19, 15, 0, tzinfo=UTC), Story(), by=associate, desk=desk)
    facts.rebuild_facts([early.pk, late.pk])  # even rebuilt after the change, the early one stays in Paris time
    hours = dict(OrderFact.objects.values_list("order_id", "local_hour"))
    assert (hours[early.pk], hours[late.pk]) == (10, 10)
    assert (
        build_dashboard(
            [Store.objects.get(pk=store.pk)], Period(date(2026, 11, 16), date(2026, 11, 22))
        ).overall.current.requested
        == 2
    )


def test_refresh_reads_each_event_once(time_machine, showcase, associate, desk):
    tell(time_machine, showcase, MONDAY, Story(claim=1), by=associate, desk=desk)
    assert caught_up() == 2
    assert caught_up() == 0
    assert facts.refresh_facts(batch=1) == 0

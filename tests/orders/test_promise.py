"""The pickup promise: the queue position, the store's usual time at this hour, and the opening hours."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from shelfcall.orders import actions, promise
from shelfcall.orders.models import Order
from shelfcall.orders.promise import (
    HISTORY_ROWS,
    MIN_DAYS,
    MIN_ORDERS,
    History,
    HistoryCache,
    hour_start,
    order_promise,
    orders_ahead,
    queue_promises,
    summarize,
)
from shelfcall.stores.hours import Period, WeeklyHours
from shelfcall.stores.models import OpeningPeriod
from tests.factories import TILL, make_product, make_showcase, make_store, staff, submit
from tests.orders.history import daily, served

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def store():
    return make_store(timezone="Europe/Paris")


@pytest.fixture
def showcase(store):
    return make_showcase(store, products=[make_product(store, on_hand=1000)])


@pytest.fixture
def alex(store):
    return staff(store, "Alex")


def at(text: str, tz: ZoneInfo = PARIS) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=tz)


def weekdays_nine_to_six(store) -> None:
    for weekday in range(5):
        OpeningPeriod.objects.create(store=store, weekday=weekday, opens=time(9), closes=time(18))


class TestEnoughHistory:
    """At least MIN_ORDERS orders, sent on at least MIN_DAYS different days: both thresholds, both sides."""

    def rows(self, orders: int, days: int) -> list[tuple[datetime, datetime, datetime]]:
        sent = [at("2026-11-02 10:00") + timedelta(days=n % days, minutes=n) for n in range(orders)]
        return [(s, s + timedelta(minutes=2), s + timedelta(minutes=10 + n)) for n, s in enumerate(sent)]

    def test_one_order_too_few_gives_no_figure(self):
        history = summarize(self.rows(MIN_ORDERS - 1, MIN_DAYS), PARIS)
        assert (history.orders, history.ready_minutes, history.pick_minutes) == (MIN_ORDERS - 1, None, None)

    def test_just_enough_orders_give_the_median(self):
        history = summarize(self.rows(MIN_ORDERS, MIN_DAYS), PARIS)
        # ready after 10, 11 … 19 minutes: the median is 14.5, said as 15; picked in 8 … 17 (median 12.5 → 13)
        assert (history.ready_minutes, history.pick_minutes, history.days) == (15, 13, MIN_DAYS)

    def test_one_day_too_few_gives_no_figure(self):
        history = summarize(self.rows(MIN_ORDERS * 3, MIN_DAYS - 1), PARIS)
        assert history.days == MIN_DAYS - 1 and history.ready_minutes is None

    def test_orders_never_ready_do_not_count(self):
        rows = [(sent, claimed, None) for sent, claimed, _ready in self.rows(MIN_ORDERS, MIN_DAYS)]
        assert summarize(rows, PARIS) == History(orders=0, days=0, ready_minutes=None, pick_minutes=None)


class TestStoreHistory:
    def test_a_store_with_a_few_weeks_behind_it_has_a_figure(self, store, showcase, alex, time_machine):
        daily(showcase, alex, at("2026-11-09 10:10"), days=5, per_day=2, ready_after=9)
        time_machine.move_to(at("2026-11-16 10:30"), tick=False)
        history = promise.load_history(store.pk, store.timezone, hour_start(at("2026-11-16 10:30"), "Europe/Paris"))
        assert (history.orders, history.days, history.ready_minutes, history.pick_minutes) == (10, 5, 9, 7)

    def test_a_store_opened_yesterday_has_too_little_history(self, store, showcase, alex, time_machine):
        """However busy its first day was: one day is not a habit. The shopper is promised no time."""
        daily(showcase, alex, at("2026-11-15 09:05"), days=1, per_day=MIN_ORDERS * 2)
        time_machine.move_to(at("2026-11-16 10:00"), tick=False)
        order = submit(showcase)
        assert promise.history.get(store, order.created_at).ready_minutes is None
        found = order_promise(order)
        assert found is not None and found.ahead == 0
        assert (found.usual_minutes, found.ready_by) == (None, None)

    def test_a_busy_store_is_sampled_on_every_day(self, store, showcase, alex, monkeypatch):
        """The most recent PER_DAY orders of each day, not the most recent of all: four weeks, not two days."""
        monkeypatch.setattr(promise, "PER_DAY", 2)
        daily(showcase, alex, at("2026-11-09 10:00"), days=4, per_day=3, ready_after=10)
        daily(showcase, alex, at("2026-11-13 10:00"), days=1, per_day=3, ready_after=30)  # the latest day
        history = promise.load_history(store.pk, store.timezone, hour_start(at("2026-11-16 10:30"), "Europe/Paris"))
        assert (history.orders, history.days, history.ready_minutes) == (10, 5, 10)

    def test_other_hours_and_other_stores_do_not_count(self, store, showcase, alex, time_machine):
        daily(showcase, alex, at("2026-11-09 14:00"), days=5, per_day=2)  # the afternoon
        other = make_store()
        daily(
            make_showcase(other, products=[make_product(other, on_hand=100)]), staff(other), at("2026-11-09 10:00"), 5
        )
        hour = hour_start(at("2026-11-16 10:30"), store.timezone)
        assert promise.load_history(store.pk, store.timezone, hour).orders == 0

    def test_the_window_is_the_28_days_before(self, store, showcase, alex):
        daily(showcase, alex, at("2026-10-01 10:00"), days=5, per_day=2)  # more than 28 days before
        daily(showcase, alex, at("2026-11-16 09:10"), days=1, per_day=2)  # today, an hour ago: still running
        hour = hour_start(at("2026-11-16 10:30"), store.timezone)
        assert promise.load_history(store.pk, store.timezone, hour).orders == 0

    def test_the_same_local_hours_on_both_sides_of_a_daylight_saving_change(self, store, showcase, alex):
        """Paris moved its clocks forward on 29 March 2026. Before, 11:15 was 10:15 UTC; after, 09:15 was
        07:15 UTC. Both are neighbours of 10 o'clock in Paris; by UTC hours (of either moment) one side
        would fall out."""
        before = daily(showcase, alex, at("2026-03-23 11:15"), days=6, ready_after=20)  # 23 to 28 March
        after = daily(showcase, alex, at("2026-03-30 09:15"), days=6, ready_after=8)  # 30 March to 4 April
        hour = hour_start(at("2026-04-06 10:30"), store.timezone)
        history = promise.load_history(store.pk, store.timezone, hour)
        assert history.orders == len(before) + len(after) == 12 and history.days == 12
        assert history.ready_minutes == 14  # the median of six 8s and six 20s

    def test_the_fall_back_hour_counts_once_by_its_own_clock(self, store, showcase, alex):
        """On 25 October 2026 Paris's clock read 02:00-02:59 twice; each order keeps the hour it was sent in."""
        daily(showcase, alex, at("2026-10-20 02:30"), days=5)  # 20 to 24 October: 02:30 local
        twice = datetime(2026, 10, 25, 0, 30, tzinfo=UTC), datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
        for sent in twice:  # 02:30 CEST, then 02:30 CET
            served(showcase, alex, sent)
        hour = hour_start(at("2026-10-26 03:10"), store.timezone)
        assert promise.load_history(store.pk, store.timezone, hour).orders == 7

    def test_orders_across_midnight(self, store, showcase, alex):
        """At 00:20, the hours are 23, 0 and 1: last night's 23:40 orders, ready at 00:05, count (25 minutes)."""
        daily(showcase, alex, at("2026-11-10 23:40"), days=5, per_day=2, ready_after=25)
        daily(showcase, alex, at("2026-11-10 21:40"), days=5, ready_after=90)  # 21 o'clock: not a neighbour
        hour = hour_start(at("2026-11-16 00:20"), store.timezone)
        history = promise.load_history(store.pk, store.timezone, hour)
        assert (history.orders, history.ready_minutes) == (10, 25)

    def test_a_time_zone_change_reads_the_history_again_in_the_new_hours(self, store, showcase, alex, time_machine):
        """12:50 in Paris (11:50 UTC) is 17:20 in Kolkata: a neighbour of 11:10 in Paris, not of 15:40 there."""
        daily(showcase, alex, at("2026-11-09 12:50"), days=5, per_day=2)
        time_machine.move_to(at("2026-11-16 11:10"), tick=False)
        now = at("2026-11-16 11:10")
        assert promise.history.get(store, now).ready_minutes is not None
        store.timezone = "Asia/Kolkata"
        store.save(update_fields=["timezone"])
        assert promise.history.get(store, now).orders == 0


class TestHistoryCache:
    def test_read_at_most_once_per_store_and_hour(self, store):
        loads = []

        def load(store_id: int, timezone: str, hour: datetime) -> History:
            loads.append((store_id, timezone, hour))
            return History(orders=0, days=0, ready_minutes=None, pick_minutes=None)

        cache = HistoryCache(load)
        for minute in (0, 5, 59):
            cache.get(store, at(f"2026-11-16 10:{minute:02d}"))
        assert loads == [(store.pk, "Europe/Paris", datetime(2026, 11, 16, 9, tzinfo=UTC))]
        cache.get(store, at("2026-11-16 11:00"))
        cache.get(make_store(), at("2026-11-16 11:00"))
        store.timezone = "Asia/Seoul"
        cache.get(store, at("2026-11-16 11:00"))
        assert len(loads) == 4
        cache.forget()
        cache.get(store, at("2026-11-16 11:00"))
        assert len(loads) == 5

    def test_keeps_a_bounded_number_of_hours(self, store):
        loads = []
        cache = HistoryCache(lambda *key: loads.append(key) or History(0, 0, None, None), size=2)
        for hour in (9, 10, 11, 9):
            cache.get(store, at(f"2026-11-16 {hour:02d}:00"))
        assert len(loads) == 4  # 09:00 was dropped for 11:00, the least recently used

    def test_one_bounded_statement(self, store, showcase, alex, django_assert_num_queries):
        daily(showcase, alex, at("2026-11-09 10:10"), days=5, per_day=2)
        with django_assert_num_queries(1) as captured:
            promise.history.get(store, at("2026-11-16 10:30"))
            promise.history.get(store, at("2026-11-16 10:45"))
        assert f"LIMIT {HISTORY_ROWS}" in captured.captured_queries[0]["sql"]


class TestQueuePosition:
    def test_waiting_requests_of_the_same_team_ahead(self, store, showcase, alex):
        first, second, mine = submit(showcase), submit(showcase), submit(showcase)
        other_team = make_showcase(store, products=[make_product(store, on_hand=10)])
        submit(other_team)
        assert [orders_ahead(o) for o in (first, second, mine)] == [0, 1, 2]
        actions.claim_order(first.pk, by=alex)
        assert orders_ahead(mine) == 1
        actions.cancel_order(second.pk, by=TILL, reason="Changed their mind")
        assert orders_ahead(mine) == 0

    def test_requests_without_a_team_queue_together(self, store, showcase):
        """As imported online orders may come: a team's waiting requests are not ahead of them."""
        submit(showcase)
        first, mine = submit(showcase), submit(showcase)
        Order.objects.filter(pk__in=[first.pk, mine.pk]).update(team=None)
        mine.refresh_from_db()
        assert orders_ahead(mine) == 1

    def test_read_with_the_order_by_its_token_it_is_the_same_count(self, store, showcase, alex):
        from shelfcall.orders.queries import find_order_by_token

        orders = [submit(showcase) for _ in range(4)]
        Order.objects.filter(pk__in=[orders[1].pk, orders[3].pk]).update(team=None)
        Order.objects.filter(pk=orders[2].pk).update(due_at=orders[0].due_at)  # a tie: sent later, so behind
        actions.claim_order(orders[0].pk, by=alex)
        for order in orders:
            order.refresh_from_db()
            read = find_order_by_token(order.public_token)
            assert getattr(read, promise.AHEAD_WHEN_READ) == orders_ahead(order), order
            if order.status == "submitted":
                assert order_promise(read).ahead == orders_ahead(order)

    def test_one_statement(self, showcase, django_assert_num_queries):
        mine = submit(showcase)
        with django_assert_num_queries(1):
            orders_ahead(mine)


class TestOpeningHours:
    def test_a_store_with_no_hours_is_always_open(self, showcase, time_machine):
        time_machine.move_to(at("2026-11-15 03:00"), tick=False)  # a Sunday night
        found = order_promise(submit(showcase))
        assert found is not None and not found.closed

    def test_closed_for_the_weekend_opens_on_monday(self, store, showcase, time_machine):
        weekdays_nine_to_six(store)
        time_machine.move_to(at("2026-11-14 10:00"), tick=False)  # Saturday
        found = order_promise(submit(showcase))
        assert found is not None and found.closed and found.ahead == 0
        assert found.opens_at == at("2026-11-16 09:00") and found.opens_on == "later"

    @pytest.mark.parametrize(("now", "opens_on"), [("2026-11-16 07:30", "today"), ("2026-11-16 19:00", "tomorrow")])
    def test_opens_today_or_tomorrow(self, store, showcase, time_machine, now, opens_on):
        weekdays_nine_to_six(store)
        time_machine.move_to(at(now), tick=False)
        assert order_promise(submit(showcase)).opens_on == opens_on

    def test_the_opening_after_a_daylight_saving_change_is_at_the_stores_own_nine(self, store, showcase, time_machine):
        weekdays_nine_to_six(store)
        time_machine.move_to(at("2026-03-28 12:00"), tick=False)  # Saturday; the clocks go forward on Sunday
        assert order_promise(submit(showcase)).opens_at == datetime(2026, 3, 30, 7, tzinfo=UTC)  # 09:00 CEST

    def test_closed_with_no_opening_in_the_coming_week(self, store, showcase, time_machine, monkeypatch):
        """Weekly periods always open again within a week, but hours that give none must say so, not guess."""

        class NeverAgain(WeeklyHours):
            def next_opening(self, at: datetime) -> datetime | None:
                return None

        weekdays_nine_to_six(store)
        monkeypatch.setattr(
            promise, "weekly_hours", lambda store: NeverAgain(store.timezone, (Period(0, time(9), time(18)),))
        )
        time_machine.move_to(at("2026-11-14 10:00"), tick=False)
        found = order_promise(submit(showcase))
        assert found.closed and found.opens_at is None and found.opens_on == ""

    def test_a_request_sent_while_closed_is_promised_from_the_opening(self, store, showcase, alex, time_machine):
        daily(showcase, alex, at("2026-11-09 09:10"), days=5, per_day=2, ready_after=10)
        weekdays_nine_to_six(store)
        time_machine.move_to(at("2026-11-16 08:40"), tick=False)
        order = submit(showcase)
        time_machine.move_to(at("2026-11-16 09:01"), tick=False)
        found = order_promise(order)
        assert not found.closed and found.ready_by == at("2026-11-16 09:10") and not found.late


class TestUsualTime:
    def test_ready_by_and_late(self, store, showcase, alex, time_machine):
        daily(showcase, alex, at("2026-11-09 10:10"), days=5, per_day=2, ready_after=12)
        time_machine.move_to(at("2026-11-16 10:30"), tick=False)
        order = submit(showcase)
        found = order_promise(order)
        assert (found.usual_minutes, found.ready_by, found.late) == (12, at("2026-11-16 10:42"), False)
        actions.claim_order(order.pk, by=alex)
        order.refresh_from_db()
        time_machine.move_to(at("2026-11-16 10:43"), tick=False)
        found = order_promise(order)
        assert found.ahead is None and found.late

    def test_no_promise_once_ready_or_closed(self, store, showcase, alex):
        order = served(showcase, alex, datetime.now(UTC))
        assert order_promise(order) is None


class TestQueuePromises:
    def test_promised_missed_and_at_risk(self, store, showcase, alex, time_machine):
        daily(showcase, alex, at("2026-11-09 10:00"), days=5, per_day=2, ready_after=12)  # picked in 10
        time_machine.move_to(at("2026-11-16 10:00"), tick=False)
        early = submit(showcase)
        time_machine.move_to(at("2026-11-16 10:05"), tick=False)
        fresh = submit(showcase)
        taken = submit(showcase)
        actions.claim_order(taken.pk, by=alex)
        time_machine.move_to(at("2026-11-16 10:07"), tick=False)
        orders = list(store.orders.order_by("pk").filter(pk__in=[early.pk, fresh.pk, taken.pk]))
        promises = queue_promises(store, orders)
        # early: promised 10:12; nobody has it at 10:07, and picking takes 10 minutes: it will miss it
        assert promises[early.pk] == promise.QueuePromise(at("2026-11-16 10:12"), True, False, True)
        # fresh: promised 10:17, picking from now ends 10:17: just in time; taken at 10:05 ends 10:15
        assert promises[fresh.pk].at_risk is False and promises[taken.pk].at_risk is False
        time_machine.move_to(at("2026-11-16 10:12"), tick=False)
        assert queue_promises(store, orders)[early.pk].missed

    def test_without_history_the_target_is_the_due_time(self, store, showcase, django_assert_num_queries):
        order = submit(showcase)
        with django_assert_num_queries(2):  # the opening hours, the history of the hour
            promises = queue_promises(store, [order])
        assert promises[order.pk] == promise.QueuePromise(order.due_at, False, False, False)

    def test_nothing_to_promise_reads_nothing(self, store, alex, showcase, django_assert_num_queries):
        ready = served(showcase, alex, datetime.now(UTC))
        with django_assert_num_queries(0):
            assert queue_promises(store, [ready]) == {}

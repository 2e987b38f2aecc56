from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from shelfcall.stores.hours import Period, WeeklyHours, weekly_hours
from shelfcall.stores.models import OpeningPeriod
from tests.factories import make_store

PARIS = ZoneInfo("Europe/Paris")
WEEKDAYS_9_TO_19 = tuple(Period(day, time(9), time(19)) for day in range(5))


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def test_a_store_that_gave_no_hours_counts_as_open():
    hours = WeeklyHours("Europe/Paris", ())
    assert hours.is_open(paris(2026, 12, 6, 3, 0))
    assert hours.next_opening(paris(2026, 12, 6, 3, 0)) is None


def test_open_within_a_period_and_closed_at_its_end():
    hours = WeeklyHours("Europe/Paris", WEEKDAYS_9_TO_19)
    assert hours.is_open(paris(2026, 12, 1, 9, 0))  # a Tuesday
    assert hours.closes_at(paris(2026, 12, 1, 12, 0)) == paris(2026, 12, 1, 19, 0)
    assert not hours.is_open(paris(2026, 12, 1, 19, 0))
    assert hours.next_opening(paris(2026, 12, 1, 19, 0)) == paris(2026, 12, 2, 9, 0)


def test_closed_over_the_weekend_opens_on_monday():
    hours = WeeklyHours("Europe/Paris", WEEKDAYS_9_TO_19)
    assert hours.next_opening(paris(2026, 12, 5, 11, 0)) == paris(2026, 12, 7, 9, 0)


def test_a_lunch_break_closes_the_store_between_two_periods():
    hours = WeeklyHours("Europe/Paris", (Period(1, time(9), time(12)), Period(1, time(14), time(18))))
    assert not hours.is_open(paris(2026, 12, 1, 13, 0))
    assert hours.next_opening(paris(2026, 12, 1, 13, 0)) == paris(2026, 12, 1, 14, 0)


def test_a_night_period_runs_past_midnight_into_the_next_day():
    hours = WeeklyHours("Europe/Paris", (Period(4, time(22), time(2)),))  # Friday 22:00 to Saturday 02:00
    assert hours.is_open(paris(2026, 12, 5, 1, 30))
    assert not hours.is_open(paris(2026, 12, 5, 2, 0))
    assert hours.next_opening(paris(2026, 12, 5, 2, 0)) == paris(2026, 12, 11, 22, 0)


def test_opening_times_stay_on_the_wall_clock_across_a_daylight_saving_change():
    hours = WeeklyHours("Europe/Paris", (Period(6, time(9), time(19)), Period(0, time(9), time(19))))
    # Paris leaves summer time on Sunday 25 October 2026: 09:00 is 08:00 UTC, not 07:00 as the day before.
    assert hours.is_open(datetime(2026, 10, 25, 8, 0, tzinfo=UTC))
    assert not hours.is_open(datetime(2026, 10, 25, 7, 30, tzinfo=UTC))
    assert hours.next_opening(datetime(2026, 10, 24, 20, 0, tzinfo=UTC)) == datetime(2026, 10, 25, 8, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_weekly_hours_reads_the_stores_periods_in_its_time_zone():
    store = make_store(timezone="Asia/Seoul")
    OpeningPeriod.objects.create(store=store, weekday=1, opens=time(10), closes=time(20))
    hours = weekly_hours(store)
    assert hours.is_open(datetime(2026, 12, 1, 1, 0, tzinfo=UTC))  # 10:00 in Seoul
    assert not hours.is_open(datetime(2026, 12, 1, 0, 59, tzinfo=UTC))

"""When a store is open, from its weekly opening periods, in the store's own time zone.

A store with no periods at all has not said when it opens: callers treat that as "always open" and make
no promise about opening times. Wall-clock times are kept as the store writes them, so a period that
opens at 09:00 opens at 09:00 local time on both sides of a daylight-saving change.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from shelfcall.stores.models import OpeningPeriod, Store

_LOOK_BACK_DAYS = 1  # a night period that opened yesterday may still be running
_LOOK_AHEAD_DAYS = 8  # one full week after today, so next week's same weekday is seen


@dataclass(frozen=True)
class Period:
    weekday: int  # Monday is 0, as datetime.weekday()
    opens: time
    closes: time

    def on(self, day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """The stretch this period covers when it falls on `day` (which must be its weekday)."""
        # In UTC: aware datetimes sharing one tzinfo compare by wall time, which is wrong across a DST change.
        start = datetime.combine(day, self.opens, tzinfo=tz).astimezone(UTC)
        end_day = day + timedelta(days=1) if self.closes <= self.opens else day
        return start, datetime.combine(end_day, self.closes, tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True)
class WeeklyHours:
    timezone: str
    periods: tuple[Period, ...]

    @property
    def known(self) -> bool:
        return bool(self.periods)

    def stretches(self, around: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Every open stretch from the day before `around` to a week after it, in time order."""
        tz = ZoneInfo(self.timezone)
        today = around.astimezone(tz).date()
        for offset in range(-_LOOK_BACK_DAYS, _LOOK_AHEAD_DAYS):
            day = today + timedelta(days=offset)
            for period in self.periods:
                if period.weekday == day.weekday():
                    yield period.on(day, tz)

    def is_open(self, at: datetime) -> bool:
        """Open at `at`; a store that gave no hours counts as open."""
        if not self.known:
            return True
        return any(start <= at < end for start, end in self.stretches(at))

    def next_opening(self, at: datetime) -> datetime | None:
        """When the store next opens after `at` (None when it is open now or gave no hours)."""
        if self.is_open(at):
            return None
        return min((start for start, _end in self.stretches(at) if start > at), default=None)

    def closes_at(self, at: datetime) -> datetime | None:
        """When the stretch open at `at` ends (None when closed now or no hours are known)."""
        return max((end for start, end in self.stretches(at) if start <= at < end), default=None)


def weekly_hours(store: Store, periods: Iterable[OpeningPeriod] | None = None) -> WeeklyHours:
    """The store's hours; pass `periods` when they were prefetched, to save the query."""
    rows = store.opening_periods.all() if periods is None else periods
    return WeeklyHours(
        timezone=store.timezone,
        periods=tuple(Period(row.weekday, row.opens, row.closes) for row in rows),
    )

"""Rate limits and lockouts, counted in the database.

The counters live in one table so that every web process and worker shares them, no amount of
traffic can evict them (a cache culls its oldest keys once full, which an attacker can force), and
one increment is one atomic statement (`INSERT … ON CONFLICT DO UPDATE … RETURNING`), so two
requests at the same moment on two processes both count. A busy key (the API's) is counted a block of
hits per statement (`Allowance`). Windows are fixed: `limit` hits per
`seconds`, starting again at each multiple of `seconds`. Keys are stored hashed: the table holds no
addresses, user names or device ids."""

import hashlib
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from shelfcall.core import clock
from shelfcall.core.errors import ShelfcallError
from shelfcall.core.models import ThrottleCounter


@dataclass(frozen=True)
class Rate:
    """At most `limit` hits per `seconds` for one key of `scope` (e.g. one address, one account)."""

    scope: str
    limit: int
    seconds: int

    def window(self, now: datetime) -> int:
        return int(now.timestamp() // self.seconds)

    def retry_after(self, now: datetime) -> int:
        """Whole seconds until this window ends and the count starts again."""
        return max(1, math.ceil((self.window(now) + 1) * self.seconds - now.timestamp()))


class Throttled(ShelfcallError):
    """Too many attempts; `retry_after` says how many seconds until the next one can pass."""

    code = "rate_limited"
    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(str(_("Too many requests. Wait a little and try again.")))
        self.retry_after = retry_after


def _hashed(rate: Rate, key: str, window: int) -> str:
    return hashlib.sha256(f"{rate.scope}\0{key}\0{window}".encode()).hexdigest()


def hit(rate: Rate, key: str, amount: int = 1) -> int:
    """Count `amount` hits for `key` and return the hits so far in this window, these included."""
    now = clock.now()
    window = rate.window(now)
    expires_at = datetime.fromtimestamp((window + 1) * rate.seconds, tz=now.tzinfo)
    table = connection.ops.quote_name(ThrottleCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (key, hits, expires_at) VALUES (%s, %s, %s)"  # noqa: S608 (our own table name)
            f" ON CONFLICT (key) DO UPDATE SET hits = {table}.hits + EXCLUDED.hits RETURNING hits",
            [_hashed(rate, key, window), amount, expires_at],
        )
        return cursor.fetchone()[0]


class Allowance:
    """`check` for a busy key, counted in the database a block of hits at a time: one upsert per block.

    A process counts `block` hits at once and lets that many requests through from memory. Every hit let
    through was counted first, so the limit holds across processes: of a block that crosses the limit
    only the part under it is let through. The price: hits a process has counted but not used yet count
    against the key too, so with P processes a key may be refused up to P * (block - 1) hits before
    its limit. The block is a sixtieth of the limit, at most 10 (a 600-a-minute key: 10, so at most 9 hits,
    1.5 % of the limit, per process); a limit under 120 is counted hit by hit."""

    MAX_BLOCK = 10

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._left: dict[tuple[str, str], tuple[int, int]] = {}  # (scope, key) -> (window, hits left)

    @classmethod
    def block(cls, rate: Rate) -> int:
        return max(1, min(cls.MAX_BLOCK, rate.limit // 60))

    def check(self, rate: Rate, key: str) -> None:
        """Let one hit through, or raise Throttled, as `check(rate, key)` does."""
        if not enabled():
            return
        window, slot = rate.window(clock.now()), (rate.scope, key)
        with self._lock:
            kept_window, left = self._left.get(slot, (window, 0))
            if kept_window == window and left > 0:
                self._left[slot] = (window, left - 1)
                return
        block = self.block(rate)
        granted = min(block, rate.limit - (hit(rate, key, block) - block))
        if granted <= 0:
            raise Throttled(rate.retry_after(clock.now()))
        with self._lock:  # another thread's block may have come back meanwhile: keep both
            kept_window, left = self._left.get(slot, (window, 0))
            self._left[slot] = (window, (left if kept_window == window else 0) + granted - 1)

    def forget(self) -> None:
        """Drop the hits counted ahead (tests: the database they were counted in is rolled back)."""
        with self._lock:
            self._left.clear()


def hits(rate: Rate, key: str) -> int:
    """The hits counted for `key` in this window, without counting one more."""
    counter = ThrottleCounter.objects.filter(key=_hashed(rate, key, rate.window(clock.now()))).first()
    return counter.hits if counter else 0


def is_over(rate: Rate, key: str) -> bool:
    """True once `key` has used up this window (for lockouts that count only failures)."""
    return enabled() and hits(rate, key) >= rate.limit


def count_failure(rate: Rate, key: str) -> None:
    if enabled():
        hit(rate, key)


def forget(rate: Rate, key: str) -> None:
    """Start `key` afresh in this window (e.g. an account's failures after a right password)."""
    ThrottleCounter.objects.filter(key=_hashed(rate, key, rate.window(clock.now()))).delete()


def count_back(rate: Rate, key: str) -> None:
    """Take back one hit counted in advance, for an attempt that turned out not to be a failure."""
    ThrottleCounter.objects.filter(key=_hashed(rate, key, rate.window(clock.now())), hits__gt=0).update(
        hits=F("hits") - 1
    )


def check(rate: Rate, key: str) -> None:
    """Count one hit and raise Throttled if it goes over the limit."""
    if enabled() and hit(rate, key) > rate.limit:
        raise Throttled(rate.retry_after(clock.now()))


def refuse_if_over(rate: Rate, key: str) -> None:
    """Raise Throttled if `key` has used up this window, without counting a hit."""
    if is_over(rate, key):
        raise Throttled(rate.retry_after(clock.now()))


def enabled() -> bool:
    return settings.RATELIMIT_ENABLE


def purge_expired() -> int:
    """Drop the counters of windows that have ended (the worker's housekeeping)."""
    deleted, _counts = ThrottleCounter.objects.filter(expires_at__lt=clock.now()).delete()
    return deleted


# The key a request is counted under; None leaves the request out of that limit.
KeyFunction = Callable[[HttpRequest], str | None]


@dataclass(frozen=True)
class Limit:
    rate: Rate
    key: KeyFunction


def throttled(rate: Rate, key: KeyFunction) -> Callable:
    """View decorator: count each request against `rate` under `key(request)`; over it, the view is
    not run and the middleware answers 429 with Retry-After."""
    return throttled_by(Limit(rate, key))


def throttled_by(*limits: Limit) -> Callable:
    """View decorator: a request must pass every limit (say, one device's and its whole network's).

    Limits are counted in the order given and counting stops at the first one that is over: list the
    narrowest first, so that a client hammering past its own limit uses up nobody else's."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        scope = f"{view.__module__}.{view.__qualname__}"  # each view counts on its own

        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            for limit in limits:
                key = limit.key(request)
                if key is not None:
                    check(limit.rate, f"{scope}:{key}")
            return view(request, *args, **kwargs)

        return wrapped

    return decorate

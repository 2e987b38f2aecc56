"""Item 6: rate-limit counters cannot be evicted by traffic and are shared by every process."""

import threading

import pytest
from django.db import connection

from shelfcall.core import throttle
from shelfcall.core.housekeeping import tidy
from shelfcall.core.throttle import Rate

LOCKOUT = Rate("test.lockout", 5, 300)


@pytest.fixture(autouse=True)
def _limits_on(rate_limits):
    pass


@pytest.mark.django_db
def test_a_flood_of_other_keys_does_not_evict_a_lockout():
    for _ in range(5):
        throttle.count_failure(LOCKOUT, "account:sam")
    assert throttle.is_over(LOCKOUT, "account:sam")
    # A cache culls its oldest entries past MAX_ENTRIES (300 by default); the counter table does not.
    flood = Rate("test.flood", 1000, 300)
    for n in range(1000):
        throttle.hit(flood, f"addr:{n}")
    assert throttle.is_over(LOCKOUT, "account:sam")


@pytest.mark.django_db
def test_counters_hold_no_plain_keys():
    throttle.hit(LOCKOUT, "account:sam@example.com")
    from shelfcall.core.models import ThrottleCounter

    (counter,) = ThrottleCounter.objects.all()
    assert "sam" not in counter.key and len(counter.key) == 64


@pytest.mark.django_db
def test_a_window_that_ended_starts_again_and_is_purged(time_machine):
    throttle.hit(LOCKOUT, "k")
    time_machine.shift(301)
    assert throttle.hits(LOCKOUT, "k") == 0
    assert tidy() == 1


@pytest.mark.django_db
def test_over_the_limit_raises_with_retry_after(time_machine):
    for _ in range(5):
        throttle.check(LOCKOUT, "k")
    with pytest.raises(throttle.Throttled) as refusal:
        throttle.check(LOCKOUT, "k")
    assert 1 <= refusal.value.retry_after <= 300


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_hits_at_the_same_moment_on_separate_connections_all_count():
    """Two processes hitting the same key at once: each increment is one atomic statement."""
    workers, per_worker = 8, 25
    barrier = threading.Barrier(workers)

    def hammer():
        barrier.wait()
        try:
            for _ in range(per_worker):
                throttle.hit(LOCKOUT, "shared")
        finally:
            connection.close()

    threads = [threading.Thread(target=hammer) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert throttle.hits(LOCKOUT, "shared") == workers * per_worker


BUSY = Rate("test.busy", 600, 60)  # counted 10 hits a statement


def _let_through(allowance: throttle.Allowance, rate: Rate, key: str) -> bool:
    try:
        allowance.check(rate, key)
    except throttle.Throttled:
        return False
    return True


@pytest.mark.django_db
def test_a_busy_key_is_counted_a_block_at_a_time(django_assert_num_queries):
    allowance = throttle.Allowance()
    assert throttle.Allowance.block(BUSY) == 10 and throttle.Allowance.block(LOCKOUT) == 1
    with django_assert_num_queries(1):
        for _ in range(10):
            allowance.check(BUSY, "till")
    assert throttle.hits(BUSY, "till") == 10
    allowance.check(BUSY, "till")
    assert throttle.hits(BUSY, "till") == 20, "the next block is counted before its first hit goes through"


@pytest.mark.django_db
def test_two_processes_counting_in_blocks_never_let_more_than_the_limit_through():
    """Each process (its own Allowance) lets through only hits the shared counter took under the limit."""
    processes = [throttle.Allowance(), throttle.Allowance()]
    through = sum(_let_through(processes[n % 2], BUSY, "till") for n in range(700))
    assert through <= BUSY.limit
    assert through >= BUSY.limit - len(processes) * (throttle.Allowance.block(BUSY) - 1)
    assert not any(_let_through(process, BUSY, "till") for process in processes)


@pytest.mark.django_db
def test_a_block_starts_afresh_in_the_next_window(time_machine):
    allowance = throttle.Allowance()
    for _ in range(BUSY.limit):
        allowance.check(BUSY, "till")
    assert not _let_through(allowance, BUSY, "till")
    time_machine.shift(60)
    assert _let_through(allowance, BUSY, "till")

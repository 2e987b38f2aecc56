"""The background job loop (core/jobs/): registration, periodic work at its interval, queued jobs with
their progress, outcomes, failures, leases and retries."""

import threading
import time
from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from shelfcall.core import clock
from shelfcall.core.jobs import JobCancelled, JobLost, UnknownJobKind, cancel, enqueue, loop, queue, registry, retry
from shelfcall.core.jobs.loop import Schedule, one_pass
from shelfcall.core.jobs.models import Job, JobState
from shelfcall.core.jobs.registry import Periodic

pytestmark = pytest.mark.django_db
START = "2026-11-23 10:00:00+00:00"


@pytest.fixture
def pass_in_this_thread(monkeypatch):
    """A pass ends by closing stale connections, as a worker's thread must; here it runs on the test's own
    connection, inside the test's transaction, which must stay open."""
    monkeypatch.setattr(loop, "close_old_connections", lambda: None)


def never_heard() -> bool:
    return False


def always_heard() -> bool:
    return True


class TestRegistration:
    def test_every_apps_work_is_registered_and_the_timers_share_one_thread_in_order(self):
        threads = registry.threads()
        assert [entry.name for entry in threads[registry.TIMERS]] == [
            "notify.escalations",
            "orders.reminders",
            "orders.expiries",
            "orders.substitutes",
        ]
        assert [entry.name for entry in threads["deliveries"]] == ["notify.deliveries"]
        assert [entry.name for entry in threads["jobs"]] == ["core.jobs"]
        housekeeping = [(entry.name, entry.every) for entry in threads["housekeeping"]]
        assert housekeeping == [("core.housekeeping", timedelta(minutes=1))]
        insights = [(entry.name, entry.every) for entry in threads["insights"]]
        assert insights == [("insights.facts", None), ("insights.weekly_summaries", timedelta(hours=1))]

    @pytest.mark.parametrize("when", [{}, {"every": timedelta(seconds=5), "next_due": clock.now}])
    def test_periodic_work_needs_an_interval_or_a_due_time(self, when):
        with pytest.raises(ImproperlyConfigured, match="exactly one of `every` and `next_due`"):
            registry.periodic("tests.nothing", lambda: 0, **when)
        assert "tests.nothing" not in {entry.name for entry in registry.all_periodic()}

    def test_an_unknown_kind_is_refused_naming_the_known_ones(self, job_kinds):
        job_kinds(**{"tests.import": lambda context: None})
        with pytest.raises(UnknownJobKind, match=r"'tests\.imprt'.*known kinds: .*tests\.import"):
            enqueue("tests.imprt", {})
        assert not Job.objects.exists()

    def test_parameters_must_be_json(self, job_kinds):
        job_kinds(**{"tests.import": lambda context: None})
        with pytest.raises(ValueError, match="Job parameters must be JSON"):
            enqueue("tests.import", {"when": clock.now()})
        assert not Job.objects.exists()


@pytest.mark.usefixtures("pass_in_this_thread")
class TestPeriodicWork:
    def test_it_runs_at_start_then_at_its_interval(self, time_machine):
        time_machine.move_to(START, tick=False)
        runs = []
        entry = Periodic("tests.tidy", lambda: runs.append(clock.now()) or 0, every=timedelta(minutes=5))
        schedule = Schedule()
        assert one_pass([entry], schedule, always_heard) == loop.LONGEST_REST_SECONDS  # ran; next in 5 min
        time_machine.shift(timedelta(minutes=4, seconds=50))
        assert one_pass([entry], schedule, always_heard) == pytest.approx(10)  # not yet: rests the 10 s left
        time_machine.shift(timedelta(seconds=10))
        one_pass([entry], schedule, always_heard)
        assert [run.strftime("%H:%M:%S") for run in runs] == ["10:00:00", "10:05:00"]

    def test_work_due_by_its_data_runs_when_due_and_again_at_once_while_it_finds_work(self, time_machine):
        time_machine.move_to(START, tick=False)
        due_at = [clock.now() + timedelta(seconds=3)]
        batches = [2, 1, 0]
        entry = Periodic("tests.timers", lambda: batches.pop(0), next_due=lambda: due_at[0])
        schedule = Schedule()
        assert one_pass([entry], schedule, always_heard) == pytest.approx(3)
        time_machine.shift(timedelta(seconds=3))
        assert one_pass([entry], schedule, always_heard) == 0  # handled two: go on
        assert one_pass([entry], schedule, always_heard) == 0
        assert one_pass([entry], schedule, always_heard) == loop.BLOCKED_REST_SECONDS  # due, yet nothing done
        assert batches == []

    def test_work_that_raises_is_logged_and_the_rest_of_the_pass_goes_on(self, time_machine, caplog):
        time_machine.move_to(START, tick=False)

        def broken() -> int:
            raise RuntimeError("a bug")

        done = []
        entries = [
            Periodic("tests.broken", broken, next_due=clock.now),
            Periodic("tests.fine", lambda: done.append(1) or 0, next_due=clock.now),
        ]
        assert one_pass(entries, Schedule(), always_heard) == loop.BLOCKED_REST_SECONDS
        assert done == [1] and "Worker tests.broken pass failed" in caplog.text

    def test_without_wakeups_it_looks_again_every_second(self, time_machine):
        time_machine.move_to(START, tick=False)
        entry = Periodic("tests.idle", lambda: 0, next_due=lambda: None)
        assert one_pass([entry], Schedule(), never_heard) == loop.UNHEARD_REST_SECONDS


def run_jobs_until_idle() -> int:
    ran = 0
    while queue.run_next():
        ran += 1
    return ran


class TestQueuedJobs:
    def test_a_job_runs_once_with_its_parameters_and_result(self, job_kinds, django_user_model):
        seen = []

        def count_rows(context) -> dict:
            seen.append((context.params, context.requested_by_id, context.attempt))
            return {"rows": 3}

        job_kinds(**{"tests.count": count_rows})
        kim = django_user_model.objects.create_user("kim")
        job = enqueue("tests.count", {"file": "stock.csv"}, requested_by=kim)
        assert job.state == JobState.QUEUED and queue.next_job_at() == job.available_at
        assert run_jobs_until_idle() == 1
        job.refresh_from_db()
        assert seen == [({"file": "stock.csv"}, kim.pk, 1)]
        assert (job.state, job.outcome, job.attempts, job.error) == (JobState.DONE, {"result": {"rows": 3}}, 1, "")
        assert job.finished_at is not None and job.lease_until is None
        assert queue.next_job_at() is None

    def test_progress_and_per_item_outcomes_are_recorded_while_it_runs(self, job_kinds, monkeypatch):
        monkeypatch.setattr(queue, "FLUSH_SECONDS", 0)
        seen_midway = []

        def bulk_cancel(context) -> None:
            orders = context.params["orders"]
            for done, number in enumerate(orders, start=1):
                if number == 13:
                    context.record(number, status="refused", reason="already collected")
                else:
                    context.record(number, status="done")
                context.progress(done, total=len(orders))
                seen_midway.append(Job.objects.values_list("done", "total").get(pk=context.job_id))

        job_kinds(**{"tests.bulk_cancel": bulk_cancel})
        job = enqueue("tests.bulk_cancel", {"orders": [12, 13, 14]})
        run_jobs_until_idle()
        job.refresh_from_db()
        assert seen_midway == [(1, 3), (2, 3), (3, 3)]
        assert (job.state, job.done, job.total) == (JobState.DONE, 3, 3)
        assert job.outcome == {
            "items": {
                "12": {"status": "done"},
                "13": {"status": "refused", "reason": "already collected"},
                "14": {"status": "done"},
            }
        }

    @pytest.mark.usefixtures("pass_in_this_thread")
    def test_a_raising_handler_fails_its_job_with_the_error_and_the_loop_goes_on(self, job_kinds, caplog):
        def broken(context) -> None:
            context.record("row 1", status="done")
            raise ConnectionError("POST https://hooks.slack.com/services/T0/B0/SECRET refused")

        job_kinds(**{"tests.broken": broken, "tests.fine": lambda context: "ok"})
        failing, fine = enqueue("tests.broken", {}), enqueue("tests.fine", {})
        entries = registry.threads()["jobs"]
        schedule = Schedule()
        assert one_pass(entries, schedule, always_heard) == 0  # it took one: looks again at once
        assert one_pass(entries, schedule, always_heard) == 0
        failing.refresh_from_db()
        fine.refresh_from_db()
        assert failing.state == JobState.FAILED and fine.state == JobState.DONE
        assert failing.error == "ConnectionError: POST https://hooks.slack.com/… refused"  # no secret kept
        assert failing.outcome == {"items": {"row 1": {"status": "done"}}}
        assert "SECRET" not in failing.error and f"Job {failing.pk} (tests.broken) failed" in caplog.text

    def test_a_kind_nobody_registers_any_more_fails(self, job_kinds):
        job_kinds(**{"tests.gone": lambda context: None})
        job = enqueue("tests.gone", {})
        del registry._kinds["tests.gone"]
        run_jobs_until_idle()
        job.refresh_from_db()
        assert job.state == JobState.FAILED and "No job kind 'tests.gone'" in job.error

    def test_a_failed_job_retried_runs_again_and_sees_what_it_recorded(self, job_kinds):
        calls = []

        def flaky(context) -> None:
            calls.append(context.recorded("a"))
            context.record("a", status="done")
            if len(calls) == 1:
                raise RuntimeError("disk full")

        job_kinds(**{"tests.flaky": flaky})
        job = enqueue("tests.flaky", {})
        run_jobs_until_idle()
        assert retry(Job.objects.filter(pk=job.pk)) == 1
        assert retry(Job.objects.filter(pk=job.pk)) == 0  # queued, not failed: nothing to retry
        run_jobs_until_idle()
        job.refresh_from_db()
        assert calls == [None, {"status": "done"}]
        assert (job.state, job.error, job.attempts) == (JobState.DONE, "", 1)

    def test_a_job_cancelled_while_it_runs_stops_at_its_next_report(self, job_kinds, monkeypatch):
        monkeypatch.setattr(queue, "FLUSH_SECONDS", 0)
        reached = []

        def long_import(context) -> None:
            for row in range(3):
                if row == 1:
                    cancel(context.job_id)
                context.progress(row + 1)
                reached.append(row)

        job_kinds(**{"tests.import": long_import})
        job = enqueue("tests.import", {})
        run_jobs_until_idle()
        job.refresh_from_db()
        assert reached == [0] and job.state == JobState.CANCELLED and job.done == 1
        assert not cancel(job.pk)  # finished already


class TestLeases:
    def test_a_job_whose_worker_died_is_resumed_once_its_lease_runs_out(self, job_kinds, time_machine):
        time_machine.move_to(START, tick=False)
        resumed = []

        def import_rows(context) -> None:
            resumed.append((context.attempt, context.recorded("row 1")))
            context.record("row 2", status="done")

        job_kinds(**{"tests.import": import_rows})
        job = enqueue("tests.import", {})
        # A worker took it, recorded its first row, then was killed (kill -9): the row stays running.
        Job.objects.filter(pk=job.pk).update(
            state=JobState.RUNNING,
            attempts=1,
            lease_until=clock.now() + queue.LEASE,
            outcome={"items": {"row 1": {"status": "done"}}},
        )
        assert queue.run_next() == 0 and queue.next_job_at() == clock.now() + queue.LEASE
        time_machine.shift(queue.LEASE)
        assert queue.run_next() == 1
        job.refresh_from_db()
        assert resumed == [(2, {"status": "done"})]
        assert job.state == JobState.DONE and set(job.outcome["items"]) == {"row 1", "row 2"}

    def test_a_job_that_killed_its_worker_every_time_is_failed(self, job_kinds, time_machine):
        time_machine.move_to(START, tick=False)
        ran = []
        job_kinds(**{"tests.poison": ran.append})
        job = enqueue("tests.poison", {})
        Job.objects.filter(pk=job.pk).update(
            state=JobState.RUNNING, attempts=queue.MAX_ATTEMPTS, lease_until=clock.now()
        )
        assert queue.run_next() == 1
        job.refresh_from_db()
        assert ran == [] and job.state == JobState.FAILED
        assert job.error == f"Stopped: the worker running it ended {queue.MAX_ATTEMPTS} times before it finished."

    def test_a_worker_that_lost_its_lease_writes_nothing(self, job_kinds, time_machine, monkeypatch):
        """It stalled past its lease, another worker took the job over: the first one's reports stop it."""
        time_machine.move_to(START, tick=False)
        monkeypatch.setattr(queue, "FLUSH_SECONDS", 0)
        job_kinds(**{"tests.import": lambda context: None})
        job = enqueue("tests.import", {})
        stalled = queue.JobContext(queue._take_next(clock.now()))
        time_machine.shift(queue.LEASE)
        taken_over = queue._take_next(clock.now())
        assert taken_over.attempts == 2
        with pytest.raises(JobLost):
            stalled.progress(5, total=10)
        stalled.finish(JobState.FAILED, error="late")
        job.refresh_from_db()
        assert (job.state, job.done, job.error, job.attempts) == (JobState.RUNNING, 0, "", 2)
        cancel(job.pk)
        with pytest.raises(JobCancelled):
            queue.JobContext(taken_over).progress(1)


@pytest.mark.django_db(transaction=True)
def test_a_queued_job_wakes_a_resting_worker(job_kinds):
    """The embedded worker rests up to 30 s; a job queued in a transaction starts once it commits."""
    from shelfcall.notify import wakeup

    ran = threading.Event()
    job_kinds(**{"tests.wake": lambda context: ran.set()})
    stop = threading.Event()
    worker = threading.Thread(target=loop.run, args=(stop,), kwargs={"in_process_wakeups": True})
    worker.start()
    try:
        if transaction.get_connection().vendor == "postgresql":
            assert wakeup.listening.wait(5)
        time.sleep(0.3)  # its first look: nothing queued, so it rests
        with transaction.atomic():
            job = enqueue("tests.wake", {})
            assert not ran.wait(0.2), "started before its transaction committed"
        assert ran.wait(5)
    finally:
        stop.set()
        worker.join(10)
    assert Job.objects.get(pk=job.pk).state in (JobState.RUNNING, JobState.DONE)


def test_housekeeping_deletes_jobs_a_month_after_they_finished(time_machine):
    from shelfcall.core.housekeeping import tidy

    time_machine.move_to(START, tick=False)
    now = clock.now()
    old = Job.objects.create(kind="tests.old", state=JobState.DONE, finished_at=now - queue.KEEP_FINISHED)
    recent = Job.objects.create(kind="tests.recent", state=JobState.FAILED, finished_at=now - timedelta(days=29))
    running = Job.objects.create(kind="tests.running", state=JobState.RUNNING, created_at=now - timedelta(days=90))
    time_machine.shift(timedelta(seconds=1))
    assert tidy() >= 1
    assert set(Job.objects.values_list("pk", flat=True)) == {recent.pk, running.pk}
    assert not Job.objects.filter(pk=old.pk).exists()

"""Several workers on PostgreSQL share the job queue: each job runs once, and a running job keeps its
lease through a long step (the heartbeat), so no other worker takes it over meanwhile."""

import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connections

from shelfcall.core.jobs import enqueue, queue
from shelfcall.core.jobs.models import Job, JobState
from tests.support.threads import in_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_workers_run_each_queued_job_once(job_kinds):
    ran: list[int] = []
    lock = threading.Lock()

    def bulk_step(context) -> None:
        with lock:
            ran.append(context.job_id)
        time.sleep(0.01)  # long enough for the other worker to look for work meanwhile

    job_kinds(**{"tests.bulk": bulk_step})
    jobs = [enqueue("tests.bulk", {"n": n}).pk for n in range(30)]

    def drain() -> None:
        while queue.run_next():
            pass

    in_threads(2, drain)
    assert Counter(ran) == Counter({pk: 1 for pk in jobs})
    assert set(Job.objects.values_list("state", "attempts")) == {(JobState.DONE, 1)}


def test_a_long_step_keeps_its_lease_through_the_heartbeat(job_kinds, monkeypatch):
    monkeypatch.setattr(queue, "LEASE", timedelta(seconds=2))
    monkeypatch.setattr(queue, "HEARTBEAT_SECONDS", 0.1)
    started, finish = threading.Event(), threading.Event()

    def one_big_transaction(context) -> None:
        started.set()
        assert finish.wait(20)  # no report for longer than the lease

    job_kinds(**{"tests.big": one_big_transaction})
    job = enqueue("tests.big", {})
    worker = threading.Thread(target=lambda: (queue.run_next(), connections.close_all()))
    worker.start()
    try:
        assert started.wait(10)
        time.sleep(3)  # past the first lease
        assert queue.run_next() == 0, "another worker took over a job whose worker is alive"
    finally:
        finish.set()
        worker.join(20)
    job.refresh_from_db()
    assert (job.state, job.attempts) == (JobState.DONE, 1)

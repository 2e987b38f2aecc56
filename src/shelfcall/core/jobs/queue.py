"""Queued jobs: enqueue one, and a worker's part: take the next with a lease, run it, record how it went.

Taking uses FOR UPDATE SKIP LOCKED (PostgreSQL), so any number of workers share the queue and each
job runs once. A worker holds the job's lease while it runs: a heartbeat renews it (PostgreSQL; on
SQLite one process does all the work), and every write it makes to the job is conditional on still
holding it, so a worker that lost its lease (it stalled; another took the job over) changes nothing.
A job whose worker died is taken up again once its lease runs out; its handler then finds what the
earlier attempt recorded in `context.recorded()`. One that killed its worker MAX_ATTEMPTS times is
failed instead. A handler that raises fails its job with the error, never the loop.
"""

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from shelfcall.core import clock
from shelfcall.core.jobs import registry
from shelfcall.core.jobs.models import Job, JobState
from shelfcall.core.logs import redact

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=60)
HEARTBEAT_SECONDS = 15.0  # well inside the lease: two heartbeats may be missed before another worker takes over
FLUSH_SECONDS = 1.0  # progress and per-item outcomes are written at most this often (and at the end)
MAX_ATTEMPTS = 3
ERROR_LIMIT = 1000
KEEP_FINISHED = timedelta(days=30)


class JobStopped(Exception):
    """Raised inside a handler at its next report: the job is no longer this worker's to run."""


class JobCancelled(JobStopped):
    pass


class JobLost(JobStopped):
    """Another worker took the job over (this one's lease ran out)."""


def enqueue(kind: str, params: Mapping[str, Any] | None = None, requested_by: User | None = None) -> Job:
    """Queue a job of a registered kind; a worker starts it once this transaction commits."""
    registry.get_kind(kind)  # UnknownJobKind names the registered ones
    params = dict(params or {})
    try:
        json.dumps(params)
    except TypeError as error:
        raise ValueError(f"Job parameters must be JSON (numbers, text, lists, objects): {error}") from error
    job = Job.objects.create(kind=kind, params=params, requested_by=requested_by)
    registry.wakeups().work_queued()
    return job


def retry(jobs: QuerySet[Job]) -> int:
    """Failed jobs back to the queue, with fresh attempts; what they recorded is kept for their handler."""
    with transaction.atomic():
        count = jobs.filter(state=JobState.FAILED).update(
            state=JobState.QUEUED, attempts=0, error="", available_at=clock.now(), finished_at=None, lease_until=None
        )
        if count:
            registry.wakeups().work_queued()
    return count


def cancel(job_id: int) -> bool:
    """Stop a job that has not finished: a running one stops at its handler's next report."""
    return bool(
        Job.objects.filter(pk=job_id, state__in=[JobState.QUEUED, JobState.RUNNING]).update(
            state=JobState.CANCELLED, finished_at=clock.now(), lease_until=None
        )
    )


def purge_finished() -> int:
    """Housekeeping: finished jobs are kept KEEP_FINISHED, then deleted."""
    deleted, _by_model = Job.objects.filter(finished_at__lt=clock.now() - KEEP_FINISHED).delete()
    return deleted


def next_job_at() -> datetime | None:
    """When the next job may start: the earliest queued one, or a running one whose lease runs out."""
    queued = Job.objects.filter(state=JobState.QUEUED).order_by("available_at").values_list("available_at", flat=True)
    leased = Job.objects.filter(state=JobState.RUNNING).order_by("lease_until").values_list("lease_until", flat=True)
    return min((due for due in (queued.first(), leased.first()) if due is not None), default=None)


def run_next() -> int:
    """The worker's pass: take one job and run it to its end; 1 if a job was taken."""
    job = _take_next(clock.now())
    if job is None:
        return 0
    if job.state == JobState.RUNNING:
        _run(job)
    return 1


def _take_next(now: datetime) -> Job | None:
    with transaction.atomic():
        job = (
            Job.objects.select_for_update(skip_locked=True)
            .filter(Q(state=JobState.QUEUED, available_at__lte=now) | Q(state=JobState.RUNNING, lease_until__lte=now))
            .order_by("pk")
            .first()
        )
        if job is None:
            return None
        if job.state == JobState.RUNNING and job.attempts >= MAX_ATTEMPTS:
            job.state, job.finished_at, job.lease_until = JobState.FAILED, now, None
            job.error = _("Stopped: the worker running it ended %(count)s times before it finished.") % {
                "count": job.attempts
            }
            job.save(update_fields=["state", "finished_at", "lease_until", "error"])
            log.warning("Job %s (%s) failed: its worker ended %s times", job.pk, job.kind, job.attempts)
            return job
        resumed = job.state == JobState.RUNNING
        taking = {"state": JobState.RUNNING, "attempts": job.attempts + 1, "worker": _worker_name()}
        taking |= {"started_at": now, "heartbeat_at": now, "lease_until": now + LEASE}
        # Conditional as well as locked: where rows cannot be locked (SQLite), two takers still cannot both win.
        if not Job.objects.filter(pk=job.pk, state=job.state, attempts=job.attempts).update(**taking):
            return None
        for field, value in taking.items():
            setattr(job, field, value)
    if resumed:
        log.info("Job %s (%s): its worker stopped; resuming (attempt %s)", job.pk, job.kind, job.attempts)
    return job


def _run(job: Job) -> None:
    context = JobContext(job)
    heartbeat = _Heartbeat(context) if connection.vendor == "postgresql" else None
    try:
        handler = registry.get_kind(job.kind).handler
        result = handler(context)
    except JobStopped as stopped:
        log.info("Job %s (%s) stopped: %s", job.pk, job.kind, type(stopped).__name__)
        return
    except Exception as error:
        log.exception("Job %s (%s) failed", job.pk, job.kind)
        context.finish(JobState.FAILED, error=describe(error))
    else:
        context.finish(JobState.DONE, result=result)
    finally:
        if heartbeat:
            heartbeat.stop()


def describe(error: Exception) -> str:
    """The error as kept on the job: its type and message, URLs and status tokens redacted (a webhook
    URL is itself a secret), never the traceback (the log has it)."""
    return redact(f"{type(error).__name__}: {error}")[:ERROR_LIMIT]


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


class JobContext:
    """What a handler is given: the job's parameters, and where it reports progress and per-item outcomes.

    Reports are kept in memory and written at most every FLUSH_SECONDS (and when the job ends). A
    report raises JobCancelled or JobLost once the job is no longer this worker's to run: let it
    propagate (after rolling back whatever the handler had under way)."""

    def __init__(self, job: Job) -> None:
        self.job_id, self.kind, self.params = job.pk, job.kind, job.params
        self.requested_by_id: int | None = job.requested_by_id
        self.attempt = job.attempts
        self._done, self._total = job.done, job.total
        self._items: dict[str, Any] = dict((job.outcome or {}).get("items", {}))
        self._lock = threading.Lock()
        self._flushed_at = 0.0
        self.stopped: type[JobStopped] | None = None  # set by the heartbeat when it found the lease gone

    def recorded(self, key: str) -> Any:
        """The outcome an earlier attempt recorded for this item (a resumed or retried job), or None."""
        return self._items.get(key)

    def progress(self, done: int, total: int | None = None) -> None:
        with self._lock:
            self._done = done
            if total is not None:
                self._total = total
        self._report()

    def record(self, key: str, **outcome: Any) -> None:
        """One item's outcome (e.g. status="refused", reason=…); JSON values."""
        with self._lock:
            self._items[str(key)] = outcome
        self._report()

    def _report(self) -> None:
        if self.stopped:
            raise self.stopped()
        if time.monotonic() - self._flushed_at >= FLUSH_SECONDS:
            self._write()

    def _mine(self) -> QuerySet[Job]:
        return Job.objects.filter(pk=self.job_id, state=JobState.RUNNING, attempts=self.attempt)

    def _write(self, **finish: Any) -> None:
        now = clock.now()
        with self._lock:
            fields = {"done": self._done, "total": self._total, "outcome": self._outcome()}
        fields |= finish or {"heartbeat_at": now, "lease_until": now + LEASE}
        self._flushed_at = time.monotonic()
        if not self._mine().update(**fields):
            raise self._why_stopped()()

    def _outcome(self, result: object = None) -> dict[str, Any]:
        outcome: dict[str, Any] = {"items": dict(self._items)} if self._items else {}
        if result is not None:
            outcome["result"] = result
        return outcome

    def _why_stopped(self) -> type[JobStopped]:
        state = Job.objects.filter(pk=self.job_id).values_list("state", flat=True).first()
        return JobCancelled if state == JobState.CANCELLED else JobLost

    def renew_lease(self) -> bool:
        """The heartbeat: False once the lease is gone (cancelled, or taken over)."""
        now = clock.now()
        return bool(self._mine().update(heartbeat_at=now, lease_until=now + LEASE))

    def finish(self, state: JobState, *, result: object = None, error: str = "") -> None:
        with self._lock:
            outcome = self._outcome(result)
        finished = self._mine().update(
            state=state,
            done=self._done,
            total=self._total,
            outcome=outcome,
            error=error,
            finished_at=clock.now(),
            lease_until=None,
        )
        if not finished:
            log.warning(
                "Job %s (%s) ended here, but it is no longer this worker's: nothing recorded", self.job_id, self.kind
            )


class _Heartbeat:
    """Renews a running job's lease every HEARTBEAT_SECONDS from a thread of its own (its own connection),
    so that a handler busy with one long step (a big transaction) keeps its job."""

    def __init__(self, context: JobContext) -> None:
        self._context, self._stop = context, threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"shelfcall-job-{context.job_id}", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        try:
            while not self._stop.wait(HEARTBEAT_SECONDS):
                try:
                    if not self._context.renew_lease():
                        self._context.stopped = self._context._why_stopped()
                        return
                except Exception:
                    log.warning("Job %s: heartbeat failed; trying again", self._context.job_id, exc_info=True)
        finally:
            connection.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

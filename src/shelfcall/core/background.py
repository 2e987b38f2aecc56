"""The core's own background work: housekeeping, and the job queue itself."""

from shelfcall.core import housekeeping
from shelfcall.core.jobs import queue, registry

registry.periodic("core.housekeeping", housekeeping.tidy, every=housekeeping.EVERY, thread="housekeeping")
registry.periodic(
    "core.jobs", queue.run_next, next_due=queue.next_job_at, thread="jobs", woken_by=frozenset({registry.QUEUED_WORK})
)
housekeeping.register(queue.purge_finished)

"""Background work: each app's periodic work and queued jobs, run by `shelfcall worker` (or inside
`serve` on the embedded database). See registry.py for registering, queue.py for jobs, loop.py for the worker.

    from shelfcall.core import jobs
    job = jobs.enqueue("hq.bulk_cancel", {"orders": [12, 13], "reason": "…"}, requested_by=request.user)
"""

from shelfcall.core.jobs.queue import JobCancelled, JobContext, JobLost, JobStopped, cancel, enqueue, retry
from shelfcall.core.jobs.registry import UnknownJobKind, job_kind, periodic, use_wakeups

__all__ = [
    "JobCancelled",
    "JobContext",
    "JobLost",
    "JobStopped",
    "UnknownJobKind",
    "cancel",
    "enqueue",
    "job_kind",
    "periodic",
    "retry",
    "use_wakeups",
]

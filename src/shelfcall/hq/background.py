"""Head office's queued jobs: the bulk actions (hq/bulk.py), one kind each."""

from shelfcall.core.jobs import job_kind
from shelfcall.hq.bulk import KIND_PREFIX, BulkAction, runner

for action in BulkAction:
    job_kind(f"{KIND_PREFIX}{action}", runner(action))

"""The catalogue's queued jobs: checking, applying and undoing CSV imports (csv_import.py)."""

from shelfcall.catalog import csv_import
from shelfcall.core.jobs import registry

registry.job_kind(csv_import.CHECK_JOB, csv_import.on_job(csv_import.check_import))
registry.job_kind(csv_import.APPLY_JOB, csv_import.on_job(csv_import.run_apply))
registry.job_kind(csv_import.UNDO_JOB, csv_import.on_job(csv_import.run_undo))

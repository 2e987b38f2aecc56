"""Insights on the background worker: the order facts kept in step with the event log, then the
weekly summaries (one thread, in that order: a summary counts facts just refreshed)."""

from datetime import timedelta

from shelfcall.core.jobs import registry
from shelfcall.insights import facts, weekly

registry.periodic("insights.facts", facts.refresh_facts, next_due=facts.next_refresh_at, thread="insights", step=0)
registry.periodic(
    "insights.weekly_summaries", weekly.send_weekly_summaries, every=timedelta(hours=1), thread="insights", step=1
)

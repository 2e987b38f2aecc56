"""The weekly summary: every store's headline figures of its last full local week (Monday to Sunday)
and the change from the week before, to the store's email channels that ask for it (WEEKLY_SUMMARY
among their events). The periodic job runs hourly; each summary is queued once (its dedupe key)."""

import zoneinfo
from datetime import timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from shelfcall.core import clock
from shelfcall.insights import facts
from shelfcall.insights.figures import Figures, Period, build_dashboard
from shelfcall.insights.tables import count_change, duration, percent, points_change, time_change
from shelfcall.notify import outbox
from shelfcall.notify.channels.email import EmailChannel
from shelfcall.notify.messages import Message, absolute_url
from shelfcall.notify.models import ALL_EVENTS, Channel, OutboxMessage
from shelfcall.stores.models import Store

WEEKLY_SUMMARY = "insights.weekly_summary"


def last_week(store: Store) -> Period:
    """The store's last full local week, Monday to Sunday."""
    today = clock.now().astimezone(zoneinfo.ZoneInfo(store.timezone)).date()
    monday = today - timedelta(days=today.weekday())
    return Period(monday - timedelta(days=7), monday - timedelta(days=1))


def _dedupe_key(channel: Channel, week: Period) -> str:
    return f"insights-weekly:{channel.pk}:{week.start.isoformat()}"


def _median(figures: Figures, interval: str) -> int | None:
    return figures.times.get(interval, (None, None))[0]


def summary_message(store: Store, week: Period) -> Message:
    """The headline figures of `week` against the week before, in the site's language."""
    dashboard = build_dashboard([store], week, breakdowns=False)
    now, before = dashboard.overall.current, dashboard.overall.previous
    with translation.override(settings.LANGUAGE_CODE):
        facts_shown = [
            (_("Requests"), f"{now.requested} ({count_change(now.requested, before.requested)})"),
            *(
                (label, f"{percent(now.share(name))} ({points_change(now.share(name), before.share(name))})")
                for label, name in (
                    (_("Ready within %(minutes)s minutes") % {"minutes": store.pick_target_minutes}, "within_target"),
                    (_("Collected"), "collected"),
                    (_("Not found (some item)"), "not_found"),
                    (_("Expired"), "expired"),
                )
            ),
            *(
                (
                    label,
                    f"{duration(_median(now, name))} ({time_change(_median(now, name), _median(before, name))})",
                )
                for label, name in (
                    (_("Median time to claim"), "claim_seconds"),
                    (_("Median claim to ready"), "claim_ready_seconds"),
                )
            ),
        ]
        start, end = date_format(week.start, "DATE_FORMAT"), date_format(week.end, "DATE_FORMAT")
        if not now.requested:
            text = _("No orders from %(start)s to %(end)s.") % {"start": start, "end": end}
        else:
            text = _("%(store)s from %(start)s to %(end)s, with the change from the week before.") % {
                "store": store.name,
                "start": start,
                "end": end,
            }
        query = urlencode({"store": str(store.pk), "start": week.start.isoformat(), "end": week.end.isoformat()})
        return Message(
            "weekly_summary",
            _("Weekly summary: %(store)s") % {"store": store.name},
            text,
            facts=facts_shown,
            url=absolute_url(f"{reverse('insights:dashboard')}?{query}"),
            button=_("Open insights"),
        )


def send_weekly_summaries() -> int:
    """Queue every summary due and not queued yet; how many were queued."""
    channels = Channel.objects.filter(kind=EmailChannel.kind, active=True, store__isnull=False).select_related("store")
    due = [
        (channel, last_week(channel.store))
        for channel in channels
        if channel.store is not None and {WEEKLY_SUMMARY, ALL_EVENTS} & set(channel.events)
    ]
    sent = set(
        OutboxMessage.objects.filter(dedupe_key__in=[_dedupe_key(c, week) for c, week in due]).values_list(
            "dedupe_key", flat=True
        )
    )
    due = [(channel, week) for channel, week in due if _dedupe_key(channel, week) not in sent]
    if not due:
        return 0
    facts.refresh_all()  # the summary counts every event of the week, even one written a moment ago
    messages: dict[tuple[int, Period], Message] = {}
    for channel, week in due:
        assert channel.store is not None
        key = (channel.store.pk, week)
        if key not in messages:
            messages[key] = summary_message(channel.store, week)
        outbox.queue_report(channel, messages[key], _dedupe_key(channel, week))
    return len(due)

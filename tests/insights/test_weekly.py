"""The weekly summary: each store's last local week against the week before, by email, once."""

from datetime import UTC, datetime

import pytest
from django.core import mail

from shelfcall.core.jobs import registry
from shelfcall.insights import weekly
from shelfcall.insights.figures import Period
from shelfcall.notify.models import Channel, OutboxMessage
from shelfcall.notify.worker import deliver_due
from tests.insights.stories import Story, caught_up, tell

# The facts are refreshed by the job, which reads only committed events: real commits.
pytestmark = pytest.mark.django_db(transaction=True)
MONDAY_MORNING = datetime(2026, 11, 23, 7, 30, tzinfo=UTC)  # 08:30 in Paris


@pytest.fixture
def subscribed(store):
    return Channel.objects.create(
        store=store,
        name="Manager",
        kind="email",
        target="manager@example.com",
        events=[weekly.WEEKLY_SUMMARY],
    )


def _two_weeks(time_machine, showcase, associate, desk) -> None:
    """The week before last: 2 orders, ready in 5 minutes. Last week: 3 orders, ready in 12."""
    for day in (10, 12):
        sent = datetime(2026, 11, day, 9, tzinfo=UTC)
        tell(time_machine, showcase, sent, Story(claim=1, ready=5, pay=6, collect=8), by=associate, desk=desk)
    for day in (16, 18, 22):
        sent = datetime(2026, 11, day, 9, tzinfo=UTC)
        tell(time_machine, showcase, sent, Story(claim=3, ready=12, pay=13, collect=20), by=associate, desk=desk)


def test_the_summary_tells_last_week_against_the_one_before(
    time_machine, store, showcase, associate, desk, subscribed, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    Channel.objects.create(
        store=store, name="Alerts", kind="email", target="desk@example.com", events=["order.created"]
    )
    _two_weeks(time_machine, showcase, associate, desk)
    caught_up()  # the summary refreshes too, but on PostgreSQL another session's write may hold it back
    time_machine.move_to(MONDAY_MORNING, tick=False)
    assert weekly.last_week(store) == Period(datetime(2026, 11, 16).date(), datetime(2026, 11, 22).date())

    assert weekly.send_weekly_summaries() == 1  # the channel that asked for it, not the alerts one
    message = OutboxMessage.objects.get(purpose="weekly_summary")
    facts = dict(message.body["facts"])
    assert facts["Requests"] == "3 (+50.0 %)"
    assert facts["Ready within 10 minutes"] == "0.0 % (-100.0 pts)"
    assert facts["Collected"] == "100.0 % (0.0 pts)"
    assert facts["Median time to claim"] == "3 min 00 s (+2 min 00 s)"
    assert facts["Median claim to ready"] == "9 min 00 s (+5 min 00 s)"
    assert message.body["url"].endswith(f"/insights/?store={store.pk}&start=2026-11-16&end=2026-11-22")

    assert weekly.send_weekly_summaries() == 0  # hourly runs queue it once
    deliver_due()
    summaries = [m for m in mail.outbox if m.subject.startswith("Weekly")]
    assert [(m.subject, m.to) for m in summaries] == [("Weekly summary: Rivoli", ["manager@example.com"])]
    assert "Requests: 3 (+50.0 %)" in summaries[0].body


def test_a_week_without_orders_says_so(time_machine, store, subscribed):
    time_machine.move_to(MONDAY_MORNING, tick=False)
    assert weekly.send_weekly_summaries() == 1
    body = OutboxMessage.objects.get(purpose="weekly_summary").body
    assert body["text"] == "No orders from Nov. 16, 2026 to Nov. 22, 2026."
    assert dict(body["facts"])["Requests"] == "0 (—)"


def test_the_week_is_the_stores_own(time_machine, store, subscribed):
    """Sunday 23:30 in Paris is already Monday in Seoul: each store's summary waits for its own Monday."""
    time_machine.move_to(datetime(2026, 11, 22, 22, 30, tzinfo=UTC), tick=False)
    assert weekly.last_week(store) == Period(datetime(2026, 11, 9).date(), datetime(2026, 11, 15).date())
    store.timezone = "Asia/Seoul"
    assert weekly.last_week(store) == Period(datetime(2026, 11, 16).date(), datetime(2026, 11, 22).date())


def test_the_worker_runs_the_summaries_after_the_facts():
    insights = registry.threads()["insights"]
    assert [entry.name for entry in insights] == ["insights.facts", "insights.weekly_summaries"]

"""Each store's channels and timer policies, read once and kept for a short while in each process.

Actions ask for them inside every business transaction; a cache keeps that from costing a query per
event. Saving a channel or a policy clears this process's copy at once; other processes pick the
change up within CACHE_SECONDS.
"""

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Q

from shelfcall.notify.models import ALL_EVENTS, Channel, CollectionPolicy, EscalationLevel, EscalationPolicy
from shelfcall.orders.hooks import DueReminder
from shelfcall.stores.models import Store

CACHE_SECONDS = 30.0


@dataclass(frozen=True)
class ChannelRef:
    id: int
    kind: str
    team_id: int | None
    events: frozenset[str]


@dataclass(frozen=True)
class Level:
    """One level of an escalation policy: who is told how long after submission."""

    after_minutes: int
    channel_id: int
    cancels: bool = False  # the order expires (stock released, shopper told) once this level's alert is out


@dataclass(frozen=True)
class CollectionTimes:
    """A store's collection policy, in minutes after staging (the warning: before the expiry)."""

    remind_after_minutes: int
    expire_after_minutes: int
    warn_before_minutes: int


@dataclass(frozen=True)
class StorePolicies:
    channels: tuple[ChannelRef, ...] = ()
    # team id (None: the store's default) → its levels, in order
    escalations: dict[int | None, tuple[Level, ...]] = field(default_factory=dict)
    collection: CollectionTimes | None = None

    def channels_for(self, event_type: str, team_id: int | None) -> list[ChannelRef]:
        return [
            c
            for c in self.channels
            if (event_type in c.events or ALL_EVENTS in c.events) and c.team_id in (None, team_id)
        ]

    def kind_of(self, channel_id: int) -> str | None:
        """The kind of one of the store's active channels; None if it is not one."""
        return next((c.kind for c in self.channels if c.id == channel_id), None)

    def escalation_levels(self, team_id: int | None) -> tuple[Level, ...]:
        return self.escalations.get(team_id) or self.escalations.get(None) or ()


@dataclass(frozen=True)
class _Cached:
    until: float  # time.monotonic()
    policies: StorePolicies


_lock = threading.Lock()
_cache: dict[int, _Cached] = {}


def for_store(store_id: int) -> StorePolicies:
    now = time.monotonic()
    with _lock:
        cached = _cache.get(store_id)
    if cached and cached.until > now:
        return cached.policies
    policies = _load(store_id)
    with _lock:
        _cache[store_id] = _Cached(now + CACHE_SECONDS, policies)
    return policies


def forget(store_id: int | None = None) -> None:
    with _lock:
        if store_id is None:
            _cache.clear()
        else:
            _cache.pop(store_id, None)


def _load(store_id: int) -> StorePolicies:
    # The store's own channels and its organization's (store empty), in the one statement.
    organization = Store.objects.filter(pk=store_id).values("organization_id")
    reaching = Q(store_id=store_id) | Q(store__isnull=True, organization_id__in=organization)
    channels = tuple(
        ChannelRef(id=c.pk, kind=c.kind, team_id=c.team_id, events=frozenset(c.events or ()))
        for c in Channel.objects.filter(reaching, active=True).order_by("pk")
    )
    escalations: dict[int | None, list[Level]] = {}
    levels = EscalationLevel.objects.filter(
        policy__store_id=store_id, policy__watch=EscalationPolicy.Watch.UNCLAIMED, channel__active=True
    ).values_list("policy__team_id", "after_minutes", "channel_id", "cancel_and_release")
    for team_id, after_minutes, channel_id, cancel_and_release in levels.order_by("after_minutes", "pk"):
        level = Level(after_minutes=after_minutes, channel_id=channel_id, cancels=cancel_and_release)
        escalations.setdefault(team_id, []).append(level)
    times = ("remind_after_minutes", "expire_after_minutes", "warn_before_minutes")
    collection = CollectionPolicy.objects.filter(store_id=store_id).values(*times).first()
    return StorePolicies(
        channels=channels,
        escalations={team_id: tuple(levels) for team_id, levels in escalations.items()},
        collection=CollectionTimes(**collection) if collection else None,
    )


class NotifyTimerPolicy:
    """orders.hooks.TimerPolicy, from the stores' escalation and collection policies."""

    def first_escalation_at(self, store_id: int, team_id: int | None, since: datetime) -> datetime | None:
        levels = for_store(store_id).escalation_levels(team_id)
        return since + timedelta(minutes=levels[0].after_minutes) if levels else None

    def collection_timers(self, store_id: int, staged_at: datetime) -> dict[str, datetime | None]:
        policy = for_store(store_id).collection
        if policy is None:
            return {"remind_at": None, "expires_at": None}
        return {
            "remind_at": staged_at + timedelta(minutes=policy.remind_after_minutes),
            "expires_at": staged_at + timedelta(minutes=policy.expire_after_minutes),
        }

    def collection_reminder(
        self, store_id: int, reminders_sent: int, expires_at: datetime | None, now: datetime
    ) -> DueReminder:
        """Which reminder is falling due, and when the next one is: the first reminder, then the expiry warning."""
        policy = for_store(store_id).collection
        if reminders_sent or policy is None or expires_at is None:
            return DueReminder("expiry_warning" if reminders_sent else "reminder")
        warn_at = expires_at - timedelta(minutes=policy.warn_before_minutes)
        return DueReminder("reminder", next_at=warn_at if warn_at > now else None)

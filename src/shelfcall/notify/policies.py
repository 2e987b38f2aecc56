"""Each store's channels and timer policies, read once and kept for a short while in each process.

Actions ask for them inside every business transaction; a cache keeps that from costing a query per
event. Saving a channel or a policy clears this process's copy at once; other processes pick the
change up within CACHE_SECONDS.
"""

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from django.db.models import Q

from shelfcall.notify.models import ALL_EVENTS, Channel, CollectionPolicy, EscalationLevel, EscalationPolicy
from shelfcall.stores.models import Store

CACHE_SECONDS = 30.0


@dataclass(frozen=True)
class ChannelRef:
    id: int
    kind: str
    team_id: int | None
    events: frozenset[str]


class Level(NamedTuple):
    after_minutes: int
    channel_id: int
    cancels: bool = False  # the order expires (stock released, shopper told) once this level's alert is out


@dataclass(frozen=True)
class StorePolicies:
    channels: tuple[ChannelRef, ...] = ()
    # team id (None: the store's default) → its levels, in order
    escalations: dict[int | None, tuple[Level, ...]] = field(default_factory=dict)
    collection: tuple[int, int, int] | None = None  # remind after, expire after, warn before (minutes)

    def channels_for(self, event_type: str, team_id: int | None) -> list[ChannelRef]:
        return [
            c
            for c in self.channels
            if (event_type in c.events or ALL_EVENTS in c.events) and c.team_id in (None, team_id)
        ]

    def escalation_levels(self, team_id: int | None) -> tuple[Level, ...]:
        return self.escalations.get(team_id) or self.escalations.get(None) or ()


_lock = threading.Lock()
_cache: dict[int, tuple[float, StorePolicies]] = {}


def for_store(store_id: int) -> StorePolicies:
    now = time.monotonic()
    with _lock:
        cached = _cache.get(store_id)
    if cached and cached[0] > now:
        return cached[1]
    policies = _load(store_id)
    with _lock:
        _cache[store_id] = (now + CACHE_SECONDS, policies)
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
        ChannelRef(c.pk, c.kind, c.team_id, frozenset(c.events or ()))
        for c in Channel.objects.filter(reaching, active=True).order_by("pk")
    )
    escalations: dict[int | None, list[Level]] = {}
    levels = EscalationLevel.objects.filter(
        policy__store_id=store_id, policy__watch=EscalationPolicy.Watch.UNCLAIMED, channel__active=True
    ).values_list("policy__team_id", "after_minutes", "channel_id", "cancel_and_release")
    for team_id, after_minutes, channel_id, cancel_and_release in levels.order_by("after_minutes", "pk"):
        escalations.setdefault(team_id, []).append(Level(after_minutes, channel_id, cancel_and_release))
    collection = (
        CollectionPolicy.objects.filter(store_id=store_id)
        .values_list("remind_after_minutes", "expire_after_minutes", "warn_before_minutes")
        .first()
    )
    return StorePolicies(channels, {k: tuple(v) for k, v in escalations.items()}, collection)


class NotifyTimerPolicy:
    """orders.hooks.TimerPolicy, from the stores' escalation and collection policies."""

    def first_escalation_at(self, store_id: int, team_id: int | None, since: datetime) -> datetime | None:
        levels = for_store(store_id).escalation_levels(team_id)
        return since + timedelta(minutes=levels[0].after_minutes) if levels else None

    def collection_timers(self, store_id: int, staged_at: datetime) -> dict[str, datetime | None]:
        policy = for_store(store_id).collection
        if policy is None:
            return {"remind_at": None, "expires_at": None}
        remind, expire, _warn = policy
        return {"remind_at": staged_at + timedelta(minutes=remind), "expires_at": staged_at + timedelta(minutes=expire)}


def collection_reminder(
    store_id: int, reminders_sent: int, expires_at: datetime | None, now: datetime
) -> tuple[str, datetime | None]:
    """Which reminder is falling due, and when the next one is: the first reminder, then the expiry warning."""
    policy = for_store(store_id).collection
    if reminders_sent or policy is None or expires_at is None:
        return ("expiry_warning" if reminders_sent else "reminder"), None
    warn_at = expires_at - timedelta(minutes=policy[2])
    return "reminder", (warn_at if warn_at > now else None)

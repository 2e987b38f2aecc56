from shelfcall.notify.models import Channel, CollectionPolicy, EscalationLevel, EscalationPolicy
from shelfcall.stores.models import Store
from tests.notify.receiver import TEST_WEBHOOK_SECRET


def make_channel(
    store: Store,
    url: str,
    *,
    kind: str = "teams",
    events=("order.created", "order.claimed"),
    name: str | None = None,
    secret: str = "",
    **fields,
) -> Channel:
    if kind == "webhook" and not secret:
        secret = TEST_WEBHOOK_SECRET
    return Channel.objects.create(
        store=store,
        name=name or f"{kind} channel",
        kind=kind,
        target=url,
        secret=secret,
        events=list(events),
        allow_private_network=True,
        **fields,
    )


def make_escalation(store: Store, levels: list[tuple[int, Channel]], team=None) -> EscalationPolicy:
    policy = EscalationPolicy.objects.create(store=store, team=team)
    for after, channel in levels:
        EscalationLevel.objects.create(policy=policy, after_minutes=after, channel=channel)
    return policy


def make_collection_policy(store: Store, *, remind: int = 60, expire: int = 240, warn: int = 30) -> CollectionPolicy:
    return CollectionPolicy.objects.create(
        store=store, remind_after_minutes=remind, expire_after_minutes=expire, warn_before_minutes=warn
    )

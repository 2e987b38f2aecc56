"""The events feed: each event once, in commit order.

Event ids are taken when a row is inserted, not when its transaction commits, so on PostgreSQL
event 8 can become visible after event 9: a reader that remembers "after 9" would never see 8.
Each event therefore records its writing transaction's id (OrderEvent.xact_id, a column default),
and the feed serves only events of transactions older than the oldest one still running: those
have all committed or rolled back, so nothing can appear before the cursor any more. Within
that horizon events are ordered by (transaction id, event id). On SQLite there is one writer at a
time, and ids alone are in commit order (xact_id is NULL there).

The horizon is the server's: a transaction that has written (in any database of the PostgreSQL
server) and stays open holds the feed back until it ends. Nothing is lost, events come late; read-only
transactions (a report, pg_dump) have no transaction id and hold nothing back."""

from django.db import connection
from django.db.models import Q, QuerySet

from shelfcall.api import cursors
from shelfcall.api.models import ApiKey
from shelfcall.core.db import OldestRunningTransactionId
from shelfcall.orders.models import OrderEvent


def _in_commit_order(events: QuerySet[OrderEvent], xact_id: int, event_id: int) -> QuerySet[OrderEvent]:
    if connection.vendor != "postgresql":
        return events.filter(pk__gt=event_id).order_by("pk")
    after = Q(xact_id__gt=xact_id) | Q(xact_id=xact_id, pk__gt=event_id)
    return events.filter(after, xact_id__lt=OldestRunningTransactionId()).order_by("xact_id", "pk")


def events_after(api_key: ApiKey, after: str | None, limit: int) -> tuple[list[OrderEvent], str | None, bool]:
    """A page of the key's events after the cursor `after` (None: from the start), the cursor to ask with
    next time, and whether more are ready now. The cursor is given even on the last page (to poll with)."""
    xact_id, event_id = cursors.decode("events", after, "after") if after else (0, 0)
    events = OrderEvent.objects.filter(api_key.store_filter("order__store")).select_related("order")
    page = list(_in_commit_order(events, xact_id, event_id)[: limit + 1])
    has_more = len(page) > limit
    page = page[:limit]
    if not page:
        return [], after, False
    last = page[-1]
    return page, cursors.encode("events", [last.xact_id or 0, last.pk]), has_more

from typing import Any

from ninja import Field, Query, Router, Schema

from shelfcall.api import auth, feed
from shelfcall.api.auth import ApiRequest
from shelfcall.api.endpoints.orders import READ_ERRORS
from shelfcall.api.schemas import EventOut, EventPage

router = Router(tags=["events"])


class FeedParams(Schema):
    after: str | None = Field(
        None, max_length=500, description="The next_cursor of the previous call; none: from the start."
    )
    limit: int = Field(100, ge=1, le=500)


@router.get("/events", response={200: EventPage, **READ_ERRORS}, auth=auth.ORDERS_READ, summary="Events feed")
def list_events(request: ApiRequest, params: Query[FeedParams]) -> dict[str, Any]:
    """Every order event of the key's stores, each once, in commit order. Keep `next_cursor` and ask again with
        `after=` (it is given on the last page too). An event appears once every older writing transaction has
    finished, so it may come a moment after its change. `payload` is published as stored, per event type; typed
        schemas per type are coming."""
    events, next_cursor, has_more = feed.events_after(request.auth, params.after, params.limit)
    data = [
        EventOut(
            id=event.pk,
            type=event.type,
            order_id=event.order_id,
            store_id=event.order.store_id,
            created_at=event.created_at,
            actor_kind=event.actor_kind,
            actor_label=event.actor_label,
            payload=event.payload,
        )
        for event in events
    ]
    return {"data": data, "next_cursor": next_cursor, "has_more": has_more}

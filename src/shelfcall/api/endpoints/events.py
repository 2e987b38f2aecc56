from typing import Any

from ninja import Field, Query, Router, Schema

from shelfcall.api import auth, feed
from shelfcall.api.auth import ApiRequest
from shelfcall.api.endpoints.orders import READ_ERRORS
from shelfcall.api.event_schemas import EventPage, event_out

router = Router(tags=["events"])


class FeedParams(Schema):
    after: str | None = Field(
        None, max_length=500, description="The next_cursor of the previous call; none: from the start."
    )
    limit: int = Field(100, ge=1, le=500)


@router.get("/events", response={200: EventPage, **READ_ERRORS}, auth=auth.ORDERS_READ, summary="Events feed")
def list_events(request: ApiRequest, params: Query[FeedParams]) -> dict[str, Any]:
    """Every order event of the key's stores, each once, in commit order. Keep `next_cursor` and ask again
    with `after=` (it is given on the last page too). An event appears once every older writing transaction
    has finished, so it may come a moment after its change. Each event's `payload` has its type's schema,
    the same as in the webhook of that type (see the events table in the API's description)."""
    events, next_cursor, has_more = feed.events_after(request.auth, params.after, params.limit)
    return {"data": [event_out(event) for event in events], "next_cursor": next_cursor, "has_more": has_more}

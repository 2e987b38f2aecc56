"""The team's live queue."""

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render

from shelfcall.live.hub import store_topic
from shelfcall.live.sse import Message, off_loop, stream_response
from shelfcall.orders.events import of_stores
from shelfcall.orders.models import OrderEvent
from shelfcall.orders.promise import queue_promises
from shelfcall.stores import policy
from shelfcall.stores.hours import weekly_hours
from shelfcall.stores.models import Store
from shelfcall.workspace.queries import FILTER_LABELS, QueueFilter, list_queue, read_queue_facts
from shelfcall.workspace.views.access import WorkspaceRequest, current_store, live_user, staff_view


@staff_view()
def queue(request: WorkspaceRequest) -> HttpResponse:
    try:
        queue_filter = QueueFilter(request.GET.get("filter", QueueFilter.OPEN))
    except ValueError:
        queue_filter = QueueFilter.OPEN
    search = request.GET.get("q", "")[:80]
    facts = read_queue_facts(request.store, request.user)
    orders = list_queue(
        request.store, user=request.user, team_ids=facts.team_ids, queue_filter=queue_filter, search=search
    )
    hours = weekly_hours(request.store, facts.opening_periods)
    context = {
        "orders": orders,
        "promises": queue_promises(request.store, orders, hours=hours),  # reads the queue: the loop reuses it
        "filters": FILTER_LABELS.items(),
        "queue_filter": queue_filter,
        "search": search,
        "last_event_id": facts.last_event_id,
    }
    template = "workspace/_queue_list.html" if request.GET.get("fragment") else "workspace/queue.html"
    return render(request, template, context)


async def store_stream(request: HttpRequest) -> HttpResponseBase:
    """Wakes the queue (and order pages) of this store: the page then re-reads what it shows."""

    def store_if_allowed() -> tuple[Store, int] | None:
        store = current_store(request)
        user = live_user(request)
        if store is None or not user.is_authenticated or not policy.can(user, policy.Perm.WORK_ORDERS, store):
            return None
        return store, user.pk

    allowed = await off_loop(store_if_allowed)()
    if allowed is None:
        return HttpResponse(status=403)
    store, user_id = allowed
    return store_changes_stream(request, [store.pk], user_id=user_id)


def store_changes_stream(request: HttpRequest, store_ids: list[int], *, user_id: int) -> HttpResponseBase:
    """The live stream of these stores' order events, 200 at a time, each message naming their types and
    orders: what the queue and head office's lists re-read on."""

    def poll(since: int) -> Message | None:
        events = list(
            OrderEvent.objects.filter(of_stores(store_ids), pk__gt=since)
            .order_by("pk")
            .values_list("pk", "type", "order_id")[:200]
        )
        if not events:
            return None
        return Message(
            events[-1][0], "change", {"types": [t for _, t, _ in events], "orders": sorted({o for *_, o in events})}
        )

    return stream_response(request, [store_topic(pk) for pk in store_ids], poll, holder=f"user:{user_id}")

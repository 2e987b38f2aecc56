"""Head office: every order of the stores one sees, live; one order's whole story; the stock; the
shopper who calls. Views parse, ask the policy (through the actions), call the action, render."""

import secrets
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shelfcall.core import clock, throttle
from shelfcall.core.jobs.models import Job
from shelfcall.core.numbers import parse_number
from shelfcall.core.throttle import Rate
from shelfcall.hq import bulk, queries
from shelfcall.hq.access import HqRequest, actor_for, hq_view, order_in_view, visible_stores
from shelfcall.hq.forms import BulkForm, CancelForm, InventoryForm, LookupForm, MoveForm, OrderFilterForm, SendLinkForm
from shelfcall.live.hub import store_topic
from shelfcall.live.sse import Message, off_loop, stream_response
from shelfcall.notify.channels.sms import twilio_configured
from shelfcall.orders import actions
from shelfcall.orders.events import of_stores
from shelfcall.orders.models import Order, OrderEvent
from shelfcall.orders.policy import OrderAction, allowed_actions
from shelfcall.printing.orders import orders_for_printing, pick_list_pdf, receipts_pdf
from shelfcall.stores import policy
from shelfcall.stores.models import Store
from shelfcall.workspace.errors import refusal_shown
from shelfcall.workspace.forms import valid_data
from shelfcall.workspace.queries import get_order_lines, list_timeline
from shelfcall.workspace.views.access import live_user


@hq_view
def order_list(request: HqRequest) -> HttpResponse:
    form = OrderFilterForm(request.GET, stores=request.stores)
    data = form.valid_data()
    page = queries.list_orders(
        request.store_ids,
        queries.filter_condition(data, clock.now()),
        before=parse_number(request.GET.get("before", "")),
    )
    query = request.GET.copy()
    query.pop("before", None)
    query.pop("fragment", None)
    context = {
        "form": form,
        "bulk_labels": bulk.LABELS.items(),
        "bulk_key": secrets.token_urlsafe(16),
        "page": page,
        "query": query.urlencode(),
        "last_event_id": queries.last_event_id(),
    }
    template = "hq/_order_rows.html" if request.GET.get("fragment") else "hq/orders.html"
    return render(request, template, context)


async def stream(request: HttpRequest) -> HttpResponseBase:
    """Wakes /hq/'s lists: something changed in one of the stores the user sees; the page re-reads."""

    def stores_if_allowed() -> tuple[list[int], int] | None:
        user = live_user(request)
        store_ids = list(visible_stores(user).values_list("pk", flat=True))
        return (store_ids, user.pk) if store_ids and user.pk is not None else None

    allowed = await off_loop(stores_if_allowed)()
    if allowed is None:
        return HttpResponse(status=403)
    store_ids, user_id = allowed

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


def _move_targets(request: HqRequest, order: Order) -> list[Store]:
    """The other stores of the order's organization (in its currency) the user serves customers of."""
    return list(
        policy.stores_granting(request.user, policy.Perm.SERVE_CUSTOMERS)
        .filter(organization_id=order.store.organization_id, currency=order.currency)
        .exclude(pk=order.store_id)
    )


def _order_context(request: HqRequest, order: Order, **forms: Any) -> dict[str, Any]:
    actor = actor_for(request, order)
    allowed = allowed_actions(actor, order)
    lines = get_order_lines(order)
    context: dict[str, Any] = {
        "order": order,
        "lines": lines,
        "allowed": allowed,
        "timeline": list(list_timeline(order)),
        "order_messages": queries.order_messages(order),
        "journal": queries.reservation_journal(order),
        "cancel_form": forms.get("cancel_form") or CancelForm(),
        "link_form": forms.get("link_form") or SendLinkForm(),
        "sms_available": bool(order.shopper_phone) and twilio_configured(),
    }
    if OrderAction.MOVE in allowed:
        targets = _move_targets(request, order)
        candidates = queries.move_candidates(order, targets, lines)
        context["candidates"] = candidates
        context["move_form"] = forms.get("move_form") or MoveForm(stores=targets)
    return context


@hq_view
def order_page(request: HqRequest, order_id: int) -> HttpResponse:
    order = order_in_view(request, order_id)
    return render(request, "hq/order.html", _order_context(request, order))


# How an action's form is built from the POST, for the order it is about.
FormMaker = Callable[[HqRequest, Order], forms.Form]


def _order_action(
    make_form: FormMaker | None, form_name: str, act: Callable[[HqRequest, Order, dict[str, Any]], str]
) -> Callable:
    """A POST on one order: validate the form (its errors shown on the order's page), run the action,
    show what happened, or the refusal, and go back to the order as it is now."""

    @require_POST
    @hq_view
    def view(request: HqRequest, order_id: int) -> HttpResponse:
        order = order_in_view(request, order_id)
        data: dict[str, Any] = {}
        if make_form is not None:
            form = make_form(request, order)
            if not form.is_valid():
                context = _order_context(request, order, **{form_name: form})
                return render(request, "hq/order.html", context, status=422)
            data = form.cleaned_data
        with refusal_shown(request):
            messages.success(request, act(request, order, data))
        return redirect("hq:order", order.pk)

    return view


def _send_link(request: HqRequest, order: Order, data: dict[str, Any]) -> str:
    actions.send_status_link(order.pk, by=actor_for(request, order), via=data["via"])
    return _("The status link is on its way.")


def _resend_ready(request: HqRequest, order: Order, data: dict[str, Any]) -> str:
    actions.resend_ready_message(order.pk, by=actor_for(request, order))
    return _("The ready message is on its way again.")


def _cancel(request: HqRequest, order: Order, data: dict[str, Any]) -> str:
    actions.cancel_order(order.pk, by=actor_for(request, order), reason=data["reason"])
    return _("Order %(number)s is cancelled; the shopper is told.") % {"number": order.number}


def _move(request: HqRequest, order: Order, data: dict[str, Any]) -> str:
    moved = actions.move_order(order.pk, to_store_id=data["to_store"], by=actor_for(request, order))
    return _("The order is now number %(number)s at %(store)s; the shopper is told.") % {
        "number": moved.number,
        "store": moved.store.name,
    }


send_link = _order_action(lambda request, order: SendLinkForm(request.POST), "link_form", _send_link)
resend_ready = _order_action(None, "", _resend_ready)
cancel = _order_action(lambda request, order: CancelForm(request.POST), "cancel_form", _cancel)
move = _order_action(
    lambda request, order: MoveForm(request.POST, stores=_move_targets(request, order)), "move_form", _move
)


@hq_view
def lookup(request: HqRequest) -> HttpResponse:
    form = LookupForm(request.GET or None)
    found = None
    if form.is_valid():
        found = queries.lookup_orders(
            request.store_ids, phone=form.cleaned_data["phone"], email=form.cleaned_data["email"]
        )
    return render(request, "hq/lookup.html", {"form": form, "found": found})


@hq_view
def inventory(request: HqRequest) -> HttpResponse:
    form = InventoryForm(request.GET, stores=request.stores)
    form.is_valid()
    data = {name: value for name, value in form.cleaned_data.items() if name not in form.errors}
    products = queries.inventory(request.store_ids, search=data.get("q") or "", store=data.get("store"))
    return render(request, "hq/inventory.html", {"form": form, "products": products})


@require_POST
@hq_view
def bulk_start(request: HqRequest) -> HttpResponse:
    form = BulkForm(request.POST, actions=list(bulk.LABELS.items()))
    with refusal_shown(request):  # a field in error is named, with its fix, on the list
        data = valid_data(form)
        job = bulk.start(
            bulk.BulkAction(data["action"]),
            data["order"],
            by=request.user,
            key=data["key"],
            reason=data["reason"],
            place=data["place"],
        )
        return redirect("hq:job", job.pk)
    return redirect("hq:orders")


def _job_of(request: HqRequest, job_id: int) -> Job:
    job = bulk.jobs_of(request.user).filter(pk=job_id).first()
    if job is None:
        raise Http404("no such job of yours")
    return job


@hq_view
def job_page(request: HqRequest, job_id: int) -> HttpResponse:
    job = _job_of(request, job_id)
    items = sorted((job.outcome or {}).get("items", {}).items(), key=lambda kv: int(kv[0]))
    context = {
        "job": job,
        "label": bulk.LABELS[bulk.action_of(job)],
        "prints": bulk.action_of(job) in bulk.PRINTS,
        "items": [(int(order_id), item) for order_id, item in items],
        "refused": sum(1 for _id, item in items if item["status"] == "refused"),
        "finished": job.finished_at is not None,
        "percent": int(100 * job.done / job.total) if job.total else 0,
    }
    template = "hq/_job_progress.html" if request.GET.get("fragment") else "hq/job.html"
    return render(request, template, context)


@hq_view
def job_refused_csv(request: HqRequest, job_id: int) -> HttpResponse:
    job = _job_of(request, job_id)
    response = HttpResponse(bulk.refused_csv(job), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="refused-{job.pk}.csv"'
    return response


# A PDF of hundreds of orders takes a core for seconds: enough for anyone printing, not for a loop.
PRINT_RATE = Rate("hq.print", 10, 60)


@hq_view
def job_document(request: HqRequest, job_id: int) -> HttpResponse:
    """The print job's one PDF, made from the orders it found printable that the requester still sees."""
    job = _job_of(request, job_id)
    action = bulk.action_of(job)
    if action not in bulk.PRINTS or job.finished_at is None:
        raise Http404("no document for this job")
    throttle.check(PRINT_RATE, f"user:{request.user.pk}")
    visible = set(request.store_ids)
    orders = [order for order in orders_for_printing(bulk.done_order_ids(job)) if order.store_id in visible]
    if action == bulk.BulkAction.PRINT_PICK_LISTS:
        data, name = pick_list_pdf(orders), "pick-lists"
    else:
        data, name = receipts_pdf(orders), "receipts"
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="shelfcall-{name}-{job.pk}.pdf"'
    return response

"""One order: read it, claim it, pick it, stage it, take payment, cancel it, reassign it."""

from collections.abc import Callable

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shelfcall.core.people import display_name
from shelfcall.live.hub import order_topic
from shelfcall.live.sse import Message, off_loop, stream_response
from shelfcall.orders import actions, policy
from shelfcall.orders.models import Order, OrderEvent, OrderLine
from shelfcall.orders.policy import OrderAction, allowed_actions
from shelfcall.shopper.codes import barcode_svg
from shelfcall.stores import policy as stores_policy
from shelfcall.workspace.errors import refusal_shown
from shelfcall.workspace.forms import (
    CancelForm,
    LineQuantityForm,
    PaymentForm,
    ReassignForm,
    ScanForm,
    StageForm,
    SubStatusForm,
    valid_data,
)
from shelfcall.workspace.queries import read_order_page_lists
from shelfcall.workspace.views import substitutes
from shelfcall.workspace.views.access import WorkspaceRequest, live_user, order_view
from shelfcall.workspace.views.session import safe_next


def order_context(request: WorkspaceRequest, order: Order) -> dict:
    """`allowed` (the policy's answer for this associate and this order now) decides which buttons show."""
    allowed = allowed_actions(request.actor, order)
    staging = bool({OrderAction.STAGE, OrderAction.RESTAGE} & allowed)  # the staging form lists the drop zones
    lists = read_order_page_lists(order, drop_zones=staging)
    lines, timeline = lists.lines, lists.timeline
    requested = sum(line.requested_qty for line in lines)
    done = sum(line.picked_qty + line.short_qty for line in lines)
    return {
        "order": order,
        "store": order.store,
        "lines": lines,
        "progress_done": done,
        "progress_total": requested,
        "allowed": allowed,
        "all_resolved": done >= requested,
        "timeline": timeline,
        "order_messages": lists.messages,
        "stage_form": StageForm(
            store=order.store,
            initial={"drop_zone": order.drop_zone_id},
            drop_zones=lists.drop_zones if staging else None,
        ),
        "payment_form": PaymentForm(),
        "cancel_form": CancelForm(),
        "reassign_form": ReassignForm(store=order.store) if OrderAction.REASSIGN in allowed else None,
        "scan_form": ScanForm(),
        "current_sub_status": order.current_sub_status,
        "next_sub_statuses": actions.next_sub_statuses(order) if OrderAction.SET_SUB_STATUS in allowed else [],
        "last_event_id": timeline[-1].pk if timeline else 0,  # the stream resumes after what the page shows
    }


@order_view()
def order_page(request: WorkspaceRequest, order: Order) -> HttpResponse:
    template = "workspace/_order_panel.html" if request.GET.get("fragment") else "workspace/order.html"
    return render(request, template, order_context(request, order))


@order_view()
def bag_label(request: WorkspaceRequest, order: Order) -> HttpResponse:
    return render(request, "workspace/label.html", {"order": order, "barcode": barcode_svg(order.barcode_value)})


def _line_of(order: Order, line_id: int) -> OrderLine:
    line = OrderLine.objects.filter(order=order, pk=line_id).first()
    if line is None:
        raise Http404("no such line")
    return line


def _pick_by_code(request: WorkspaceRequest, order: Order) -> str:
    """A scan (camera or keyboard-wedge scanner) or a typed SKU picks one unit of the matching line."""
    code = valid_data(ScanForm(request.POST))["code"].strip()
    line = actions.pick_by_code(order.pk, code, by=request.actor)
    return _("Picked %(name)s (%(done)s of %(count)s).") % {
        "name": line.name,
        "done": line.picked_qty,
        "count": line.requested_qty - line.short_qty,
    }


def _pick_line(request: WorkspaceRequest, order: Order) -> str:
    data = valid_data(LineQuantityForm(request.POST))
    line = actions.pick_line(order.pk, _line_of(order, data["line"]).pk, by=request.actor, qty=data["qty"])
    return _("Picked %(name)s.") % {"name": line.name}


def _not_found(request: WorkspaceRequest, order: Order) -> str:
    data = valid_data(LineQuantityForm(request.POST))
    line = actions.mark_line_not_found(order.pk, _line_of(order, data["line"]).pk, by=request.actor, qty=data["qty"])
    return _("%(count)s × %(name)s marked not found; the shopper is told.") % {"count": data["qty"], "name": line.name}


def _stage(request: WorkspaceRequest, order: Order) -> str:
    data = valid_data(StageForm(request.POST, store=order.store))
    staged = actions.stage_order(
        order.pk, by=request.actor, drop_zone=data["drop_zone"], note=data["note"], current=order
    )
    return _("Dropped at %(place)s.") % {"place": staged.staged_location}


def _pay(request: WorkspaceRequest, order: Order) -> str:
    data = valid_data(PaymentForm(request.POST))
    actions.mark_paid(order.pk, by=request.actor, reference=data["reference"])
    return _("Marked paid.")


def _cancel(request: WorkspaceRequest, order: Order) -> str:
    data = valid_data(CancelForm(request.POST))
    actions.cancel_order(order.pk, by=request.actor, reason=data["reason"])
    return _("Order cancelled; its items are back in stock.")


def _claim(request: WorkspaceRequest, order: Order) -> str:
    actions.claim_order(order.pk, by=request.actor, current=order)
    return _("You are picking this order.")


def _unclaim(request: WorkspaceRequest, order: Order) -> str:
    actions.unclaim_order(order.pk, by=request.actor, current=order)
    return _("Order put back in the queue.")


def _reassign(request: WorkspaceRequest, order: Order) -> str:
    policy.require(request.actor, order, OrderAction.REASSIGN)  # before the form: its choices are the store's staff
    to = valid_data(ReassignForm(request.POST, store=order.store))["to"]
    actions.reassign_order(order.pk, to=to, by=request.actor, current=order)
    return _("%(name)s is now picking this order.") % {"name": display_name(to)}


def _set_sub_status(request: WorkspaceRequest, order: Order) -> str:
    chosen = valid_data(SubStatusForm(request.POST))["sub_status"]
    changed = actions.set_sub_status(order.pk, chosen, by=request.actor)
    current = changed.current_sub_status
    if current is None:
        return _("Sub-status cleared.")
    return _("Sub-status set to %(name)s.") % {"name": current.name}


def _resend(request: WorkspaceRequest, order: Order) -> str:
    actions.resend_ready_message(order.pk, by=request.actor)
    return _("The ready message is on its way to the shopper again.")


ORDER_ACTIONS: dict[str, Callable[[WorkspaceRequest, Order], str]] = {
    "claim": _claim,
    "unclaim": _unclaim,
    "reassign": _reassign,
    "scan": _pick_by_code,
    "pick": _pick_line,
    "not-found": _not_found,
    "stage": _stage,
    "pay": _pay,
    "cancel": _cancel,
    "resend": _resend,
    "sub-status": _set_sub_status,
    "answer-substitute": substitutes.answer_for_the_shopper,
}


@require_POST
@order_view()
def order_action(request: WorkspaceRequest, order: Order, action: str) -> HttpResponse:
    """Every button on the order page. A stale page gets the reason and the order as it is now."""
    handler = ORDER_ACTIONS.get(action)
    if handler is None:
        raise Http404("no such action")
    with refusal_shown(request):
        messages.success(request, handler(request, order))
    fallback = reverse("workspace:order", args=[order.pk])
    return redirect(safe_next(request, fallback))


async def order_stream(request: HttpRequest, order_id: int) -> HttpResponseBase:
    def user_if_allowed() -> int | None:
        order = Order.objects.select_related("store").filter(pk=order_id).first()
        if order is None:
            return None
        user = live_user(request)
        return user.pk if stores_policy.can(user, stores_policy.Perm.WORK_ORDERS, order.store) else None

    user_id = await off_loop(user_if_allowed)()
    if user_id is None:
        raise Http404("no such order here")

    def poll(since: int) -> Message | None:
        events = list(OrderEvent.objects.filter(order_id=order_id, pk__gt=since).values_list("pk", "type"))
        if not events:
            return None
        return Message(events[-1][0], "change", {"types": [t for _, t in events]})

    return stream_response(request, [order_topic(order_id)], poll, holder=f"user:{user_id}")

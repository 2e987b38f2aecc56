"""Hand-off: check the pickup code, accept or turn down each line, and confirm before it is final."""

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from shelfcall.core.errors import ShelfcallError
from shelfcall.orders import actions
from shelfcall.orders.models import Order
from shelfcall.workspace.errors import refusal_shown
from shelfcall.workspace.forms import HandOffForm
from shelfcall.workspace.queries import find_order_by_code, get_order_lines
from shelfcall.workspace.views.access import WorkspaceRequest, order_view, staff_view


@staff_view()
def find_for_handoff(request: WorkspaceRequest) -> HttpResponse:
    code = request.GET.get("code", "").strip()
    if code:
        order = find_order_by_code(request.store, code)
        if order is not None:
            return redirect("workspace:handoff", order.pk)
        messages.error(request, _("No order %(code)s in this store. Check the number and try again.") % {"code": code})
    return render(request, "workspace/find.html", {"code": code, "purpose": "handoff"})


@order_view()
def handoff(request: WorkspaceRequest, order: Order) -> HttpResponse:
    """The form, then its review (the hand-off's own checks, nothing written), then the hand-off itself."""
    require_id = order.store.require_id_check
    refusal = None
    if request.POST.get("confirm") == "yes":
        # The reviewed answers go to the action as they are: it reads the lines under its lock and
        # checks them as the review did. Only a refusal brings the form back, with the lines it shows.
        reviewed = HandOffForm.reviewed(request.POST, require_id=require_id)
        try:
            if reviewed.is_valid():
                actions.hand_off_order(order.pk, by=request.actor, **_answers(reviewed))
                messages.success(request, _("Order %(number)s handed over. Thank you!") % {"number": order.number})
                return redirect("workspace:order", order.pk)
        except ShelfcallError as error:
            refusal = error
    lines = get_order_lines(order)
    picked = [line for line in lines if line.picked_qty]
    form = HandOffForm(request.POST or None, lines=picked, require_id=require_id)
    if request.method == "POST" and form.is_valid():
        with refusal_shown(request, form):
            if refusal is not None:
                raise refusal
            answers = _answers(form)
            actions.check_hand_off(
                order,
                lines,
                by=request.actor,
                pickup_code=answers["pickup_code"],
                rejections=answers["rejections"],
                id_checked=answers["id_checked"],
            )
            return render(request, "workspace/handoff_confirm.html", _confirm_context(order, form, picked))
    line_fields = [(line, form[f"reject_{line.pk}"], form[f"reason_{line.pk}"]) for line in picked]
    return render(request, "workspace/handoff.html", {"order": order, "form": form, "line_fields": line_fields})


def _answers(form: HandOffForm) -> dict[str, Any]:
    """The hand-off's arguments from a valid form."""
    data = form.cleaned_data
    return {
        "pickup_code": data["pickup_code"],
        "rejections": form.rejections(),
        "collected_by": data["collected_by"],
        "id_checked": data["id_checked"],
        "signature_svg": form.signature_svg(),
    }


def _confirm_context(order: Order, form: HandOffForm, lines: list) -> dict:
    rejected = {rejection.line_id: (rejection.qty, rejection.reason) for rejection in form.rejections()}
    summary = [(line, line.picked_qty - rejected.get(line.pk, (0, ""))[0], rejected.get(line.pk)) for line in lines]
    hidden = [(name, value) for name, value in form.data.items() if name not in {"csrfmiddlewaretoken", "confirm"}]
    return {"order": order, "summary": summary, "hidden": hidden, "data": form.cleaned_data}

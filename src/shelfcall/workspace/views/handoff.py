"""Hand-off: check the pickup code, accept or turn down each line, and confirm before it is final."""

from collections.abc import Callable

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from shelfcall.orders import actions
from shelfcall.orders.actions import Rejection
from shelfcall.orders.models import Order
from shelfcall.workspace.errors import refusal_shown
from shelfcall.workspace.forms import HandOffForm
from shelfcall.workspace.queries import find_order_by_code, get_order_lines
from shelfcall.workspace.views.access import WorkspaceRequest, order_view, staff_view


class _Rehearsal(Exception):
    """Raised to roll back a rehearsed action."""


def rehearse(action: Callable[[], object]) -> None:
    """Run an action and roll it back: every domain check runs, nothing is written or announced."""
    try:
        with transaction.atomic():
            action()
            raise _Rehearsal
    except _Rehearsal:
        pass


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
    lines = [line for line in get_order_lines(order) if line.picked_qty]
    form = HandOffForm(request.POST or None, lines=lines, require_id=order.store.require_id_check)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data

        def hand_off() -> Order:
            return actions.hand_off_order(
                order.pk,
                by=request.actor,
                pickup_code=data["pickup_code"],
                rejections=[Rejection(*rejection) for rejection in form.rejections()],
                collected_by=data["collected_by"],
                id_checked=data["id_checked"],
                signature_svg=form.signature_svg(),
            )

        with refusal_shown(request, form):
            if request.POST.get("confirm") == "yes":
                hand_off()
                messages.success(request, _("Order %(number)s handed over. Thank you!") % {"number": order.number})
                return redirect("workspace:order", order.pk)
            rehearse(hand_off)
            return render(request, "workspace/handoff_confirm.html", _confirm_context(order, form, lines))
    line_fields = [(line, form[f"reject_{line.pk}"], form[f"reason_{line.pk}"]) for line in lines]
    return render(request, "workspace/handoff.html", {"order": order, "form": form, "line_fields": line_fields})


def _confirm_context(order: Order, form: HandOffForm, lines: list) -> dict:
    rejected = {line_id: (qty, reason) for line_id, qty, reason in form.rejections()}
    summary = [(line, line.picked_qty - rejected.get(line.pk, (0, ""))[0], rejected.get(line.pk)) for line in lines]
    hidden = [(name, value) for name, value in form.data.items() if name not in {"csrfmiddlewaretoken", "confirm"}]
    return {"order": order, "summary": summary, "hidden": hidden, "data": form.cleaned_data}

"""Substitutes in the workspace: the associate offers a product for units not found, on a page of its own
(the order page stays as cheap as it was); the shopper's answer, given at the desk, is an order action."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from shelfcall.core.errors import ShelfcallError
from shelfcall.orders import actions, policy
from shelfcall.orders.actions import Offer
from shelfcall.orders.errors import SubstituteRefused
from shelfcall.orders.models import Order
from shelfcall.orders.policy import OrderAction
from shelfcall.orders.queries import find_product_by_sku, list_substitute_candidates
from shelfcall.workspace.errors import refusal_shown
from shelfcall.workspace.forms import SubstituteAnswerForm, SubstituteForm, valid_data
from shelfcall.workspace.views.access import WorkspaceRequest, order_view


@require_http_methods(["GET", "POST"])
@order_view()
def offer_substitute(request: WorkspaceRequest, order: Order, line_id: int) -> HttpResponse:
    line = order.lines.filter(pk=line_id).first()
    if line is None:
        raise Http404("no such line")
    try:
        policy.require(request.actor, order, OrderAction.SUBSTITUTE)
    except ShelfcallError as refusal:  # a stale link: back to the order as it is now, with the reason
        messages.error(request, refusal.message)
        return redirect("workspace:order", order.pk)
    candidates = list_substitute_candidates(line)
    form = SubstituteForm(request.POST or None, line=line, candidates=candidates)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusal_shown(request, form):
            offer = Offer(data["product"] or _product_id(order, data["sku"]), data["qty"])
            [substitute] = actions.propose_substitutes(
                order.pk, line.pk, by=request.actor, offers=[offer], not_found_qty=data["not_found"]
            )
            messages.success(
                request,
                _("%(name)s is offered to the shopper; they have %(minutes)s minutes to answer.")
                % {"name": substitute.name, "minutes": order.store.substitute_wait_minutes},
            )
            return redirect("workspace:order", order.pk)
    context = {"order": order, "line": line, "form": form, "candidates": candidates}
    return render(request, "workspace/substitute.html", context)


def _product_id(order: Order, sku: str) -> int:
    product = find_product_by_sku(order, sku)
    if product is None:
        raise SubstituteRefused(
            _("No product has the SKU %(sku)s. Check it and try again.") % {"sku": sku}, field="sku"
        )
    return product.pk


def answer_for_the_shopper(request: WorkspaceRequest, order: Order) -> str:
    """The shopper answered at the desk or on the phone (an order action: workspace/views/order.py)."""
    data = valid_data(SubstituteAnswerForm(request.POST))
    accept = data["answer"] == "accept"
    line = actions.answer_substitute(order.pk, data["line"], accept=accept, by=request.actor)
    if accept:
        return _("%(name)s is part of the order now: pick it.") % {"name": line.name}
    return _("%(name)s is left out; its units are back on the shelf.") % {"name": line.name}

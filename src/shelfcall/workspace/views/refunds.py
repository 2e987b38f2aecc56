"""Money owed back to shoppers (short picks, turned-down items, paid orders cancelled) and its settlement."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shelfcall.core.money import format_money
from shelfcall.orders import actions
from shelfcall.orders.models import Order
from shelfcall.stores import policy
from shelfcall.workspace.errors import refusal_shown
from shelfcall.workspace.forms import RefundForm, valid_data
from shelfcall.workspace.queries import list_refunds_due
from shelfcall.workspace.views.access import WorkspaceRequest, order_view, staff_view


@staff_view(policy.Perm.SUPERVISE)
def refunds(request: WorkspaceRequest) -> HttpResponse:
    return render(request, "workspace/refunds.html", {"refunds": list_refunds_due(request.store), "form": RefundForm()})


@require_POST
@order_view(policy.Perm.SUPERVISE)
def settle_refund(request: WorkspaceRequest, order: Order) -> HttpResponse:
    """Records the amount the page showed (refused if it is no longer due), never one read before the action."""
    with refusal_shown(request):
        data = valid_data(RefundForm(request.POST))
        refund = actions.refund_order(order.pk, by=request.actor, amount=data["amount"], reference=data["reference"])
        messages.success(
            request,
            _("Refunded %(amount)s on order %(number)s.")
            % {"amount": format_money(refund.amount, order.currency), "number": order.number},
        )
    return redirect("workspace:refunds")

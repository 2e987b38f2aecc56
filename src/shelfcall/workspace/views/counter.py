"""The till screen: scan the shopper's barcode, see the order and its total, mark it paid."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from shelfcall.workspace.forms import PaymentForm
from shelfcall.workspace.queries import find_order_by_code, get_order_lines
from shelfcall.workspace.views.access import WorkspaceRequest, staff_view


@staff_view()
def till(request: WorkspaceRequest) -> HttpResponse:
    code = request.GET.get("code", "").strip()
    order = find_order_by_code(request.store, code) if code else None
    if code and order is None:
        messages.error(request, _("No order %(code)s in this store. Check the number and try again.") % {"code": code})
    context: dict[str, object] = {"code": code, "order": order, "payment_form": PaymentForm()}
    if order is not None:
        context["lines"] = get_order_lines(order)
    return render(request, "workspace/till.html", context)

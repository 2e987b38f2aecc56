"""Several orders picked in one walk: one list grouped by product, each unit sent to the right order."""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib import messages
from django.db.models import F, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from shelfcall.core.errors import ShelfcallError
from shelfcall.core.numbers import parse_number
from shelfcall.orders import actions
from shelfcall.orders.models import Order, OrderLine, OrderStatus, Substitution
from shelfcall.workspace.errors import refusal_shown
from shelfcall.workspace.forms import ScanForm
from shelfcall.workspace.views.access import WorkspaceRequest, staff_view


@dataclass
class ProductToPick:
    name: str
    sku: str
    upc: str
    location_hint: str
    lines: list[OrderLine] = field(default_factory=list)

    @property
    def open_qty(self) -> int:
        return sum(line.open_qty for line in self.lines)


def _selected(request: HttpRequest) -> list[int]:
    raw = request.POST.getlist("order") if request.method == "POST" else request.GET.getlist("order")
    return sorted({number for number in map(parse_number, raw) if number is not None})[:20]


def _open_lines(request: WorkspaceRequest, order_ids: list[int]) -> QuerySet[OrderLine]:
    """Lines still to pick in the selected orders this associate holds, most urgent order first."""
    return (
        OrderLine.objects.filter(
            order_id__in=order_ids,
            order__store=request.store,
            order__status=OrderStatus.PICKING,
            order__assignee=request.user,
            picked_qty__lt=F("requested_qty") - F("short_qty"),
        )
        .exclude(substitution=Substitution.PROPOSED)  # picked once the shopper accepts it
        .select_related("order", "product")
        .order_by("order__due_at", "order_id", "pk")
    )


def _group(lines: Iterable[OrderLine]) -> list[ProductToPick]:
    groups: dict[int, ProductToPick] = {}
    for line in lines:
        product = line.product
        group = groups.setdefault(product.pk, ProductToPick(line.name, line.sku, product.upc, product.location_hint))
        group.lines.append(line)
    return sorted(groups.values(), key=lambda group: (group.location_hint, group.name))


@staff_view()
def multi_pick(request: WorkspaceRequest) -> HttpResponse:
    order_ids = _selected(request)
    if request.method == "POST":
        with refusal_shown(request):
            messages.success(request, _handle(request, order_ids))
        query = "&".join(f"order={pk}" for pk in order_ids)
        return redirect(f"{request.path}?{query}")
    orders = list(Order.objects.filter(store=request.store, pk__in=order_ids).select_related("assignee"))
    return render(
        request,
        "workspace/multipick.html",
        {
            "orders": orders,
            "products": _group(_open_lines(request, order_ids)),
            "unclaimed": [order for order in orders if order.status == OrderStatus.SUBMITTED],
            "scan_form": ScanForm(),
        },
    )


def _handle(request: WorkspaceRequest, order_ids: list[int]) -> str:
    if request.POST.get("action") == "claim":
        return _claim_all(request, order_ids)
    code = request.POST.get("code", "").strip()
    if not code:
        raise ShelfcallError(_("Scan an item or type its SKU."), field="code")
    line = _open_lines(request, order_ids).filter(Q(product__upc=code) | Q(sku__iexact=code)).first()
    if line is None:
        raise ShelfcallError(
            _("%(code)s is not needed by any of these orders. Check the item.") % {"code": code}, field="code"
        )
    actions.pick_line(line.order_id, line.pk, by=request.actor)
    return _("%(name)s → order %(number)s") % {"name": line.name, "number": line.order.number}


def _claim_all(request: WorkspaceRequest, order_ids: list[int]) -> str:
    claimed, refused = [], []
    for order in Order.objects.filter(store=request.store, pk__in=order_ids, status=OrderStatus.SUBMITTED):
        try:
            actions.claim_order(order.pk, by=request.actor)
            claimed.append(str(order.number))
        except ShelfcallError as error:
            refused.append(error.message)
    if refused:
        messages.warning(request, " ".join(refused))
    return _("You are picking orders %(numbers)s.") % {"numbers": ", ".join(claimed) or "—"}

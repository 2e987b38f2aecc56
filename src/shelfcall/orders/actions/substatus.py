"""Sub-statuses: the organization's own steps inside a lifecycle status, set by staff, told to the shopper."""

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet

from shelfcall.orders import policy
from shelfcall.orders.actions._common import fetch, move
from shelfcall.orders.errors import SubStatusNotAllowed, UnknownSubStatus
from shelfcall.orders.events import Actor, EventType, record
from shelfcall.orders.models import Order, OrderEvent, SubStatus
from shelfcall.orders.policy import OrderAction


def with_sub_statuses_defined(orders: QuerySet[Order]) -> QuerySet[Order]:
    """Orders annotated with whether their organization defines any sub-status for their status: in the
    page's own read of the order, so that a store using none pays no query for the choice."""
    defined = SubStatus.objects.filter(
        organization_id=OuterRef("store__organization_id"), status=OuterRef("status"), active=True
    )
    return orders.annotate(sub_statuses_defined=Exists(defined))


def next_sub_statuses(order: Order) -> list[SubStatus]:
    """What the order may take now: from its sub-status, those it lists; from none, the entry ones of its
    status. Only active sub-statuses of the order's organization and of its current status."""
    if getattr(order, "sub_statuses_defined", True) is False:
        return []
    candidates = SubStatus.objects.filter(
        organization_id=order.store.organization_id, status=order.status, active=True
    ).order_by("position", "name")
    current = order.current_sub_status
    if current is None:
        return list(candidates.filter(entry=True))
    return list(candidates.filter(pk__in=current.next_sub_statuses.values("pk")))


@transaction.atomic
def set_sub_status(order_id: int, sub_status_id: int | None, *, by: Actor) -> Order:
    """Set (or with None, clear) the order's sub-status. The same one again changes nothing."""
    order = fetch(order_id, lock=True)
    policy.require(by, order, OrderAction.SET_SUB_STATUS)
    current = order.current_sub_status
    wanted = _wanted(order, sub_status_id)
    if wanted == current:
        return order
    if wanted is not None and wanted not in next_sub_statuses(order):
        raise SubStatusNotAllowed(order.number, wanted.name, [sub.name for sub in next_sub_statuses(order)])
    order = move(
        order_id,
        from_statuses=[order.status],
        action=OrderAction.SET_SUB_STATUS,
        actor=by,
        current=order,
        condition=Q(sub_status=order.sub_status_id),
        sub_status=wanted,
    )
    record(
        order,
        EventType.SUB_STATUS_CHANGED,
        actor=by,
        status=order.status,
        code=wanted.code if wanted else "",
        name=wanted.name if wanted else "",
        shopper_text=wanted.shopper_text(order.locale) if wanted else "",
        previous_code=current.code if current else "",
        shopper_notified=wanted is not None and _tells_shopper(order, wanted),
    )
    return order


def _tells_shopper(order: Order, sub: SubStatus) -> bool:
    """Once per sub-status and order: setting and clearing it in a loop must not flood their phone."""
    if not (sub.notify_shopper and sub.shopper_text(order.locale)):
        return False
    told = OrderEvent.objects.filter(
        order_id=order.pk, type=EventType.SUB_STATUS_CHANGED, payload__code=sub.code, payload__shopper_notified=True
    )
    return not told.exists()


def _wanted(order: Order, sub_status_id: int | None) -> SubStatus | None:
    if sub_status_id is None:
        return None
    wanted = SubStatus.objects.filter(
        pk=sub_status_id, organization_id=order.store.organization_id, active=True
    ).first()
    if wanted is None:
        raise UnknownSubStatus()
    return wanted


def sub_status_id_by_code(order: Order, code: str) -> int:
    """The id of the order's organization's active sub-status with this code (how store systems name it)."""
    found = SubStatus.objects.filter(organization_id=order.store.organization_id, code=code, active=True).values_list(
        "pk", flat=True
    )
    for pk in found:
        return pk
    raise UnknownSubStatus()

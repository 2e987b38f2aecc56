"""Bulk actions on a selection of orders across stores, run as a job (core/jobs) with one outcome per order.

Each order goes through its own action, in its own transaction: it is done whole or refused whole,
with the action's own reason (it moved on meanwhile, someone else holds it, it is another store's…).
A resumed job skips the orders its earlier attempt recorded; the same selection sent again (the form's
key) is the same job, so a double submission does nothing the second time.
"""

import csv
import io
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shelfcall.core.errors import ShelfcallError
from shelfcall.core.jobs import JobContext, enqueue
from shelfcall.core.jobs.models import Job
from shelfcall.orders import actions
from shelfcall.orders.events import Actor
from shelfcall.orders.models import Order, OrderStatus
from shelfcall.stores import policy
from shelfcall.stores.models import DropZone

KIND_PREFIX = "hq.bulk_"
MAX_ORDERS = 1000


class BulkAction(StrEnum):
    MARK_READY = "mark_ready"
    CANCEL = "cancel"
    RESEND_READY = "resend_ready"
    PRINT_PICK_LISTS = "print_pick_lists"
    PRINT_RECEIPTS = "print_receipts"


# What prints one PDF of the orders the job found printable (hq/views.job_document makes it).
PRINTS = frozenset({BulkAction.PRINT_PICK_LISTS, BulkAction.PRINT_RECEIPTS})


LABELS = {
    BulkAction.MARK_READY: gettext_lazy("Mark ready at a drop zone"),
    BulkAction.CANCEL: gettext_lazy("Cancel with a reason"),
    BulkAction.RESEND_READY: gettext_lazy("Send the ready message again"),
    BulkAction.PRINT_PICK_LISTS: gettext_lazy("Print pick lists (one PDF)"),
    BulkAction.PRINT_RECEIPTS: gettext_lazy("Print receipt copies (one PDF)"),
}


class NothingToPick(ShelfcallError):
    code = "nothing_to_pick"
    status = 409

    def __init__(self, number: int, status: str) -> None:
        super().__init__(_("Order %(number)s is %(status)s: nothing to pick.") % {"number": number, "status": status})


class AlreadyReady(ShelfcallError):
    code = "already_ready"
    status = 409

    def __init__(self, number: int, place: str) -> None:
        super().__init__(_("Order %(number)s is already ready at %(place)s.") % {"number": number, "place": place})


def start(
    action: BulkAction, order_ids: Sequence[int], *, by: User, key: str, reason: str = "", place: str = ""
) -> Job:
    """Queue the job, or return the one this selection (its `key`) already made."""
    kind = f"{KIND_PREFIX}{action}"
    existing = Job.objects.filter(kind=kind, requested_by=by, params__key=key).first()
    if existing is not None:
        return existing
    params = {"orders": sorted(set(order_ids))[:MAX_ORDERS], "key": key, "reason": reason, "place": place}
    return enqueue(kind, params, requested_by=by)


def _mark_ready(order: Order, actor: Actor, params: dict[str, Any]) -> None:
    if order.status == OrderStatus.READY:
        raise AlreadyReady(order.number, order.staged_location)
    place = params["place"]
    zone = DropZone.objects.filter(store=order.store_id, name__iexact=place, active=True).first()
    actions.stage_order(order.pk, by=actor, drop_zone=zone, note="" if zone else place)


def _cancel(order: Order, actor: Actor, params: dict[str, Any]) -> None:
    actions.cancel_order(order.pk, by=actor, reason=params["reason"])


def _resend(order: Order, actor: Actor, params: dict[str, Any]) -> None:
    actions.resend_ready_message(order.pk, by=actor)


def _to_pick(order: Order, actor: Actor, params: dict[str, Any]) -> None:
    """On the pick list: what is still being prepared (its lines left to pick are printed)."""
    if order.status not in (OrderStatus.SUBMITTED, OrderStatus.PICKING):
        raise NothingToPick(order.number, order.get_status_display().lower())


def _printable(order: Order, actor: Actor, params: dict[str, Any]) -> None:
    """Any order the requester may see has a receipt copy."""


_STEPS: dict[BulkAction, Callable[[Order, Actor, dict[str, Any]], None]] = {
    BulkAction.MARK_READY: _mark_ready,
    BulkAction.CANCEL: _cancel,
    BulkAction.RESEND_READY: _resend,
    BulkAction.PRINT_PICK_LISTS: _to_pick,
    BulkAction.PRINT_RECEIPTS: _printable,
}


def runner(action: BulkAction) -> Callable[[JobContext], dict[str, int]]:
    """The job's handler: each order of the selection in turn, skipping those already recorded."""

    def run(context: JobContext) -> dict[str, int]:
        user = get_user_model().objects.get(pk=context.requested_by_id or 0)
        ids = context.params["orders"]
        visible = policy.stores_granting(user, policy.Perm.SEE_ALL_ORDERS)
        orders = {o.pk: o for o in Order.objects.filter(pk__in=ids, store__in=visible).select_related("store")}
        roles: dict[int, Any] = {}
        context.progress(0, len(ids))
        for done, order_id in enumerate(ids, start=1):
            if context.recorded(str(order_id)) is None:
                context.record(str(order_id), **_one(action, orders.get(order_id), user, roles, context.params))
            context.progress(done)
        return summary([context.recorded(str(order_id)) for order_id in ids])

    return run


def _one(
    action: BulkAction, order: Order | None, user: User, roles: dict[int, Any], params: dict[str, Any]
) -> dict[str, Any]:
    if order is None:
        return {"status": "refused", "number": None, "reason": _("This order does not exist in your stores.")}
    if order.store_id not in roles:
        roles[order.store_id] = policy.role_in(user, order.store)
    try:
        _STEPS[action](order, Actor.staff(user, roles[order.store_id]), params)
    except ShelfcallError as error:
        return {"status": "refused", "number": order.number, "store": order.store.name, "reason": error.message}
    return {"status": "done", "number": order.number, "store": order.store.name}


def summary(items: Sequence[dict[str, Any]]) -> dict[str, int]:
    return {
        "done": sum(1 for item in items if item["status"] == "done"),
        "refused": sum(1 for item in items if item["status"] == "refused"),
    }


def jobs_of(user: User) -> QuerySet[Job]:
    """The bulk jobs the user asked for: only they see them and their results."""
    return Job.objects.filter(requested_by=user, kind__startswith=KIND_PREFIX)


def action_of(job: Job) -> BulkAction:
    return BulkAction(job.kind.removeprefix(KIND_PREFIX))


def done_order_ids(job: Job) -> list[int]:
    """The orders the job did (for a print: found printable), in the selection's order."""
    items = (job.outcome or {}).get("items", {})
    return sorted(int(order_id) for order_id, item in items.items() if item["status"] == "done")


def refused_csv(job: Job) -> str:
    """The refused orders of a job: order, store, reason."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Order id"), _("Number"), _("Store"), _("Why")])
    for order_id, item in sorted((job.outcome or {}).get("items", {}).items(), key=lambda kv: int(kv[0])):
        if item["status"] == "refused":
            writer.writerow([order_id, item.get("number") or "", item.get("store", ""), item["reason"]])
    return out.getvalue()

"""Order actions for store systems with screens of their own: the workspace's actions, through the API.

An API key acts for its store: it holds no order itself, so it may work on any order of the store
(as the workspace's supervisors may), and the policy (orders/policy.py) refuses the rest with the
same codes the workspace's associates get.
"""

from collections.abc import Callable
from typing import Any, Literal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.utils.translation import gettext as _
from ninja import Body, Router, Schema
from ninja import Field as F
from pydantic import ConfigDict

from shelfcall.api import auth, queries
from shelfcall.api.auth import ApiRequest
from shelfcall.api.errors import InvalidInput, NotFound
from shelfcall.api.idempotency import idempotent
from shelfcall.api.models import ApiKey
from shelfcall.api.responses import ErrorOut
from shelfcall.api.schemas import OrderOut
from shelfcall.catalog.models import Product
from shelfcall.orders import actions
from shelfcall.orders.actions import Offer, Rejection
from shelfcall.orders.errors import OrderNotFound, UnknownAssociate
from shelfcall.orders.events import Actor
from shelfcall.orders.models import Order, OrderStatus
from shelfcall.orders.policy import OrderAction, allowed_actions
from shelfcall.stores.models import DropZone

router = Router(tags=["order actions"])

WRITE_ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut, 429: ErrorOut}
# Free text, possibly empty, without control characters (PostgreSQL cannot even store a NUL).
TEXT = r"^[^\x00-\x1f\x7f]*$"
COMMON_ERRORS = """
Errors: `wrong_status` (409, the order is not in a state for this), `not_your_order` (409, a person
holds it: ask a supervisor), `action_not_allowed` (403), `not_found` (404, no such order or line for
this key), `invalid` (422, names the field), `idempotency_key_reused` (422),
`idempotent_request_running` (409). Send `Idempotency-Key` to retry safely: a retry gets the first
answer."""


_OPTIONAL_BODY = Body(None)  # the claim's body may be left out


class ClaimIn(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"associate": "alex"}, {}]})

    associate: str | None = F(
        None,
        min_length=1,
        max_length=150,
        pattern=TEXT,
        description="The username of who picks; they must work in the order's store. Leave out to pick as the store.",
    )


class QuantityIn(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"qty": 1}]})

    qty: int = F(1, ge=1, le=999, description="Units, at least 1.")


class ReadyIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"drop_zone_id": 1, "location": "shelf B"}, {"location": "Locker 4"}]}
    )

    drop_zone_id: int | None = F(None, description="One of the store's drop zones.")
    location: str = F("", max_length=120, pattern=TEXT, description="Where exactly, or another place.")


class RejectionIn(Schema):
    line_id: int
    qty: int = F(ge=1, le=999)
    reason: Literal["damaged", "wrong_item", "changed_mind", "other"]


class HandOffIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"pickup_code": "SC1001", "id_checked": True},
                {"rejections": [{"line_id": 7, "qty": 1, "reason": "damaged"}], "collected_by": "Sam"},
            ]
        }
    )

    pickup_code: str | None = F(
        None, max_length=32, pattern=TEXT, description="The scanned barcode (SC1001) or the number; checked when sent."
    )
    rejections: list[RejectionIn] = F(default_factory=list, max_length=200, description="Units turned down.")
    collected_by: str = F("", max_length=120, pattern=TEXT, description="Someone else collecting: their name.")
    id_checked: bool = F(False, description="Required true where the store checks ID at hand-off.")


class CancelIn(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "The shopper changed their mind"}]})

    reason: str = F(..., min_length=1, max_length=200, pattern=TEXT, description="Shown to the shopper.")


class SubStatusIn(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"code": "engraving"}, {"code": None}]})

    code: str | None = F(
        ...,
        min_length=1,
        max_length=40,
        pattern=r"^[-a-zA-Z0-9_]+$",
        description="One of the organization's sub-statuses of the order's current status; null clears it.",
    )


class SubstituteIn(Schema):
    sku: str = F(min_length=1, max_length=64, pattern=TEXT, description="A product of the catalogue, in stock here.")
    qty: int = F(1, ge=1, le=999, description="Units offered.")


class SubstitutesIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"not_found": 1, "substitutes": [{"sku": "SHV-S8", "qty": 1}]}]}
    )

    not_found: int = F(
        0, ge=0, le=999, description="Units of the line to mark not found first; 0 when they already are."
    )
    substitutes: list[SubstituteIn] = F(min_length=1, max_length=10, description="What to offer instead.")


class SubstituteAnswerIn(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"accept": True}]})

    accept: bool = F(description="true: the shopper takes the substitute; false: they do not.")


class AllowedActionsOut(Schema):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"order_id": 42, "status": "ready", "actions": ["cancel", "hand_off", "pay"]}]}
    )

    order_id: int
    status: OrderStatus
    actions: list[OrderAction] = F(description="What this key may do to the order now, sorted.")


def order_action(path: str, summary: str, description: str) -> Callable[[Callable], Callable]:
    """Register a POST on an order: scope orders:write, idempotent, answering with the order."""

    def register(endpoint: Callable) -> Callable:
        return router.post(
            path,
            response={200: OrderOut, **WRITE_ERRORS},
            auth=auth.ORDERS_WRITE,
            summary=summary,
            description=description + COMMON_ERRORS,
        )(idempotent(endpoint))

    return register


def _act(request: ApiRequest, order_id: int, act: Callable[[Order, Actor], object]) -> OrderOut:
    """Find the order through the key (404 for another store's), act as the key, answer with the order."""
    api_key: ApiKey = request.auth
    act(queries.get_order(api_key, order_id), Actor.api(api_key.name))
    return OrderOut.of(queries.get_order(api_key, order_id))


def _act_on_found(request: ApiRequest, order_id: int, act: Callable[[Order, Actor], Order]) -> OrderOut:
    """As `_act`, for an action that takes the order found as its read of it (`current`, orders/actions/
    _common.py) and gives it back as it left it, its new event as the version: the answer, read once."""
    api_key: ApiKey = request.auth
    return OrderOut.of(act(queries.get_order(api_key, order_id), Actor.api(api_key.name)))


def _on_line(request: ApiRequest, order_id: int, line_id: int, qty: int, action: Callable[..., object]) -> OrderOut:
    """`action(order_id, line_id, by=…, qty=…)` on a line of the order: another order's line is not found."""
    return _act(request, order_id, lambda order, by: action(order.pk, _line_of(order, line_id), by=by, qty=qty))


def _line_of(order: Order, line_id: int) -> int:
    if not any(line.pk == line_id for line in order.lines.all()):
        raise NotFound(_("No line with this id on this order."))
    return line_id


def _associate(username: str) -> User:
    """An active person by username. The action checks they work in the order's store, with the same
    answer for an unknown name and a stranger: a key learns nothing of other stores' staff."""
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise UnknownAssociate()
    return user


def _claim(order: Order, by: Actor, username: str | None) -> Order:
    holder = _associate(username) if username else None
    if holder is not None and order.status == OrderStatus.PICKING and order.assignee_id != holder.pk:
        return actions.reassign_order(order.pk, to=holder, by=by, current=order)
    return actions.claim_order(order.pk, by=by, holder=holder, current=order)


def _found_at(api_key: ApiKey, order_id: int, drop_zone_id: int | None) -> tuple[Order, DropZone | None]:
    """The order found through the key and the drop zone named, an active one of the order's store: one read."""
    if drop_zone_id is None:
        return queries.get_order(api_key, order_id), None
    order, drop_zone = queries.get_order_and_drop_zone(api_key, order_id, drop_zone_id)
    if drop_zone is None:
        raise InvalidInput(_("No drop zone with this id in the order's store."), field="drop_zone_id")
    return order, drop_zone


def _rejections(order: Order, rejections: list[RejectionIn]) -> list[Rejection]:
    line_ids = {line.pk for line in order.lines.all()}
    for position, rejection in enumerate(rejections):
        if rejection.line_id not in line_ids:
            raise InvalidInput(_("No line with this id on this order."), field=f"rejections.{position}.line_id")
    return [Rejection(r.line_id, r.qty, r.reason) for r in rejections]


@order_action(
    "/orders/{order_id}/claim",
    "Start picking (claim)",
    "A waiting order becomes `picking`. With `associate`, that person of the store holds it (an order "
    "someone else picks is reassigned to them) and it shows as theirs in the workspace; without, the store's "
    "system holds it and no person does (supervisors can put it back or reassign it). Claiming again for the "
    "same holder changes nothing. Also: `already_claimed` (409, someone else holds it), `unknown_associate` "
    "(422, field `associate`).",
)
def claim(request: ApiRequest, order_id: int, payload: ClaimIn = _OPTIONAL_BODY) -> OrderOut:
    """For the store: written first, among the orders the key reaches; only a claim refused (or one for a
    named associate) reads the order first."""
    associate = payload.associate if payload else None
    if associate is None:
        api_key: ApiKey = request.auth
        claimed = actions.try_claim_order(order_id, by=Actor.api(api_key.name), within=queries.reach_of(api_key))
        if claimed is not None:
            return OrderOut.of(claimed)
    return _act_on_found(request, order_id, lambda order, by: _claim(order, by, associate))


@order_action(
    "/orders/{order_id}/lines/{line_id}/pick",
    "Pick units of a line",
    "`qty` more units are in hand. Also: `quantity_too_large` (422, field `qty`: more than are still open).",
)
def pick(request: ApiRequest, order_id: int, line_id: int, payload: QuantityIn) -> OrderOut:
    """Counted first, among the orders the key reaches; only a count refused reads the order, to say why."""
    api_key: ApiKey = request.auth
    by = Actor.api(api_key.name)
    picked = actions.try_pick_line(order_id, line_id, by=by, qty=payload.qty, within=queries.reach_of(api_key))
    if picked is not None:
        return OrderOut.of(picked.order)

    def act(order: Order, by: Actor) -> Order:
        picked = actions.pick_line(order.pk, _line_of(order, line_id), by=by, qty=payload.qty, current=order)
        return queries.after_line_action(order, picked)

    return _act_on_found(request, order_id, act)


@order_action(
    "/orders/{order_id}/lines/{line_id}/not-found",
    "Mark units of a line not found",
    "The order shrinks and the stock is released; a paid order gets a refund due (`order.refund_due`). "
    "When nothing is left, the order is cancelled. Also: `quantity_too_large` (422, field `qty`).",
)
def not_found(request: ApiRequest, order_id: int, line_id: int, payload: QuantityIn) -> OrderOut:
    return _on_line(request, order_id, line_id, payload.qty, actions.mark_line_not_found)


def _offers(order: Order, substitutes: list[SubstituteIn]) -> list[Offer]:
    """By SKU, in one query; an unknown SKU is refused by the action, naming `substitutes.<i>.sku`."""
    skus = {item.sku.upper() for item in substitutes}
    products = {
        p.sku.upper(): p.pk for p in Product.objects.filter(organization=order.store.organization_id, sku__in=skus)
    }
    return [Offer(products.get(item.sku.upper(), 0), item.qty) for item in substitutes]


@order_action(
    "/orders/{order_id}/lines/{line_id}/substitutes",
    "Offer substitutes for units not found",
    "Marks `not_found` more units of the line not found (as `…/not-found` does, without cancelling an order "
    "left empty) and offers each product in their place: its units are held at once and the shopper sees "
    "the offer live on their status page (`order.substitute_proposed`). A substitute is no part of the "
    "total, and is neither picked nor staged past, until answered (`…/substitute-answer`, the shopper, or "
    "the store's default after its wait). All or nothing. Also: `substitute_out_of_stock` (409, field "
    "`substitutes.<i>.qty`: fewer free on the shelf than offered, e.g. sold meanwhile), `substitute_refused` "
    "(422: a SKU not sold here or already in the order, field `substitutes.<i>.sku`; a quantity over the "
    "store's maximum), `nothing_not_found` (409: no unit of the line is marked not found), "
    "`substitute_not_accepted` (409: the line is itself a substitute waiting for an answer).",
)
def offer_substitutes(request: ApiRequest, order_id: int, line_id: int, payload: SubstitutesIn) -> OrderOut:
    return _act(
        request,
        order_id,
        lambda order, by: actions.propose_substitutes(
            order.pk,
            _line_of(order, line_id),
            by=by,
            offers=_offers(order, payload.substitutes),
            not_found_qty=payload.not_found,
        ),
    )


@order_action(
    "/orders/{order_id}/lines/{line_id}/substitute-answer",
    "Answer a substitute for the shopper",
    "The shopper's answer given at a till or a desk: accepted, the substitute joins the order and its total "
    "(`order.substitute_accepted`; what is owed or due back follows); declined, its units go back on the "
    "shelf (`order.substitute_declined`), and an order with nothing left is cancelled. The same answer "
    "again changes nothing. Also: `substitute_already_decided` (409, answered the other way already), "
    "`not_a_substitute` (422, the line is none, or nothing waits for an answer).",
)
def answer_substitute(request: ApiRequest, order_id: int, line_id: int, payload: SubstituteAnswerIn) -> OrderOut:
    return _act(
        request,
        order_id,
        lambda order, by: actions.answer_substitute(order.pk, _line_of(order, line_id), accept=payload.accept, by=by),
    )


@order_action(
    "/orders/{order_id}/ready-for-pickup",
    "Ready for pickup (stage)",
    "Every unit picked or not found: the order waits at a drop zone and/or a place in words, and the "
    "shopper is told (`order.fulfilled`), as when an associate stages it. On a ready order this moves it "
    "(`order.restaged`). Also: `not_fully_picked` (409), `location_required` (422, field `location`), field "
    "`drop_zone_id` for a drop zone not in the order's store.",
)
def ready_for_pickup(request: ApiRequest, order_id: int, payload: ReadyIn) -> OrderOut:
    api_key: ApiKey = request.auth
    order, drop_zone = _found_at(api_key, order_id, payload.drop_zone_id)
    by = Actor.api(api_key.name)
    return OrderOut.of(actions.stage_order(order.pk, by=by, drop_zone=drop_zone, note=payload.location, current=order))


@order_action(
    "/orders/{order_id}/hand-off",
    "Hand the order off (picked up)",
    "The workspace's checks: `pickup_code_mismatch` (422, field `pickup_code`), `payment_required` "
    "(409, unpaid where the store hands over only after payment), `id_check_required` (422, field "
    "`id_checked`), `quantity_too_large` for a rejection of more than was picked.",
)
def hand_off(request: ApiRequest, order_id: int, payload: HandOffIn) -> OrderOut:
    """The hand-off's read of the order under its lock, narrowed to the orders the key reaches, is the key's
    look-up too (another store's order is the same 404), and the answer is the order as the hand-off left
    it. The rejections' lines are checked on that read before the hand-off's own checks."""
    api_key: ApiKey = request.auth
    try:
        order = actions.hand_off_order(
            order_id,
            by=Actor.api(api_key.name),
            pickup_code=payload.pickup_code,
            rejections=lambda order: _rejections(order, payload.rejections),
            collected_by=payload.collected_by,
            id_checked=payload.id_checked,
            within=queries.reached(api_key),
        )
    except OrderNotFound:
        raise NotFound(_("No order with this id.")) from None
    return OrderOut.of(order)


@order_action(
    "/orders/{order_id}/cancel",
    "Cancel the order",
    "Any open order of the store; its stock goes back, a paid order gets a refund due.",
)
def cancel(request: ApiRequest, order_id: int, payload: CancelIn) -> OrderOut:
    return _act(request, order_id, lambda order, by: actions.cancel_order(order.pk, by=by, reason=payload.reason))


@order_action(
    "/orders/{order_id}/sub-status",
    "Set the order's sub-status",
    "One of the organization's own steps inside the order's status (e.g. waiting for engraving), allowed "
    "from its current one; the lifecycle status does not change. The same one again changes nothing. "
    "Also `sub_status_not_allowed` (409, names the allowed ones) and `unknown_sub_status` (422).",
)
def set_sub_status(request: ApiRequest, order_id: int, payload: SubStatusIn) -> OrderOut:
    def act(order: Order, by: Actor) -> Order:
        wanted = actions.sub_status_id_by_code(order, payload.code) if payload.code else None
        return actions.set_sub_status(order.pk, wanted, by=by)

    return _act(request, order_id, act)


@router.get(
    "/orders/{order_id}/allowed-actions",
    response={200: AllowedActionsOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    auth=auth.ORDERS_READ,
    summary="What this key may do to the order now",
    description="The same answer the workspace's buttons come from, for this key (a store system): e.g. show "
    "'Hand off' only when `hand_off` is listed.",
)
def get_allowed_actions(request: ApiRequest, order_id: int) -> dict[str, Any]:
    api_key: ApiKey = request.auth
    order = queries.get_order(api_key, order_id)
    allowed = allowed_actions(Actor.api(api_key.name), order)
    return {"order_id": order.pk, "status": order.status, "actions": sorted(allowed)}

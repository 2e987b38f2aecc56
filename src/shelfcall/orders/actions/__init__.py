"""The only writers of order state. Each action is one transaction that records an OrderEvent."""

from shelfcall.orders.actions.claiming import claim_order, unclaim_order
from shelfcall.orders.actions.closing import cancel_order, expire_order
from shelfcall.orders.actions.handoff import REJECT_REASONS, Rejection, hand_off_order
from shelfcall.orders.actions.payment import mark_paid, refund_order
from shelfcall.orders.actions.picking import mark_line_not_found, pick_line, stage_order
from shelfcall.orders.actions.submission import CartLine, ShopperContact, submit_showcase_order

__all__ = [
    "REJECT_REASONS",
    "CartLine",
    "Rejection",
    "ShopperContact",
    "cancel_order",
    "claim_order",
    "expire_order",
    "hand_off_order",
    "mark_line_not_found",
    "mark_paid",
    "pick_line",
    "refund_order",
    "stage_order",
    "submit_showcase_order",
    "unclaim_order",
]

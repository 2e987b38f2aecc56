"""The only writers of order state. Each action is one transaction that records an OrderEvent."""

from shelfcall.orders.actions._common import Reach, keep_lines, order_of_lines, with_action_relations
from shelfcall.orders.actions.arrival import CHECK_IN_MODES, check_in
from shelfcall.orders.actions.claiming import claim_order, reassign_order, try_claim_order, unclaim_order
from shelfcall.orders.actions.closing import cancel_order, expire_order
from shelfcall.orders.actions.creation import CartLine, CreatedOrder, ShopperContact, create_order
from shelfcall.orders.actions.handoff import REJECT_REASONS, Rejection, check_hand_off, hand_off_order
from shelfcall.orders.actions.lines import add_line, change_line_qty
from shelfcall.orders.actions.moving import TargetLacksStock, UnknownTargetStore, move_order
from shelfcall.orders.actions.payment import Receipt, mark_paid, record_payment, refund_order
from shelfcall.orders.actions.picking import mark_line_not_found, pick_by_code, pick_line, stage_order, try_pick_line
from shelfcall.orders.actions.submission import submit_showcase_order
from shelfcall.orders.actions.substatus import (
    next_sub_statuses,
    set_sub_status,
    sub_status_id_by_code,
    with_sub_statuses_defined,
)
from shelfcall.orders.actions.substitution import (
    Offer,
    answer_substitute,
    apply_substitute_defaults,
    propose_substitutes,
)
from shelfcall.orders.actions.timers import (
    DueEscalation,
    escalate_orders,
    remind_to_collect,
    resend_ready_message,
    restore_timer,
    send_status_link,
    set_timer_aside,
)

__all__ = [
    "CHECK_IN_MODES",
    "REJECT_REASONS",
    "CartLine",
    "CreatedOrder",
    "DueEscalation",
    "Offer",
    "Reach",
    "Receipt",
    "Rejection",
    "ShopperContact",
    "TargetLacksStock",
    "UnknownTargetStore",
    "add_line",
    "answer_substitute",
    "apply_substitute_defaults",
    "cancel_order",
    "change_line_qty",
    "check_hand_off",
    "check_in",
    "claim_order",
    "create_order",
    "escalate_orders",
    "expire_order",
    "hand_off_order",
    "keep_lines",
    "mark_line_not_found",
    "mark_paid",
    "move_order",
    "next_sub_statuses",
    "order_of_lines",
    "pick_by_code",
    "pick_line",
    "propose_substitutes",
    "reassign_order",
    "record_payment",
    "refund_order",
    "remind_to_collect",
    "resend_ready_message",
    "restore_timer",
    "send_status_link",
    "set_sub_status",
    "set_timer_aside",
    "stage_order",
    "sub_status_id_by_code",
    "submit_showcase_order",
    "try_claim_order",
    "try_pick_line",
    "unclaim_order",
    "with_action_relations",
    "with_sub_statuses_defined",
]

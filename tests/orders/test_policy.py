"""The order policy: who may do what to an order now, and the actions refusing the rest themselves."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from shelfcall.orders import actions
from shelfcall.orders.errors import ActionNotAllowed, IdCheckRequired, NotYourOrder, UnknownAssociate
from shelfcall.orders.events import SHOPPER, SYSTEM, Actor
from shelfcall.orders.models import Order, OrderStatus, PaymentStatus
from shelfcall.orders.policy import OrderAction as A
from shelfcall.orders.policy import allowed_actions, require
from shelfcall.stores.models import Role
from tests.factories import (
    TILL,
    claimed,
    make_product,
    make_showcase,
    make_store,
    make_user,
    picked,
    signed_in,
    staff,
    staged,
    submit,
)

User = get_user_model()
ALEX, BEN = User(pk=1, username="alex", first_name="Alex"), User(pk=2, username="ben", first_name="Ben")
ASSOCIATE = Actor.staff(BEN, Role.ASSOCIATE)
SUPERVISOR = Actor.staff(BEN, Role.SUPERVISOR)
SERVICE = Actor.staff(BEN, Role.CUSTOMER_SERVICE)
ADMIN = Actor.staff(BEN, Role.STORE_ADMIN)

SUBMITTED, PICKING, READY = OrderStatus.SUBMITTED, OrderStatus.PICKING, OrderStatus.READY
COMPLETED, CANCELLED = OrderStatus.COMPLETED, OrderStatus.CANCELLED


def _order(
    status: str,
    holder=None,
    *,
    paid: bool = False,
    contact: bool = False,
    refund_due: bool = False,
    substitute: bool = False,
) -> Order:
    return Order(
        substitute_due_at=datetime(2026, 11, 23, 10, tzinfo=UTC) if substitute else None,
        number=1001,
        status=status,
        assignee_id=holder and holder.pk,
        payment_status=PaymentStatus.PAID if paid else PaymentStatus.UNPAID,
        paid_amount=Decimal("20") if paid else Decimal("0"),
        total_amount=Decimal("0") if refund_due else Decimal("20"),
        shopper_email="kim@example.com" if contact else "",
    )


# (actor, order: status, holder; extras) → what the actor may do. BEN is the actor when staff.
TABLE = [
    # An associate: their own order, a colleague's, nobody's. A colleague's picking is theirs to sub-status.
    (ASSOCIATE, (SUBMITTED, None), {A.CLAIM, A.PAY, A.CANCEL, A.SET_SUB_STATUS}),
    (
        ASSOCIATE,
        (PICKING, BEN),
        {A.UNCLAIM, A.PICK, A.NOT_FOUND, A.SUBSTITUTE, A.STAGE, A.PAY, A.CANCEL, A.SET_SUB_STATUS},
    ),
    (ASSOCIATE, (PICKING, ALEX), {A.PAY}),
    (ASSOCIATE, (READY, BEN), {A.RESTAGE, A.HAND_OFF, A.PAY, A.CANCEL, A.SET_SUB_STATUS}),
    (ASSOCIATE, (READY, ALEX), {A.RESTAGE, A.HAND_OFF, A.PAY, A.SET_SUB_STATUS}),
    (ASSOCIATE, (READY, ALEX, {"contact": True, "paid": True}), {A.RESTAGE, A.HAND_OFF, A.RESEND, A.SET_SUB_STATUS}),
    (ASSOCIATE, (COMPLETED, ALEX), {A.PAY}),
    (ASSOCIATE, (CANCELLED, ALEX, {"paid": True, "refund_due": True}), set()),
    # A supervisor: also a colleague's order.
    (SUPERVISOR, (SUBMITTED, None), {A.CLAIM, A.PAY, A.CANCEL, A.REASSIGN, A.SET_SUB_STATUS}),
    (SUPERVISOR, (PICKING, ALEX), {A.UNCLAIM_FOR_ANYONE, A.REASSIGN, A.PAY, A.CANCEL, A.SET_SUB_STATUS}),
    (
        SUPERVISOR,
        (PICKING, BEN),
        {A.UNCLAIM, A.REASSIGN, A.PICK, A.NOT_FOUND, A.SUBSTITUTE, A.STAGE, A.PAY, A.CANCEL, A.SET_SUB_STATUS},
    ),
    (SUPERVISOR, (READY, ALEX), {A.RESTAGE, A.HAND_OFF, A.PAY, A.CANCEL, A.SET_SUB_STATUS}),
    (SUPERVISOR, (CANCELLED, ALEX, {"paid": True, "refund_due": True}), {A.REFUND}),
    (SUPERVISOR, (COMPLETED, ALEX, {"paid": True}), set()),
    # Customer service: never claims, picks or hands off; resends, cancels, moves what nobody started.
    (SERVICE, (SUBMITTED, None, {"contact": True}), {A.CANCEL, A.SEND_STATUS_LINK, A.MOVE}),
    (SERVICE, (PICKING, ALEX, {"contact": True}), {A.CANCEL, A.SEND_STATUS_LINK}),
    (SERVICE, (READY, ALEX, {"contact": True}), {A.CANCEL, A.RESEND, A.SEND_STATUS_LINK}),
    (SERVICE, (COMPLETED, ALEX, {"contact": True}), {A.SEND_STATUS_LINK}),
    # A store admin: a supervisor who also serves customers.
    (ADMIN, (SUBMITTED, None), {A.CLAIM, A.PAY, A.CANCEL, A.REASSIGN, A.MOVE, A.SET_SUB_STATUS}),
    # The shopper: cancel while nobody picks, say they are here while the order is open.
    (SHOPPER, (SUBMITTED, None), {A.CANCEL, A.CHECK_IN}),
    (SHOPPER, (PICKING, ALEX), {A.CHECK_IN}),
    (SHOPPER, (READY, ALEX), {A.CHECK_IN}),
    (SHOPPER, (COMPLETED, ALEX), set()),
    # A store system (API key): holds what no person holds, works on every order of its store.
    (TILL, (SUBMITTED, None), {A.CLAIM, A.REASSIGN, A.PAY, A.CANCEL, A.SET_SUB_STATUS}),
    (
        TILL,
        (PICKING, None),
        {A.UNCLAIM, A.REASSIGN, A.PICK, A.NOT_FOUND, A.SUBSTITUTE, A.STAGE, A.PAY, A.CANCEL, A.SET_SUB_STATUS},
    ),
    (
        TILL,
        (PICKING, ALEX),
        {
            A.UNCLAIM_FOR_ANYONE,
            A.REASSIGN,
            A.PICK,
            A.NOT_FOUND,
            A.SUBSTITUTE,
            A.STAGE,
            A.PAY,
            A.CANCEL,
            A.SET_SUB_STATUS,
        },
    ),
    (TILL, (READY, ALEX, {"contact": True}), {A.RESTAGE, A.HAND_OFF, A.PAY, A.CANCEL, A.RESEND, A.SET_SUB_STATUS}),
    (TILL, (CANCELLED, None, {"paid": True, "refund_due": True}), {A.REFUND}),
    # A substitute waits for an answer: the shopper, staff, a till or the timers (the store's default) give it.
    (SHOPPER, (PICKING, ALEX, {"substitute": True}), {A.CHECK_IN, A.DECIDE_SUBSTITUTE}),
    (SHOPPER, (SUBMITTED, None, {"substitute": True}), {A.CANCEL, A.CHECK_IN, A.DECIDE_SUBSTITUTE}),
    (ASSOCIATE, (PICKING, ALEX, {"substitute": True}), {A.PAY, A.DECIDE_SUBSTITUTE}),
    (
        TILL,
        (SUBMITTED, None, {"substitute": True}),
        {A.CLAIM, A.REASSIGN, A.PAY, A.CANCEL, A.DECIDE_SUBSTITUTE, A.SET_SUB_STATUS},
    ),
    (SYSTEM, (PICKING, ALEX, {"substitute": True}), {A.CANCEL, A.DECIDE_SUBSTITUTE}),
    (SHOPPER, (CANCELLED, ALEX, {"substitute": True}), set()),
    # The system's timers: only closing.
    (SYSTEM, (SUBMITTED, None), {A.CANCEL}),
    (SYSTEM, (READY, ALEX), {A.CANCEL}),
    (SYSTEM, (COMPLETED, ALEX), set()),
]


@pytest.mark.parametrize(
    ("actor", "state", "expected"),
    TABLE,
    ids=[f"{a.kind}-{a.role or ''}-{s[0]}-{s[1] and s[1].username}-{i}" for i, (a, s, _e) in enumerate(TABLE)],
)
def test_allowed_actions(actor, state, expected):
    """No database here: the answer comes from the order's columns and the actor alone."""
    status, holder, *extras = state
    order = _order(status, holder, **(extras[0] if extras else {}))
    assert allowed_actions(actor, order) == expected


def test_every_action_and_status_is_in_the_table():
    assert {action for _a, _s, expected in TABLE for action in expected} == set(A)
    assert {state[0] for _a, state, _e in TABLE} >= {SUBMITTED, PICKING, READY, COMPLETED, CANCELLED}


@pytest.mark.parametrize(
    ("actor", "state", "action", "error"),
    [
        (ASSOCIATE, (PICKING, ALEX), A.PICK, NotYourOrder),
        (ASSOCIATE, (PICKING, ALEX), A.UNCLAIM_FOR_ANYONE, NotYourOrder),
        (ASSOCIATE, (PICKING, ALEX), A.CANCEL, NotYourOrder),
        (ASSOCIATE, (READY, ALEX), A.CANCEL, ActionNotAllowed),
        (ASSOCIATE, (SUBMITTED, None), A.REASSIGN, ActionNotAllowed),
    ],
)
def test_refusals_say_why(actor, state, action, error):
    order = _order(*state)
    order.assignee = state[1]
    with pytest.raises(error) as refused:
        require(actor, order, action)
    assert refused.value.status in (403, 409)


@pytest.mark.django_db
class TestTheActionsRefuseThemselves:
    """Called directly, not through a view: each action asks the policy."""

    def test_an_associate_cannot_cancel_a_colleagues_order(self):
        store = make_store()
        order = submit_one(store)
        claimed(order, staff(store, "Alex"))
        with pytest.raises(NotYourOrder, match="Alex"):
            actions.cancel_order(order.pk, by=staff(store, "Ben"), reason="mine now")
        order.refresh_from_db()
        assert order.status == OrderStatus.PICKING
        assert actions.cancel_order(order.pk, by=staff(store, "Sam", Role.SUPERVISOR), reason="x").status == (
            OrderStatus.CANCELLED
        )

    def test_nor_one_a_colleague_staged(self):
        store = make_store()
        order = submit_one(store)
        staged(order, staff(store, "Alex"))
        with pytest.raises(ActionNotAllowed):
            actions.cancel_order(order.pk, by=staff(store, "Ben"), reason="x")

    def test_an_associate_cannot_put_back_a_colleagues_order(self):
        store = make_store()
        order = submit_one(store)
        claimed(order, staff(store, "Alex"))
        with pytest.raises(NotYourOrder):
            actions.unclaim_order(order.pk, by=staff(store, "Ben"))
        order.refresh_from_db()
        assert order.status == OrderStatus.PICKING

    def test_hand_off_checks_the_id_where_the_store_requires_it(self):
        store = make_store(require_id_check=True, allow_pay_at_pickup=True)
        order = submit_one(store)
        alex = staff(store, "Alex")
        staged(order, alex)
        with pytest.raises(IdCheckRequired):
            actions.hand_off_order(order.pk, by=alex)
        assert actions.hand_off_order(order.pk, by=alex, id_checked=True).status == OrderStatus.COMPLETED

    def test_only_supervisors_reassign_and_only_to_the_stores_staff(self):
        store = make_store()
        order = submit_one(store)
        ben = make_user(store, name="Ben")
        with pytest.raises(ActionNotAllowed):
            actions.reassign_order(order.pk, to=ben, by=staff(store, "Alex"))
        with pytest.raises(UnknownAssociate):
            actions.reassign_order(order.pk, to=make_user(make_store()), by=staff(store, "Sam", Role.SUPERVISOR))
        assert actions.reassign_order(order.pk, to=ben, by=staff(store, "Sam", Role.SUPERVISOR)).assignee == ben

    def test_staff_of_another_store_cannot_claim(self):
        store = make_store()
        order = submit_one(store)
        stranger = Actor.staff(make_user(make_store()))
        assert allowed_actions(stranger, Order.objects.select_related("store").get(pk=order.pk)) == set()
        with pytest.raises(ActionNotAllowed):
            actions.claim_order(order.pk, by=stranger)
        order.refresh_from_db()
        assert order.status == OrderStatus.SUBMITTED

    def test_the_role_is_looked_up_once_when_the_caller_does_not_know_it(self, django_assert_num_queries):
        store = make_store()
        order = submit_one(store)
        picked(order, staff(store))
        order = Order.objects.select_related("store", "assignee").get(pk=order.pk)
        with django_assert_num_queries(1):
            allowed_actions(Actor.staff(order.assignee), order)


def submit_one(store) -> Order:
    product = make_product(store)
    return submit(make_showcase(store, products=[product]), {product: 1})


@pytest.mark.django_db
def test_the_workspace_hides_cancel_from_an_associate_on_a_colleagues_order():
    store = make_store()
    order = submit_one(store)
    alex = make_user(store, name="Alex")
    claimed(order, Actor.staff(alex))
    ben = make_user(store, name="Ben")
    sam = make_user(store, name="Sam", role=Role.SUPERVISOR)
    assert "Cancel order" in signed_in(alex).get(f"/w/orders/{order.pk}").content.decode()
    assert "Cancel order" not in signed_in(ben).get(f"/w/orders/{order.pk}").content.decode()
    assert "Cancel order" in signed_in(sam).get(f"/w/orders/{order.pk}").content.decode()

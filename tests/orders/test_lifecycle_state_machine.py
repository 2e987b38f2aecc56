"""Random actors doing random things to orders, in random order, never break the lifecycle's invariants.

A hypothesis state machine (RuleBasedStateMachine) drives the domain actions directly, as the pages, the
API and the worker do: the shopper (submit at a showcase, resubmit, cancel, check in), two associates, a
supervisor and an associate of another store (claim, put back, reassign, pick, not found, stage,
hand off with rejections, cancel), the till and a webshop as API keys (claim, look up and pay: part
payments, mark paid, refunds; create and import orders, edit lines), the timers (the clock moves and the
sweeper fires what fell due: escalations, reminders, expiry) and the retailer's stock count (on hand set
by an import). A refusal (a ShelfcallError) is an expected outcome; anything else fails the test.

After every step (tests/orders/lifecycle_replay.py):
- stock: nothing negative, reserved = Σ units the reservations hold, every reservation agrees with its
  journal and with its line, on hand = the last count less what was handed over since;
- the event log replays on its own to each order's status, lines, total, paid and refunded: every
  transition starts where the previous one ended (none is recorded twice, nothing follows a close);
- money: paid - refunded - total = refund due - owed, never more paid than the total nor more refunded
  than paid, each payment row announced by its own event, the payment status the one the sums say now
  (whatever changed the total last: a payment, a line edit, a short pick, a rejection, the close);
- nothing changes an order without an event, and a refusal writes nothing at all;
- the policy (orders/policy.py) is the one answer: an action that changes an order was allowed by
  `allowed_actions` for that actor, and one it allowed is refused only for its input (a wrong quantity,
  pickup code, amount …), never for the status or the actor.

Each example runs inside a savepoint of the test's transaction, rolled back at its end: the store, its
staff and catalogue are made once per test, and every example starts from the same stock and clock.

Profiles (hypothesis settings): `lifecycle-ci`, the default, is derandomized (the same examples on every
run, so CI cannot flake) and keeps to well under a minute per database; `lifecycle-long` explores at
random, far longer, and keeps failing examples in `$SHELFCALL_DATA_DIR/hypothesis` to replay them:

    SHELFCALL_LIFECYCLE_PROFILE=lifecycle-long .venv/bin/python -m pytest tests/orders/test_lifecycle_state_machine.py
"""

import logging
import os
import tempfile
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from shelfcall.catalog.imports import StockRow, upsert_stock
from shelfcall.catalog.models import StockLevel
from shelfcall.core import clock
from shelfcall.core.errors import ShelfcallError
from shelfcall.core.jobs import loop as job_loop
from shelfcall.core.jobs.loop import fire_due_timers
from shelfcall.notify import sweeper
from shelfcall.notify.models import EscalationLevel, EscalationPolicy, QuarantinedTimer
from shelfcall.orders import actions, errors, policy, timers
from shelfcall.orders.actions import CartLine, Rejection, ShopperContact
from shelfcall.orders.events import SHOPPER, Actor
from shelfcall.orders.models import Order, OrderEvent, OrderLine, OrderSource, OrderStatus
from shelfcall.orders.policy import OrderAction
from shelfcall.orders.queries import last_event_id
from shelfcall.stores.models import Role, Store
from tests.factories import (
    make_drop_zone,
    make_product,
    make_showcase,
    make_store,
    make_user,
)
from tests.notify.factories import make_channel, make_collection_policy
from tests.orders.lifecycle_replay import World, problems

pytestmark = pytest.mark.django_db

START = "2026-11-23 09:00:00+00:00"
PROFILE = os.environ.get("SHELFCALL_LIFECYCLE_PROFILE", "lifecycle-ci")
_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large]
settings.register_profile(
    "lifecycle-ci",
    max_examples=50,
    stateful_step_count=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=_QUIET,
)
settings.register_profile(
    "lifecycle-long",
    max_examples=2000,
    stateful_step_count=60,
    deadline=None,
    database=DirectoryBasedExampleDatabase(
        os.path.join(os.environ.get("SHELFCALL_DATA_DIR") or tempfile.gettempdir(), "hypothesis")
    ),
    suppress_health_check=_QUIET,
)

# Refusals of what the actor sent, which the policy cannot foresee: it may allow the action, and the
# action still refuse these. Any other refusal of an action the policy allowed is a disagreement.
INPUT_REFUSALS = (
    errors.QuantityTooLarge,
    errors.LocationRequired,
    errors.UnknownDropZone,
    errors.NotFullyPicked,
    errors.PickupCodeMismatch,
    errors.IdCheckRequired,
    errors.PaymentRequired,
    errors.RejectReasonRequired,
    errors.LineNotInOrder,
    errors.InvalidAmount,
    errors.Overpayment,
    errors.WrongCurrency,
    errors.NothingToRefund,
    errors.CheckInDetailsRequired,
    errors.UnknownAssociate,
    errors.CartProblems,
    # Substitutes: which line, which product, how many; an answer to a line that is none or was answered.
    errors.SubstituteRefused,
    errors.SubstitutesRequired,
    errors.NothingNotFound,
    errors.SubstituteNotAccepted,
    errors.SubstitutesWaiting,
    errors.NotASubstitute,
    errors.SubstituteAlreadyDecided,
)

# Mostly what a careful actor sends, now and then what a careless one does (shrinking goes to the first).
QTY = st.sampled_from([1, 1, 2, 3, 0, 6, -1])
UNITS = st.sampled_from([1, 1, 2, 3, 0])
RARELY = st.integers(0, 7).map(lambda n: n == 7)
LINE = st.sampled_from([0, 0, 0, 1, 2, 4])  # an index into the order's lines; past its last, another order's


def picks(products: int) -> st.SearchStrategy[list[tuple[int, int]]]:
    """Cart lines as (product index, quantity), a product at most once."""
    return st.lists(st.tuples(st.integers(0, products - 1), QTY), min_size=1, max_size=3, unique_by=lambda p: p[0])


STAFF_NAMES = ("ana", "ben", "sam", "olga")  # two associates, a supervisor, an associate of another store
STORE_SIDE = (*STAFF_NAMES, "till")
HOLDER_OR_ANYONE = ("holder", *STORE_SIDE)  # "holder": whoever holds the order (the till if nobody does)
ANYONE = (*STORE_SIDE, "shopper")


class LifecycleWorld:
    """What every example shares, made once per test: a store with two showcases, five products (the
    last on no showcase, for the API), staff, a drop zone, escalation and collection policies."""

    def __init__(self, traveller: Any) -> None:
        self.traveller = traveller
        self.store = make_store(name="Downtown", unclaimed_expiry_minutes=45)
        elsewhere = make_store(organization=self.store.organization, name="Uptown")
        self.products = [
            make_product(self.store, price=price, on_hand=on_hand)
            for price, on_hand in (("20.00", 4), ("7.50", 8), ("0.99", 1), ("120.00", 3), ("3.30", 5))
        ]
        p1, p2, p3, p4, _p5 = self.products
        self.showcases = [
            make_showcase(self.store, products=[p1, p2, p3]),
            make_showcase(self.store, products=[p2, p4]),
        ]
        users = {
            "ana": make_user(self.store, name="Ana"),
            "ben": make_user(self.store, name="Ben"),
            "sam": make_user(self.store, name="Sam", role=Role.SUPERVISOR),
            "olga": make_user(elsewhere, name="Olga"),
        }
        self.users = users
        self.actors: dict[str, Actor] = {
            "ana": Actor.staff(users["ana"], Role.ASSOCIATE),
            "ben": Actor.staff(users["ben"], Role.ASSOCIATE),
            "sam": Actor.staff(users["sam"], Role.SUPERVISOR),
            "olga": Actor.staff(users["olga"]),  # no role given: the policy looks it up (none here)
            "till": Actor.api("till"),
            "shopper": SHOPPER,
        }
        self.webshop = Actor.api("webshop")
        self.desk = make_drop_zone(self.store)
        self.other_desk = make_drop_zone(elsewhere)
        channel = make_channel(self.store, "https://example.invalid/hook", events=[])
        # The store escalates at 5 and 10 minutes; the first showcase's team at 5, then cancels at 20.
        for team, levels in ((None, [(5, False), (10, False)]), (self.showcases[0].team, [(5, False), (20, True)])):
            escalation = EscalationPolicy.objects.create(store=self.store, team=team)
            for after, cancels in levels:
                EscalationLevel.objects.create(
                    policy=escalation, after_minutes=after, channel=channel, cancel_and_release=cancels
                )
        make_collection_policy(self.store, remind=60, expire=240, warn=30)
        self.levels = {level.product_id: level.pk for level in StockLevel.objects.filter(store=self.store)}
        self.initial_on_hand = {level.pk: level.on_hand for level in StockLevel.objects.filter(store=self.store)}


class SweeperErrors(logging.Handler):
    """What the sweeper logs as a bug (it sets such a timer aside and carries on): here, a failure."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class LifecycleMachine(RuleBasedStateMachine):
    orders = Bundle("orders")

    def __init__(self, world: LifecycleWorld, sweeper_errors: SweeperErrors) -> None:
        super().__init__()
        self.world, self.store = world, world.store
        self.sweeper_errors = sweeper_errors
        sweeper_errors.records.clear()
        world.traveller.move_to(START, tick=False)
        self._example = transaction.atomic()
        self._example.__enter__()
        self.submissions: dict[int, tuple[int, list[CartLine], str, str]] = {}
        self.counter = 0
        # level id → the units on hand there should be, and the units handed over by then
        self.on_hand = dict(world.initial_on_hand)
        self.consumed = dict.fromkeys(world.initial_on_hand, 0)
        self.refused: ShelfcallError | None = None
        self.before: tuple[dict[int, Any], Any] | None = None

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._example.__exit__(None, None, None)

    # --- the store's rules for this example ------------------------------------------------------------

    @initialize(pay_at_pickup=st.booleans(), id_check=st.booleans())
    def store_rules(self, pay_at_pickup: bool, id_check: bool) -> None:
        Store.objects.filter(pk=self.store.pk).update(allow_pay_at_pickup=pay_at_pickup, require_id_check=id_check)
        self.store.refresh_from_db()

    @initialize(target=orders, showcase=st.sampled_from([0, 1]), qty=st.sampled_from([1, 2]))
    def first_order(self, showcase: int, qty: int) -> Any:
        """Every example starts with one order waiting (of the showcase's first product, which has stock)."""
        return self.submit_at_showcase(showcase, [(0, qty)], "phone-0", False)

    # --- the shopper -------------------------------------------------------------------------------------

    @rule(
        target=orders,
        showcase=st.sampled_from([0, 1]),
        cart=picks(3),
        device=st.sampled_from(["phone-1", "phone-2"]),
        stale_price=RARELY,
    )
    def submit_at_showcase(self, showcase: int, cart: list[tuple[int, int]], device: str, stale_price: bool) -> Any:
        items = list(self.world.showcases[showcase].items.select_related("product"))
        lines = []
        for index, qty in cart:
            product = items[index % len(items)].product
            lines.append(CartLine(product.pk, qty, product.price + (Decimal("1") if stale_price else 0)))
        self.counter += 1
        key = f"cart-{self.counter}"
        order = self._create(lambda: self._submit(showcase, lines, key, device))
        if order is None:
            return multiple()
        self.submissions[order.pk] = (showcase, lines, key, device)
        return order.pk

    def _submit(self, showcase: int, lines: list[CartLine], key: str, device: str) -> Order:
        """The shopper's phone submits its cart, as the showcase page does."""
        return actions.submit_showcase_order(
            self.world.showcases[showcase],
            lines,
            contact=ShopperContact(name="Kim"),
            submission_key=key,
            device_id=device,
            client_address="10.0.0.7",
        )

    @rule(order=orders)
    def submit_the_same_cart_again(self, order: int) -> None:
        """A double tap: the same submission key from the same phone gives back the order it made."""
        if order not in self.submissions:
            return
        showcase, lines, key, device = self.submissions[order]
        events = OrderEvent.objects.filter(order_id=order).count()
        again = self._submit(showcase, lines, key, device)
        assert again.pk == order
        assert OrderEvent.objects.filter(order_id=order).count() == events

    @rule(order=orders, actor=st.sampled_from(ANYONE))
    def cancel(self, order: int, actor: str) -> None:
        self._attempt(order, actor, OrderAction.CANCEL, lambda by: actions.cancel_order(order, by=by, reason="test"))

    @rule(order=orders, mode=st.sampled_from(["in_store", "curbside", "by_drone"]), note=st.sampled_from(["", "Bay 4"]))
    def check_in(self, order: int, mode: str, note: str) -> None:
        self._attempt(order, "shopper", OrderAction.CHECK_IN, lambda _by: actions.check_in(order, mode=mode, note=note))

    # --- the API: orders from a webshop or a POS, and their lines ----------------------------------------

    @rule(
        target=orders,
        cart=picks(5),
        source=st.sampled_from([OrderSource.ONLINE, OrderSource.POS]),
        external_id=st.sampled_from(["", "W-1", "W-2"]),
        due_in_hours=st.sampled_from([None, 2]),
    )
    def import_order(
        self, cart: list[tuple[int, int]], source: OrderSource, external_id: str, due_in_hours: int | None
    ) -> Any:
        lines = [CartLine(self.world.products[index].pk, qty) for index, qty in cart]
        due_at = clock.now() + timedelta(hours=due_in_hours) if due_in_hours else None
        known = set(Order.objects.filter(store=self.store).values_list("pk", flat=True))

        def create() -> Order:
            created = actions.create_order(
                self.store,
                lines,
                source=source,
                by=self.world.webshop,
                contact=ShopperContact(name="Kim", email="kim@example.com"),
                external_id=external_id,
                due_at=due_at,
            )
            assert created.created == (created.order.pk not in known), "an import again must give back its order"
            return created.order

        order = self._create(create)
        return multiple() if order is None or order.pk in known else order.pk

    @rule(order=orders, product=st.integers(0, 4), qty=QTY, stale=RARELY)
    def add_line(self, order: int, product: int, qty: int, stale: bool) -> None:
        version = last_event_id(order) - stale
        product_id = self.world.products[product].pk
        self._attempt(
            order, "webshop", None, lambda by: actions.add_line(order, product_id, qty, by=by, version=version)
        )

    @rule(order=orders, line=LINE, qty=QTY, stale=RARELY)
    def change_line_qty(self, order: int, line: int, qty: int, stale: bool) -> None:
        version = last_event_id(order) - stale
        line_id = self._line(order, line)
        self._attempt(
            order, "webshop", None, lambda by: actions.change_line_qty(order, line_id, qty, by=by, version=version)
        )

    # --- the store: associates, a supervisor, the till ------------------------------------------------

    @rule(order=orders, actor=st.sampled_from(STORE_SIDE), holder=st.sampled_from([None, "ana", "olga"]))
    def claim(self, order: int, actor: str, holder: str | None) -> None:
        user = self.world.users[holder] if holder else None
        self._attempt(order, actor, OrderAction.CLAIM, lambda by: actions.claim_order(order, by=by, holder=user))

    @rule(order=orders, actor=st.sampled_from(HOLDER_OR_ANYONE))
    def put_back_in_the_queue(self, order: int, actor: str) -> None:
        def which(by: Actor, current: Order) -> OrderAction:
            return OrderAction.UNCLAIM if policy.holds(by, current) else OrderAction.UNCLAIM_FOR_ANYONE

        self._attempt(order, actor, which, lambda by: actions.unclaim_order(order, by=by))

    @rule(order=orders, actor=st.sampled_from(STORE_SIDE), to=st.sampled_from(["ana", "ben", "olga"]))
    def reassign(self, order: int, actor: str, to: str) -> None:
        user = self.world.users[to]
        self._attempt(order, actor, OrderAction.REASSIGN, lambda by: actions.reassign_order(order, to=user, by=by))

    @rule(order=orders, line=LINE, actor=st.sampled_from(HOLDER_OR_ANYONE), qty=UNITS)
    def pick(self, order: int, line: int, actor: str, qty: int) -> None:
        line_id = self._line(order, line)
        self._attempt(order, actor, OrderAction.PICK, lambda by: actions.pick_line(order, line_id, by=by, qty=qty))

    @rule(order=orders, actor=st.sampled_from(HOLDER_OR_ANYONE))
    def pick_everything(self, order: int, actor: str) -> None:
        """What an associate does most: every open unit of every line, line by line."""
        for line in OrderLine.objects.filter(order_id=order).order_by("pk"):
            if line.open_qty:
                self._attempt(
                    order,
                    actor,
                    OrderAction.PICK,
                    lambda by, line=line: actions.pick_line(order, line.pk, by=by, qty=line.open_qty),
                )

    @rule(order=orders, line=LINE, actor=st.sampled_from(HOLDER_OR_ANYONE), qty=UNITS)
    def not_found(self, order: int, line: int, actor: str, qty: int) -> None:
        line_id = self._line(order, line)
        self._attempt(
            order, actor, OrderAction.NOT_FOUND, lambda by: actions.mark_line_not_found(order, line_id, by=by, qty=qty)
        )

    @rule(
        order=orders,
        line=LINE,
        actor=st.sampled_from(HOLDER_OR_ANYONE),
        products=st.lists(st.integers(0, 4), min_size=0, max_size=2),
        qty=UNITS,
        not_found=UNITS,
    )
    def offer_substitutes(
        self, order: int, line: int, actor: str, products: list[int], qty: int, not_found: int
    ) -> None:
        """Units not found (now, or before), and other products offered for them."""
        line_id = self._line(order, line)
        offers = [actions.Offer(self.world.products[index].pk, qty) for index in products]
        self._attempt(
            order,
            actor,
            OrderAction.SUBSTITUTE,
            lambda by: actions.propose_substitutes(order, line_id, by=by, offers=offers, not_found_qty=not_found),
        )

    @rule(order=orders, product=st.integers(0, 4), qty=st.sampled_from([1, 2]))
    def offer_a_substitute_for_the_next_unit(self, order: int, product: int, qty: int) -> None:
        """What an associate does when a unit is missing: claim the order if nobody has, mark the first
        line's next unit not found and offer one product for it."""
        if Order.objects.get(pk=order).status == OrderStatus.SUBMITTED:
            self.claim(order, "ana", None)
            self.nothing_is_broken()  # each step on its own: a refusal of the next must write nothing
        current = Order.objects.get(pk=order)
        line = OrderLine.objects.filter(order_id=order).order_by("pk").first()
        if current.status == OrderStatus.PICKING and line is not None:
            self.offer_substitutes(order, 0, self._holder(current), [product], qty, 1 if line.open_qty else 0)

    @rule(actor=st.sampled_from(("shopper", "shopper", *STORE_SIDE)), accept=st.booleans())
    def answer_a_waiting_substitute(self, actor: str, accept: bool) -> None:
        """The shopper (or someone for them) answers the oldest substitute waiting in the store."""
        waiting = OrderLine.objects.filter(order__store=self.store, substitution="proposed").order_by("pk").first()
        if waiting is not None:
            ids = list(OrderLine.objects.filter(order_id=waiting.order_id).order_by("pk").values_list("pk", flat=True))
            self.answer_substitute(waiting.order_id, ids.index(waiting.pk), actor, accept)

    @rule(order=orders, line=LINE, actor=st.sampled_from(("shopper", "shopper", *STORE_SIDE)), accept=st.booleans())
    def answer_substitute(self, order: int, line: int, actor: str, accept: bool) -> None:
        line_id = self._line(order, line)
        self._attempt(
            order,
            actor,
            OrderAction.DECIDE_SUBSTITUTE,
            lambda by: actions.answer_substitute(order, line_id, accept=accept, by=by),
        )

    @rule(
        order=orders,
        actor=st.sampled_from(HOLDER_OR_ANYONE),
        where=st.sampled_from(["desk", "note", "desk and note", "nowhere", "another store's desk"]),
    )
    def stage(self, order: int, actor: str, where: str) -> None:
        zone = {
            "desk": self.world.desk,
            "desk and note": self.world.desk,
            "another store's desk": self.world.other_desk,
        }
        drop_zone, note = zone.get(where), ("Shelf B" if "note" in where else "")

        def which(_by: Actor, current: Order) -> OrderAction:
            return OrderAction.RESTAGE if current.status == OrderStatus.READY else OrderAction.STAGE

        self._attempt(order, actor, which, lambda by: actions.stage_order(order, by=by, drop_zone=drop_zone, note=note))

    @rule(order=orders, actor=st.sampled_from(STORE_SIDE))
    def resend_ready_message(self, order: int, actor: str) -> None:
        self._attempt(order, actor, OrderAction.RESEND, lambda by: actions.resend_ready_message(order, by=by))

    @rule(
        order=orders,
        actor=st.sampled_from(ANYONE),
        how=st.sampled_from(["owed", "half", "owed", "a cent", "too much", "nothing", "a tenth of a cent"]),
        currency=st.sampled_from([None, "EUR", "USD"]),
    )
    def take_payment(self, order: int, actor: str, how: str, currency: str | None) -> None:
        owed = Order.objects.get(pk=order).owed_amount
        amount = {
            "owed": owed,
            "half": (owed / 2).quantize(Decimal("0.01")),
            "a cent": Decimal("0.01"),
            "too much": owed + Decimal("0.01"),
            "nothing": Decimal("0"),
            "a tenth of a cent": Decimal("0.001"),
        }[how]
        self._attempt(
            order,
            actor,
            OrderAction.PAY,
            lambda by: actions.record_payment(order, amount=amount, method="card", by=by, currency=currency),
        )

    @rule(order=orders, actor=st.sampled_from(ANYONE))
    def mark_paid(self, order: int, actor: str) -> None:
        self._attempt(order, actor, OrderAction.PAY, lambda by: actions.mark_paid(order, by=by, method="cash"))

    @rule(
        order=orders,
        actor=st.sampled_from(("sam", "till", *ANYONE)),
        how=st.sampled_from(["all", "half", "a cent", "too much"]),
    )
    def refund(self, order: int, actor: str, how: str) -> None:
        due = Order.objects.get(pk=order).refund_due_amount
        amount = {
            "all": None,
            "half": (due / 2).quantize(Decimal("0.01")),
            "a cent": Decimal("0.01"),
            "too much": due + Decimal("0.01"),
        }[how]
        self._attempt(order, actor, OrderAction.REFUND, lambda by: actions.refund_order(order, by=by, amount=amount))

    @rule(
        order=orders,
        actor=st.sampled_from(STORE_SIDE),
        code=st.sampled_from(["barcode", "number", "wrong", None]),
        rejections=st.lists(
            st.tuples(st.integers(0, 3), UNITS, st.sampled_from(["damaged", "changed_mind", "bogus"])),
            max_size=2,
        ),
        id_checked=st.booleans(),
    )
    def hand_off(
        self, order: int, actor: str, code: str | None, rejections: list[tuple[int, int, str]], id_checked: bool
    ) -> None:
        current = Order.objects.get(pk=order)
        pickup_code = {"barcode": current.barcode_value, "number": str(current.number), "wrong": "SC1"}.get(code or "")
        turned_down = [Rejection(self._line(order, line), qty, reason) for line, qty, reason in rejections]
        self._attempt(
            order,
            actor,
            OrderAction.HAND_OFF,
            lambda by: actions.hand_off_order(
                order, by=by, pickup_code=pickup_code, rejections=turned_down, id_checked=id_checked
            ),
        )

    @rule(order=orders, pay_first=st.booleans())
    def next_step(self, order: int, pay_first: bool) -> None:
        """Whoever holds the order (the till for an order nobody holds) takes its next step on the way to
        the shopper: claim (or pay first, as a shopper may), pick it all and stage it, take what is owed,
        hand it over."""
        current = Order.objects.get(pk=order)
        holder = self._holder(current)
        match current.status:
            case OrderStatus.SUBMITTED if pay_first and current.owed_amount:
                self.mark_paid(order, "till")
            case OrderStatus.SUBMITTED:
                self.claim(order, "ana", None)
            case OrderStatus.PICKING:
                self.pick_everything(order, holder)
                if not OrderLine.objects.filter(order_id=order, substitution="proposed").exists():
                    self.stage(order, holder, "desk")  # staging waits for the shopper's answers
            case OrderStatus.READY if current.owed_amount:
                self.mark_paid(order, "till")
            case OrderStatus.READY:
                self.hand_off(order, "ana", "barcode", [], True)

    # --- the timers and the retailer's systems ---------------------------------------------------------

    @rule(minutes=st.sampled_from([1, 4, 6, 12, 25, 50, 70, 200, 24 * 60]))
    def time_passes(self, minutes: int) -> None:
        """The clock moves on and the sweeper fires whatever fell due, as the worker's loop does."""
        self.world.traveller.shift(timedelta(minutes=minutes))
        passes = 0
        while fired := fire_due_timers():  # one escalation level per pass: the worker fires again at once
            event(f"timers: a pass fired {min(fired, 3)}{'+' if fired > 3 else ''}")
            passes += 1
            assert passes < 10, "the sweeper keeps firing the same timers"
        assert not self.sweeper_errors.records, [r.getMessage() for r in self.sweeper_errors.records]
        assert not QuarantinedTimer.objects.exists(), list(QuarantinedTimer.objects.values("timer", "error"))

    @rule(product=st.integers(0, 4), on_hand=st.integers(0, 7))
    def stock_count_arrives(self, product: int, on_hand: int) -> None:
        """The ERP sends its count (held units included); a count below what is held is reported oversold."""
        sku, level_id = self.world.products[product].sku, self.world.levels[self.world.products[product].pk]
        reserved = StockLevel.objects.get(pk=level_id).reserved
        result = upsert_stock(
            self.store.organization_id, [(0, StockRow(sku=sku, on_hand=on_hand))], only_store_id=self.store.pk
        )
        assert [level.sku for level in result.oversold] == ([sku] if on_hand < reserved else [])
        self.on_hand[level_id] = on_hand

    # --- after every step ----------------------------------------------------------------------------------

    @invariant()
    def nothing_is_broken(self) -> None:
        world = World.load(self.store.pk)
        for level_id, on_hand in self.on_hand.items():
            # A hand-off takes its units off the shelf; no count falls below nothing (at most one per step).
            handed_over, self.consumed[level_id] = (
                world.consumed(level_id) - self.consumed[level_id],
                world.consumed(level_id),
            )
            self.on_hand[level_id] = max(on_hand - handed_over, 0)
        found = problems(world, self.on_hand)
        now = _fingerprints(world)
        if self.before is not None:
            found += _unrecorded_changes(self.before, now)
            if self.refused is not None and now != self.before:
                found.append(f"the refusal {type(self.refused).__name__} ({self.refused}) wrote something")
        self.before, self.refused = now, None
        assert not found, "\n".join(found)

    # --- helpers -----------------------------------------------------------------------------------------

    def _holder(self, order: Order) -> str:
        return next((name for name, user in self.world.users.items() if user.pk == order.assignee_id), "till")

    def _line(self, order: int, index: int) -> int:
        """One of the order's lines; past its last, a line of another order (LineNotInOrder)."""
        ids = list(OrderLine.objects.filter(order_id=order).order_by("pk").values_list("pk", flat=True))
        if index < len(ids):
            return ids[index]
        return OrderLine.objects.exclude(order_id=order).values_list("pk", flat=True).first() or 0

    def _create(self, create: Callable[[], Order]) -> Order | None:
        try:
            order = create()
        except ShelfcallError as refusal:
            self.refused = refusal
            event(f"create: refused, {type(refusal).__name__}")
            return None
        event("create: done")
        return order

    def _attempt(
        self,
        order_id: int,
        actor_name: str,
        action: OrderAction | Callable[[Actor, Order], OrderAction] | None,
        call: Callable[[Actor], object],
    ) -> None:
        """Call the action as `actor_name`; check it against what the policy said just before."""
        current = Order.objects.select_related("store", "assignee").get(pk=order_id)
        if actor_name == "holder":
            actor_name = self._holder(current)
        by = self.world.webshop if actor_name == "webshop" else self.world.actors[actor_name]
        if callable(action):
            action = action(by, current)
        allowed = action is not None and action in policy.allowed_actions(by, current)
        events = OrderEvent.objects.filter(order_id=order_id).count()
        try:
            call(by)
        except ShelfcallError as refusal:
            self.refused = refusal
            event(f"{action or 'edit'}: refused, {type(refusal).__name__}")
            assert not allowed or isinstance(refusal, INPUT_REFUSALS), (
                f"the policy lets {actor_name} {action} order {current.number} ({current.status}), "
                f"the action refuses: {type(refusal).__name__}: {refusal}"
            )
            return
        changed = OrderEvent.objects.filter(order_id=order_id).count() > events
        event(f"{action or 'edit'}: {'done' if changed else 'no change'}")
        assert action is None or allowed or not changed, (
            f"{actor_name} could {action} order {current.number} ({current.status}), which the policy refuses"
        )


def _fingerprints(world: World) -> tuple[dict[int, Any], Any]:
    """Per order, its row, lines, reservations and payments with its event count; and the stock levels."""
    orders = {
        order["id"]: (
            len(world.events[order["id"]]),
            (
                tuple(order.items()),
                tuple(tuple(line.items()) for line in world.lines[order["id"]]),
                tuple(tuple(world.reservations.get(line["id"], {}).items()) for line in world.lines[order["id"]]),
                tuple(tuple(payment.items()) for payment in world.payments[order["id"]]),
            ),
        )
        for order in world.orders
    }
    return orders, tuple(tuple(level.items()) for level in world.levels)


def _unrecorded_changes(before: tuple[dict[int, Any], Any], now: tuple[dict[int, Any], Any]) -> list[str]:
    """Orders that changed without a new event: nothing is updated in place without one."""
    return [
        f"order {order_id} changed without an event"
        for order_id, (events, state) in now[0].items()
        if order_id in before[0] and before[0][order_id][0] == events and before[0][order_id][1] != state
    ]


def test_random_actors_never_break_the_lifecycle(time_machine):
    time_machine.move_to(START, tick=False)
    world = LifecycleWorld(time_machine)
    errors_logged = SweeperErrors()
    loggers = [logging.getLogger(module.__name__) for module in (sweeper, timers, job_loop)]
    for logger in loggers:
        logger.addHandler(errors_logged)
    try:
        run_state_machine_as_test(
            lambda: LifecycleMachine(world, errors_logged), settings=settings.get_profile(PROFILE)
        )
    finally:
        for logger in loggers:
            logger.removeHandler(errors_logged)

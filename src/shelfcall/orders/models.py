"""Orders, their lines, the stock each line holds, and the append-only log of everything that happened."""

import re
import secrets
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Right
from django.utils.translation import gettext_lazy as _

from shelfcall.catalog.models import Product, Showcase, StockLevel
from shelfcall.core.db import CurrentTransactionId
from shelfcall.core.numbers import parse_number
from shelfcall.stores.models import DropZone, Organization, Store, Team


def new_public_token() -> str:
    """192 bits from the OS's CSPRNG: the shopper's status URL is the only key to their order."""
    return secrets.token_urlsafe(24)


BARCODE_PREFIX = "SC"
# The number column's bound on PostgreSQL (a positive integer): no larger number names an order.
MAX_ORDER_NUMBER = 2**31 - 1
# The prefix in ASCII letters of either case: str.upper() and re.IGNORECASE also take the long s (U+017F) for S.
_ORDER_CODE = re.compile(r"\s*(?:[Ss][Cc])?([0-9]{1,40})\s*")


def read_order_code(text: str) -> int | None:
    """The order number in what someone typed or scanned: the barcode's value (SC1001, any case) or the
    number alone, ASCII digits only; leading zeros are the same number (01001 is 1001, as a till reads it).
    None for anything else, a number no order can have included. Every place a code is typed reads it here."""
    found = _ORDER_CODE.fullmatch(text)
    return parse_number(found[1], minimum=1, maximum=MAX_ORDER_NUMBER) if found else None


class OrderStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Sent")
    PICKING = "picking", _("Being picked")
    READY = "ready", _("Ready")
    COMPLETED = "completed", _("Collected")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


OPEN_STATUSES = (OrderStatus.SUBMITTED, OrderStatus.PICKING, OrderStatus.READY)
CLOSED_STATUSES = (OrderStatus.COMPLETED, OrderStatus.CANCELLED, OrderStatus.EXPIRED)


class PaymentStatus(models.TextChoices):
    UNPAID = "unpaid", _("Unpaid")
    PARTIALLY_PAID = "partially_paid", _("Partially paid")
    PAID = "paid", _("Paid")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
    REFUNDED = "refunded", _("Refunded")


class OrderSource(models.TextChoices):
    SHOWCASE = "showcase", _("Showcase")
    ONLINE = "online", _("Online")
    POS = "pos", _("POS")


class DeliveryMethod(models.TextChoices):
    PICKUP_HERE = "pickup_here", _("Pick up where ordered")
    PICKUP_OTHER_STORE = "pickup_other_store", _("Pick up at another store")


SHOPPER_TEXT_MAX = 200


class SubStatus(models.Model):
    """A step an organization names inside one lifecycle status ("Waiting for engraving" inside picking).

    It refines the lifecycle, never replaces it: an order holds a sub-status only while it stays in
    that status (every status change clears it), and the lifecycle's own rules decide what comes next.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="sub_statuses")
    status = models.CharField(
        _("inside status"),
        max_length=10,
        choices=[(status.value, status.label) for status in OPEN_STATUSES],
        help_text=_("The lifecycle step this sub-status belongs to."),
    )
    code = models.SlugField(_("code"), max_length=40, help_text=_("Stable name for the API and webhooks."))
    name = models.CharField(_("name for staff"), max_length=80)
    shopper_texts = models.JSONField(
        _("text for the shopper"),
        default=dict,
        blank=True,
        help_text=_("By language code; the order's language is shown, else English, else nothing."),
    )
    notify_shopper = models.BooleanField(_("tell the shopper"), default=False)
    entry = models.BooleanField(
        _("may be set first"), default=True, help_text=_("May be set on an order that has no sub-status yet.")
    )
    next_sub_statuses = models.ManyToManyField(
        "self", symmetrical=False, blank=True, related_name="+", verbose_name=_("allowed next")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True, help_text=_("Archive instead of deleting."))

    class Meta:
        verbose_name = _("sub-status")
        verbose_name_plural = _("sub-statuses")
        ordering = ["status", "position", "name"]
        constraints = [models.UniqueConstraint(fields=["organization", "code"], name="sub_status_code_unique")]

    def __str__(self) -> str:
        return f"{self.get_status_display()} › {self.name}"

    def clean(self) -> None:
        languages = {code for code, _name in settings.LANGUAGES}
        texts = self.shopper_texts
        if not isinstance(texts, dict):
            raise ValidationError({"shopper_texts": _('Give the texts by language, e.g. {"en": "Being engraved"}.')})
        for code, text in texts.items():
            if code not in languages:
                message = _("%(code)s is not a language of Shelfcall; use one of %(codes)s.")
                codes = ", ".join(sorted(languages))
                raise ValidationError({"shopper_texts": message % {"code": code, "codes": codes}})
            if not isinstance(text, str) or len(text) > SHOPPER_TEXT_MAX:
                message = _("The %(code)s text must be words of at most %(max)s characters.")
                raise ValidationError({"shopper_texts": message % {"code": code, "max": SHOPPER_TEXT_MAX}})

    def shopper_text(self, language: str) -> str:
        """In the shopper's language ("fr-ca" finds "fr"), else English, else empty: the shopper then sees
        only the lifecycle status."""
        texts = self.shopper_texts or {}
        for code in (language, language.split("-")[0], settings.LANGUAGE_CODE):
            if texts.get(code):
                return str(texts[code])
        return ""


# The order's links that many orders lack: a showcase order has no origin store, most have no team, sub-status
# or (until claimed, staged) holder or drop zone; a till's order no showcase.
OPTIONAL_LINKS = ("origin_store", "team", "showcase", "assignee", "drop_zone", "sub_status")


def _optional_link(to: Any, *, on_delete: Any = models.PROTECT, related_name: str = "+", **more: Any) -> Any:
    """A link of OPTIONAL_LINKS: no index of its own, a partial one in Order.Meta.indexes."""
    return models.ForeignKey(
        to, on_delete=on_delete, null=True, blank=True, related_name=related_name, db_index=False, **more
    )


class Order(models.Model):
    # The store that fills the order: its stock is held, its team picks, the shopper collects there. An order
    # taken at one store for pick-up at another belongs to the pick-up store; `origin_store` says where it
    # was taken (empty: the same store, or no store at all, as for a webshop's order).
    # No index of its own: the unique (store, number) and the queue index both begin with the store.
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="orders", db_index=False)
    origin_store = _optional_link(Store, verbose_name=_("taken at"))
    team = _optional_link(Team, related_name="orders")
    showcase = _optional_link(Showcase)
    source = models.CharField(_("source"), max_length=10, choices=OrderSource.choices)
    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    public_token = models.CharField(max_length=64, default=new_public_token, editable=False)
    number = models.PositiveIntegerField(_("number"))
    submission_key = models.CharField(max_length=64, blank=True, editable=False)
    device_id = models.CharField(max_length=64, blank=True, editable=False)
    # What the store's holding caps count (orders.holdings): a keyed hash of the shopper's network address
    # (never the address itself), and the units the order asked the store to hold.
    client_key = models.CharField(max_length=32, blank=True, editable=False)
    held_units = models.PositiveIntegerField(default=0, editable=False)
    locale = models.CharField(_("language"), max_length=10, default="en")

    shopper_name = models.CharField(_("first name"), max_length=80, blank=True)
    shopper_phone = models.CharField(_("phone"), max_length=32, blank=True)
    shopper_email = models.EmailField(_("email"), blank=True)
    # The phone's digits (and a leading +), how a till recalls the order whatever spacing was typed.
    phone_key = models.CharField(max_length=32, blank=True, editable=False)
    comments = models.TextField(_("comments"), blank=True)

    status = models.CharField(_("status"), max_length=10, choices=OrderStatus.choices, default=OrderStatus.SUBMITTED)
    payment_status = models.CharField(
        _("payment"), max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.UNPAID
    )
    currency = models.CharField(_("currency"), max_length=3)
    total_amount = models.DecimalField(_("total"), max_digits=12, decimal_places=2, default=Decimal("0"))
    # The sums of the order's Payment rows of each kind, kept beside them so a read needs no aggregate.
    paid_amount = models.DecimalField(_("paid"), max_digits=12, decimal_places=2, default=Decimal("0"))
    refunded_amount = models.DecimalField(_("refunded"), max_digits=12, decimal_places=2, default=Decimal("0"))

    assignee = _optional_link(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL)
    drop_zone = _optional_link(DropZone)
    staged_location = models.CharField(_("staged at"), max_length=200, blank=True)
    # Only while the order stays in sub_status.status: every status change clears it (actions/_common.move).
    sub_status = _optional_link(SubStatus, verbose_name=_("sub-status"))
    cancel_reason = models.CharField(_("cancel reason"), max_length=200, blank=True)
    alternate_pickup_name = models.CharField(_("collected by"), max_length=120, blank=True)
    id_checked = models.BooleanField(_("ID checked"), default=False)
    signature_svg = models.TextField(_("signature"), blank=True)

    checked_in_at = models.DateTimeField(_("shopper arrived at"), null=True, blank=True)
    check_in_mode = models.CharField(_("waiting"), max_length=10, blank=True)  # in_store | curbside
    check_in_note = models.CharField(_("parking spot and car"), max_length=200, blank=True)

    # Timers are columns; the sweeper fires the due ones (see notify.sweeper). Their indexes are partial
    # (Meta): most orders have no timer set, and every status change would otherwise write to them.
    next_escalation_at = models.DateTimeField(null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    remind_at = models.DateTimeField(null=True, blank=True)
    reminders_sent = models.PositiveSmallIntegerField(default=0)
    expires_at = models.DateTimeField(null=True, blank=True)
    # The earliest answer due on a substitute the shopper has not answered yet (its line's decide_by).
    substitute_due_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(_("sent at"))
    updated_at = models.DateTimeField()
    due_at = models.DateTimeField(_("due"))
    claimed_at = models.DateTimeField(null=True, blank=True)
    staged_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        # Constraints and indexes rather than unique=/db_index=: on PostgreSQL those would add a second,
        # LIKE-only index to each text column, which no query uses and every insert pays for.
        constraints = [
            models.UniqueConstraint(fields=["public_token"], name="order_public_token_unique"),
            models.UniqueConstraint(fields=["store", "number"], name="order_number_unique"),
            # A submission key is bound to the device that made it: another shopper's key finds nothing.
            models.UniqueConstraint(
                fields=["store", "device_id", "submission_key"],
                condition=~Q(submission_key=""),
                name="order_submission_unique",
            ),
            models.UniqueConstraint(
                fields=["store", "source", "external_id"],
                condition=~Q(external_id=""),
                name="order_external_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["store", "status", "due_at"], name="order_queue_idx"),
            # One queue's waiting requests in its order (promise.py: a status stream's place, the count ahead):
            # a store with many teams has many queues in the index above. Partial: only those waiting.
            models.Index(
                fields=["store", "team", "due_at", "id"],
                condition=Q(status=OrderStatus.SUBMITTED),
                name="order_waiting_queue_idx",
            ),
            # What one phone and one address hold here: partial, so only open orders are scanned.
            *(
                models.Index(
                    fields=["store", client], condition=Q(status__in=OPEN_STATUSES), name=f"order_open_{name}_idx"
                )
                for client, name in (("device_id", "device"), ("client_key", "client"))
            ),
            # Recall at the till by the shopper's phone or email: partial, most showcase orders have neither.
            *(
                models.Index(fields=["store", contact], condition=~Q(**{contact: ""}), name=f"order_{contact}_idx")
                for contact in ("phone_key", "shopper_email")
            ),
            # Head office's lookup by phone, however it was prefixed: the number's last 9 digits (hq/queries.py).
            models.Index(Right("phone_key", 9), condition=~Q(phone_key=""), name="order_phone_tail_idx"),
            *(
                models.Index(fields=[timer], condition=Q(**{f"{timer}__isnull": False}), name=f"order_{timer}_idx")
                for timer in ("next_escalation_at", "remind_at", "expires_at", "substitute_due_at")
            ),
            # An optional link's rows (what deleting the row it names, or a holder's list, looks up): partial,
            # so that an order without it, and each new version of that order's row (every status change
            # writes one into every index it is in), is in no such index.
            *(
                models.Index(fields=[link], condition=Q(**{f"{link}__isnull": False}), name=f"order_{link}_idx")
                for link in OPTIONAL_LINKS
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.number}"

    @property
    def barcode_value(self) -> str:
        """What the status page's barcode encodes; the prefix keeps a till from reading it as a product."""
        return f"{BARCODE_PREFIX}{self.number}"

    def matches_pickup_code(self, code: str) -> bool:
        """A scan gives the barcode value; a person may type only the number."""
        return read_order_code(code) == self.number

    @property
    def current_sub_status(self) -> SubStatus | None:
        """The order's sub-status if it still belongs to the order's status (the actions clear it on a change;
        this guards a row written before that rule). Reads the sub_status relation: select it with the order."""
        sub = self.sub_status
        return sub if sub is not None and sub.status == self.status else None

    @property
    def delivery_method(self) -> DeliveryMethod:
        taken_elsewhere = self.origin_store_id is not None and self.origin_store_id != self.store_id
        return DeliveryMethod.PICKUP_OTHER_STORE if taken_elsewhere else DeliveryMethod.PICKUP_HERE

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def owed_amount(self) -> Decimal:
        """What the shopper still has to pay: the total less what was paid and not refunded."""
        return max(self.total_amount - (self.paid_amount - self.refunded_amount), Decimal("0"))

    @property
    def refund_due_amount(self) -> Decimal:
        return max(self.paid_amount - self.refunded_amount - self.total_amount, Decimal("0"))

    @property
    def payment_status_by_sums(self) -> PaymentStatus:
        """The payment status the total, paid and refunded sums say now: the one rule every writer applies.

        "Paid" means nothing is owed (a refund may be due: the till settles it, then the order reads
        refunded or partially refunded). Money owed again after a refund (a line added) reads partially
        paid while something paid still stands.
        """
        standing = self.paid_amount - self.refunded_amount
        if self.owed_amount:
            return PaymentStatus.PARTIALLY_PAID if standing > 0 else PaymentStatus.UNPAID
        if not self.refunded_amount:
            return PaymentStatus.PAID if self.paid_amount else PaymentStatus.UNPAID
        return PaymentStatus.REFUNDED if not standing else PaymentStatus.PARTIALLY_REFUNDED

    @property
    def is_paid(self) -> bool:
        """Paid means something was paid and nothing is owed now (lines may have been added since)."""
        return self.payment_status != PaymentStatus.UNPAID and not self.owed_amount

    def minutes_waiting(self, now: datetime) -> int:
        """Whole minutes since the order was sent, as escalations and alerts state them."""
        return int((now - self.created_at).total_seconds() // 60)


class Substitution(models.TextChoices):
    """A line offered in place of units not found: the shopper's answer. Lines of the order as sent have none."""

    PROPOSED = "proposed", _("Waiting for the shopper")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    variant = models.CharField(max_length=130, blank=True)
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    requested_qty = models.PositiveIntegerField()
    picked_qty = models.PositiveIntegerField(default=0)
    short_qty = models.PositiveIntegerField(default=0)
    rejected_qty = models.PositiveIntegerField(default=0)
    reject_reason = models.CharField(max_length=120, blank=True)
    # A substitute: the line whose units were not found, the shopper's answer, and until when they may give
    # it. A proposed substitute holds its stock but is no part of the total until accepted; a declined one
    # gives its units back (requested 0, as a voided line).
    substitute_for = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="substitutes", db_index=False
    )
    substitution = models.CharField(max_length=10, choices=Substitution.choices, blank=True, db_default="")
    proposed_qty = models.PositiveIntegerField(default=0, db_default=0)
    decide_by = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [
            models.Index(
                fields=["substitute_for"], condition=Q(substitute_for__isnull=False), name="line_substitute_for_idx"
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(picked_qty__lte=models.F("requested_qty") - models.F("short_qty")),
                name="line_picked_within_requested",
            ),
            models.CheckConstraint(
                condition=Q(rejected_qty__lte=models.F("picked_qty")), name="line_rejected_within_picked"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.requested_qty} × {self.name}"

    @property
    def is_proposed(self) -> bool:
        """A substitute waiting for the shopper's answer: held, but not (yet) part of the order."""
        return self.substitution == Substitution.PROPOSED

    @property
    def wanted_qty(self) -> int:
        """What the shopper still gets: requested, less what was not found or turned down (nothing of a
        substitute not accepted yet)."""
        return 0 if self.is_proposed else self.requested_qty - self.short_qty - self.rejected_qty

    @property
    def open_qty(self) -> int:
        """Units still to pick or mark not found (none on a substitute the shopper has not accepted)."""
        return 0 if self.is_proposed else self.requested_qty - self.short_qty - self.picked_qty

    @property
    def open_units(self) -> range:
        """1 … open_qty, for "how many were not found" choices."""
        return range(1, self.open_qty + 1)

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.wanted_qty


class Reservation(models.Model):
    """The stock one line holds. requested = held + released + consumed, always."""

    line = models.OneToOneField(OrderLine, on_delete=models.CASCADE, related_name="reservation")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="reservations")
    stock_level = models.ForeignKey(StockLevel, on_delete=models.PROTECT, related_name="reservations")
    held_qty = models.PositiveIntegerField()
    released_qty = models.PositiveIntegerField(default=0)
    consumed_qty = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.held_qty} held for {self.line}"


class PaymentKind(models.TextChoices):
    PAYMENT = "payment", _("Payment")
    REFUND = "refund", _("Refund")


class PaymentMethod(models.TextChoices):
    CASH = "cash", _("Cash")
    CARD = "card", _("Card")
    GIFT_CARD = "gift_card", _("Gift card")
    STORE_CREDIT = "store_credit", _("Store credit")
    OTHER = "other", _("Other")


class Payment(models.Model):
    """Money taken for an order or given back: a deposit, a part, the balance, a refund. Append-only."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="payments")
    kind = models.CharField(_("kind"), max_length=10, choices=PaymentKind.choices)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    method = models.CharField(_("method"), max_length=20, choices=PaymentMethod.choices)
    reference = models.CharField(_("reference"), max_length=120, blank=True)
    created_at = models.DateTimeField(_("recorded at"))
    actor_kind = models.CharField(max_length=10)
    actor_label = models.CharField(_("recorded by"), max_length=120, blank=True)
    # The order.paid or order.refunded event announcing it: the feed's and the webhooks' id for it.
    event = models.OneToOneField("OrderEvent", on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        ordering = ["pk"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive")]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} on {self.order_id}"


class OrderEvent(models.Model):
    """Append-only. The pk is the SSE id, the Last-Event-ID replay point and the API cursor."""

    # No index of its own: event_order_idx begins with it.
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events", db_index=False)
    type = models.CharField(max_length=40)
    created_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_kind = models.CharField(max_length=10)
    actor_label = models.CharField(max_length=120, blank=True)
    payload = models.JSONField(default=dict)
    # The writing transaction, set by the INSERT itself (PostgreSQL; NULL on SQLite): the events feed
    # serves events in commit order by it, since ids are taken before commit (api/feed.py).
    xact_id = models.BigIntegerField(null=True, editable=False, db_default=CurrentTransactionId())

    class Meta:
        ordering = ["pk"]
        indexes = [
            models.Index(fields=["order", "id"], name="event_order_idx"),
            models.Index(fields=["xact_id", "id"], name="event_feed_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.type} on {self.order_id}"


class ReservationKind(models.TextChoices):
    HOLD = "hold", _("Held")
    RELEASE = "release", _("Released")
    CONSUME = "consume", _("Consumed")


class ReservationReason(models.TextChoices):
    CREATED = "created", _("Order created")
    LINE_ADDED = "line_added", _("Line added")
    LINE_CHANGED = "line_changed", _("Quantity changed")
    LINE_VOIDED = "line_voided", _("Line voided")
    NOT_FOUND = "not_found", _("Not found on the shelf")
    CANCELLED = "cancelled", _("Order cancelled")
    EXPIRED = "expired", _("Order expired")
    HANDED_OVER = "handed_over", _("Handed over")
    REJECTED = "rejected", _("Turned down at hand-off")
    SUBSTITUTE_PROPOSED = "substitute_proposed", _("Substitute proposed")
    SUBSTITUTE_DECLINED = "substitute_declined", _("Substitute declined")
    MOVED = "moved", _("Moved to another store")


class ReservationEntry(models.Model):
    """The order's stock reservation journal: every hold, release and consumption, append-only.

    Per reservation, held = Σ holds - Σ releases - Σ consumptions, always (orders/reservations.py)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="reservation_entries", db_index=False)
    line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="+")
    stock_level = models.ForeignKey(StockLevel, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=ReservationKind.choices)
    qty = models.PositiveIntegerField()
    reason = models.CharField(max_length=20, choices=ReservationReason.choices)
    created_at = models.DateTimeField()
    actor_kind = models.CharField(max_length=10)
    actor_label = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["order", "id"], name="reservation_entry_order_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.qty} ({self.reason})"

"""Why an order action was refused. Each error says what happened and, where it can, what to do."""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from shelfcall.core.errors import ShelfcallError


class OrderError(ShelfcallError):
    code = "order_error"


class OrderNotFound(OrderError):
    code = "order_not_found"
    status = 404

    def __init__(self) -> None:
        super().__init__(_("This order does not exist."))


class WrongStatus(OrderError):
    """The order moved on (or never got there): the caller's page is stale."""

    code = "wrong_status"
    status = 409

    def __init__(self, number: int, status_label: str, attempted: str) -> None:
        self.number, self.status_label = number, status_label
        super().__init__(
            _("Order %(number)s is %(status)s now, so it can't be %(attempted)s.")
            % {"number": number, "status": status_label, "attempted": attempted}
        )


class OrdersMoved(OrderError):
    """A batch action found some of its orders changed meanwhile; it wrote nothing."""

    code = "orders_moved"
    status = 409

    def __init__(self, count: int) -> None:
        super().__init__(
            _("%(count)s of these orders changed meanwhile; nothing was done. Try again.") % {"count": count}
        )


class AlreadyClaimed(OrderError):
    code = "already_claimed"
    status = 409

    def __init__(self, number: int, holder: str) -> None:
        self.number, self.holder = number, holder
        super().__init__(_("%(holder)s is already picking order %(number)s.") % {"holder": holder, "number": number})


class NotYourOrder(OrderError):
    code = "not_your_order"
    status = 409

    def __init__(self, number: int, holder: str) -> None:
        self.number, self.holder = number, holder
        super().__init__(
            _("%(holder)s is picking order %(number)s; ask a supervisor to reassign it.")
            % {"holder": holder, "number": number}
        )


class ActionNotAllowed(OrderError):
    """The order is in the right state, but this actor may not do this to it (say, only a supervisor may)."""

    code = "action_not_allowed"
    status = 403

    def __init__(self, number: int, attempted: str) -> None:
        super().__init__(
            _("Order %(number)s can't be %(attempted)s by you; ask a supervisor.")
            % {"number": number, "attempted": attempted}
        )


class SubStatusNotAllowed(OrderError):
    """The sub-status is not one the order may take from where it is; the message names those it may."""

    code = "sub_status_not_allowed"
    status = 409
    field = "sub_status"

    def __init__(self, number: int, wanted: str, allowed: list[str]) -> None:
        self.allowed = allowed
        if allowed:
            message = _("Order %(number)s can't go to “%(wanted)s” from here; it may go to: %(allowed)s.") % {
                "number": number,
                "wanted": wanted,
                "allowed": ", ".join(allowed),
            }
        else:
            message = _("Order %(number)s can't go to “%(wanted)s” from here, nor to any other sub-status.") % {
                "number": number,
                "wanted": wanted,
            }
        super().__init__(message)


class UnknownSubStatus(OrderError):
    code = "unknown_sub_status"
    field = "sub_status"

    def __init__(self) -> None:
        super().__init__(_("Choose one of your organization's active sub-statuses."))


class UnknownAssociate(OrderError):
    code = "unknown_associate"
    field = "associate"

    def __init__(self) -> None:
        super().__init__(_("Give the order to someone who works in this store."))


class IdCheckRequired(OrderError):
    code = "id_check_required"
    field = "id_checked"

    def __init__(self) -> None:
        super().__init__(_("This store hands orders over only after checking the shopper's ID. Check it first."))


class LineNotInOrder(OrderError):
    code = "line_not_in_order"
    field = "line"

    def __init__(self) -> None:
        super().__init__(_("That item is not part of this order."))


class CodeNotInOrder(OrderError):
    """A scan (or a typed SKU) that no line of the order has."""

    code = "code_not_in_order"
    field = "code"

    def __init__(self, code: str) -> None:
        super().__init__(_("%(code)s is not in this order. Check the item, or type its SKU.") % {"code": code})


class QuantityTooLarge(OrderError):
    code = "quantity_too_large"
    field = "qty"

    def __init__(self, name: str, left: int) -> None:
        super().__init__(_("Only %(left)s of %(name)s are still open on this order.") % {"left": left, "name": name})


class VersionMismatch(OrderError):
    """Optimistic concurrency: the order changed since the caller read it."""

    code = "version_mismatch"
    status = 409
    field = "version"

    def __init__(self, current: int) -> None:
        self.current = current
        super().__init__(
            _("The order changed since you read it (its version is %(version)s now). Read it again, then retry.")
            % {"version": current}
        )


class LastLine(OrderError):
    code = "last_line"
    status = 409
    field = "qty"

    def __init__(self) -> None:
        super().__init__(_("This is the order's last item: cancel the order instead of voiding it."))


class LocationRequired(OrderError):
    code = "location_required"
    field = "location"

    def __init__(self) -> None:
        super().__init__(_("Choose a drop zone or type where you left the order."))


class UnknownDropZone(OrderError):
    code = "unknown_drop_zone"
    field = "drop_zone"

    def __init__(self) -> None:
        super().__init__(_("That drop zone belongs to another store. Choose one of this store's drop zones."))


class NotFullyPicked(OrderError):
    code = "not_fully_picked"
    status = 409

    def __init__(self, open_units: int) -> None:
        super().__init__(_("%(count)s unit(s) are neither picked nor marked not found yet.") % {"count": open_units})


class NothingNotFound(OrderError):
    """A substitute stands in for units not found: the line has none (and none were marked now)."""

    code = "nothing_not_found"
    status = 409
    field = "not_found"

    def __init__(self, name: str) -> None:
        super().__init__(
            _("No unit of %(name)s is marked not found: mark how many are missing, then offer a substitute.")
            % {"name": name}
        )


class SubstitutesRequired(OrderError):
    code = "substitutes_required"
    field = "substitutes"

    def __init__(self) -> None:
        super().__init__(_("Choose at least one product to offer instead."))


class NotASubstitute(OrderError):
    code = "not_a_substitute"
    field = "line"

    def __init__(self) -> None:
        super().__init__(_("That item is not a substitute waiting for an answer."))


class SubstituteAlreadyDecided(OrderError):
    """The shopper (or the store's default) answered already, the other way."""

    code = "substitute_already_decided"
    status = 409

    def __init__(self, name: str, answer: str) -> None:
        super().__init__(
            _("The substitute %(name)s was already %(answer)s; that answer stands.") % {"name": name, "answer": answer}
        )


class SubstituteNotAccepted(OrderError):
    code = "substitute_not_accepted"
    status = 409
    field = "line"

    def __init__(self, name: str) -> None:
        super().__init__(_("The shopper has not accepted %(name)s yet: pick it once they do.") % {"name": name})


class SubstituteRefused(OrderError):
    """A product that cannot be offered as a substitute as asked; nothing was offered."""

    code = "substitute_refused"

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message, field=field)


class SubstituteOutOfStock(SubstituteRefused):
    """Not enough of it free on the shelf now (it may have sold meanwhile): the shopper is offered nothing."""

    code = "substitute_out_of_stock"
    status = 409


class SubstitutesWaiting(OrderError):
    """Staging waits until the shopper (or the store's default) has answered every substitute."""

    code = "substitutes_waiting"
    status = 409

    def __init__(self, count: int) -> None:
        super().__init__(
            _("%(count)s substitute(s) wait for the shopper's answer; stage the order once they are answered.")
            % {"count": count}
        )


class RejectReasonRequired(OrderError):
    code = "reject_reason_required"
    field = "reason"

    def __init__(self) -> None:
        super().__init__(_("Say why the item was turned down: damaged, wrong item, changed mind or other."))


class PaymentRequired(OrderError):
    code = "payment_required"
    status = 409

    def __init__(self, number: int) -> None:
        super().__init__(
            _("Order %(number)s is not paid yet; this store hands orders over only after payment.") % {"number": number}
        )


class NothingOwed(OrderError):
    code = "nothing_owed"
    status = 422

    def __init__(self, number: int) -> None:
        super().__init__(_("Nothing is owed on order %(number)s: it is paid.") % {"number": number})


class Overpayment(OrderError):
    code = "overpayment"
    status = 422
    field = "amount"

    def __init__(self, owed: str) -> None:
        super().__init__(_("Only %(owed)s is owed on this order; take at most that.") % {"owed": owed})


class InvalidAmount(OrderError):
    code = "invalid_amount"
    status = 422
    field = "amount"

    def __init__(self) -> None:
        super().__init__(_("Give an amount of at least 0.01, with at most two decimal places, e.g. 12.50."))


class WrongCurrency(OrderError):
    code = "wrong_currency"
    status = 422
    field = "currency"

    def __init__(self, currency: str) -> None:
        super().__init__(_("This order is in %(currency)s: send the amount in %(currency)s.") % {"currency": currency})


class NothingToRefund(OrderError):
    code = "nothing_to_refund"
    field = "amount"

    def __init__(self, refundable: str) -> None:
        super().__init__(_("At most %(amount)s can be refunded on this order.") % {"amount": refundable})


class PickupCodeMismatch(OrderError):
    code = "pickup_code_mismatch"
    field = "pickup_code"

    def __init__(self) -> None:
        super().__init__(_("The scanned code does not belong to this order. Scan the shopper's barcode again."))


class CheckInDetailsRequired(OrderError):
    code = "check_in_details_required"
    field = "note"

    def __init__(self) -> None:
        super().__init__(_("Tell us where you parked and what car to look for, e.g. 'Bay 3, red Clio'."))


class ContactMissing(OrderError):
    """A message was asked for by SMS or email, and the order has no phone number (or no email)."""

    code = "contact_missing"
    field = "via"

    def __init__(self, number: int, via: str) -> None:
        what = _("phone number") if via == "sms" else _("email address")
        super().__init__(
            _("Order %(number)s has no %(what)s; send it the other way.") % {"number": number, "what": what}
        )


class ContactRequired(OrderError):
    code = "contact_required"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field=field)


class TooManyOpenOrders(OrderError):
    code = "too_many_open_orders"

    def __init__(self, limit: int) -> None:
        super().__init__(
            _("You already have %(limit)s open requests here. Collect or cancel one before sending another.")
            % {"limit": limit}
        )


class TooManyUnitsHeld(OrderError):
    code = "too_many_units_held"

    def __init__(self, held: int, limit: int) -> None:
        super().__init__(
            _(
                "You already have %(held)s items on hold here, and at most %(limit)s can wait at once. "
                "Collect or cancel a request, or send fewer items."
            )
            % {"held": held, "limit": limit}
        )


class AddressHoldsTooMuch(OrderError):
    """Shoppers on one network (the store's Wi-Fi, or one script) hold as much as the store allows."""

    code = "address_holds_too_much"

    def __init__(self) -> None:
        super().__init__(
            _(
                "Too many items are on hold from your network right now. Ask an associate, "
                "or send your request again in a few minutes."
            )
        )


@dataclass(frozen=True)
class LineProblem:
    """What is wrong with one cart line, in words for the shopper."""

    product_id: int
    code: str  # unavailable | out_of_stock | not_enough | over_line_max | price_changed | bad_quantity
    message: str
    available: int | None = None


class CartProblems(OrderError):
    """Some lines cannot be ordered as they are. Nothing was written; the cart stays as it was."""

    code = "cart_problems"
    field = "lines"

    def __init__(self, problems: list[LineProblem], message: str | None = None) -> None:
        self.problems = problems
        super().__init__(message or _("Some items need your attention before you send the request."))

"""What head office types: the list's filters and the customer-service actions' fields."""

from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from shelfcall.catalog.models import Product
from shelfcall.core.numbers import IdChoiceField, parse_number
from shelfcall.orders.models import OrderSource, OrderStatus
from shelfcall.stores.models import Store, Team

_ANY = [("", pgettext_lazy("filter", "Any"))]


def _choose_from(form: forms.Form, name: str, queryset: QuerySet) -> None:
    cast(forms.ModelChoiceField, form.fields[name]).queryset = queryset


class DateInput(forms.DateInput):
    input_type = "date"


class OrderFilterForm(forms.Form):
    """Every field optional; an invalid one is reported by name and left out of the filter."""

    q = forms.CharField(
        label=_("Number, external id, name, phone or email"), required=False, max_length=100, strip=True
    )
    store = IdChoiceField(label=_("Store"), queryset=Store.objects.none(), required=False)
    status = forms.ChoiceField(label=_("Status"), choices=_ANY + OrderStatus.choices, required=False)
    source = forms.ChoiceField(label=_("Source"), choices=_ANY + OrderSource.choices, required=False)
    team = IdChoiceField(label=_("Team"), queryset=Team.objects.none(), required=False)
    payment = forms.ChoiceField(
        label=_("Payment"),
        choices=[*_ANY, ("paid", _("Paid")), ("unpaid", _("Something owed"))],
        required=False,
    )
    date_from = forms.DateField(label=_("Sent from"), required=False, widget=DateInput)
    date_to = forms.DateField(label=_("Sent until"), required=False, widget=DateInput)
    overdue = forms.BooleanField(label=_("Overdue"), required=False)
    escalated = forms.BooleanField(label=_("Escalated"), required=False)
    refund_due = forms.BooleanField(label=_("Refund due"), required=False)
    product = IdChoiceField(
        queryset=Product.objects.none(), required=False, widget=forms.HiddenInput, label=_("Holding the product")
    )

    def __init__(self, data: Any, *, stores: QuerySet[Store]) -> None:
        super().__init__(data)
        _choose_from(self, "store", stores)
        teams = Team.objects.filter(store__in=stores).select_related("store").order_by("store__name", "name")
        _choose_from(self, "team", teams)
        _choose_from(self, "product", Product.objects.filter(organization__stores__in=stores).distinct())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("Choose a day on or after the first one."))
        return data

    def valid_data(self) -> dict[str, Any]:
        """The filters that validated; the invalid ones are shown as errors instead."""
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if name not in self.errors}


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Why (the shopper is told)"),
        max_length=200,
        strip=True,
        error_messages={"required": _("Give the reason: the shopper reads it.")},
    )


class SendLinkForm(forms.Form):
    via = forms.ChoiceField(label=_("Send the status link by"), choices=[("sms", _("SMS")), ("email", _("Email"))])


class MoveForm(forms.Form):
    to_store = forms.TypedChoiceField(label=_("Move to"), coerce=int, choices=[])

    def __init__(self, data: Any = None, *, stores: list[Store]) -> None:
        super().__init__(data)
        cast(forms.TypedChoiceField, self.fields["to_store"]).choices = [(store.pk, store.name) for store in stores]


class LookupForm(forms.Form):
    phone = forms.CharField(label=_("Phone"), required=False, max_length=40, strip=True)
    email = forms.CharField(label=_("Email"), required=False, max_length=254, strip=True)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.is_bound and not (data.get("phone") or data.get("email")):
            raise forms.ValidationError(_("Type the shopper's phone number or email."))
        return data


class InventoryForm(forms.Form):
    q = forms.CharField(label=_("SKU or product name"), required=False, max_length=100, strip=True)
    store = IdChoiceField(label=_("Store"), queryset=Store.objects.none(), required=False)

    def __init__(self, data: Any, *, stores: QuerySet[Store]) -> None:
        super().__init__(data)
        _choose_from(self, "store", stores)


def _order_id(value: str) -> int:
    number = parse_number(value, minimum=1)
    if number is None:
        raise ValueError(value)
    return number


class BulkForm(forms.Form):
    action = forms.ChoiceField(label=_("With the selected orders"), choices=[])
    order = forms.TypedMultipleChoiceField(
        label=_("Orders"), coerce=_order_id, choices=[], error_messages={"required": _("Select at least one order.")}
    )
    reason = forms.CharField(label=_("Reason (to cancel)"), required=False, max_length=200, strip=True)
    place = forms.CharField(label=_("Drop zone or place (to mark ready)"), required=False, max_length=200, strip=True)
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, data: Any, *, actions: list[tuple[str, Any]]) -> None:
        super().__init__(data)
        cast(forms.ChoiceField, self.fields["action"]).choices = actions
        # Any whole number: the job itself refuses, by name, what the user may not touch.
        cast(forms.TypedMultipleChoiceField, self.fields["order"]).choices = [
            (value, value) for value in (data.getlist("order") if data else [])
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") == "cancel" and not data.get("reason"):
            self.add_error("reason", _("Give the reason: the shoppers read it."))
        if data.get("action") == "mark_ready" and not data.get("place"):
            self.add_error("place", _("Name the drop zone or the place where the orders wait."))
        return data

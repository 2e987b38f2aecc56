"""Parsing of the workspace's small forms: each names the field and the fix when input is wrong."""

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from shelfcall.core.errors import ShelfcallError
from shelfcall.core.numbers import MAX_NUMBER, DecimalNumberField, IdChoiceField, WholeNumberField
from shelfcall.core.people import display_name
from shelfcall.orders.actions import REJECT_REASONS, Rejection
from shelfcall.orders.models import OrderLine
from shelfcall.orders.queries import SubstituteCandidate
from shelfcall.stores.models import DropZone, Membership, Store


class ScanForm(forms.Form):
    code = forms.CharField(label=_("Scan or type the barcode or SKU"), max_length=64)


class LineQuantityForm(forms.Form):
    line = WholeNumberField(min_value=1)
    qty = WholeNumberField(label=_("Quantity"), min_value=1, max_value=999, initial=1)


class StageForm(forms.Form):
    drop_zone = IdChoiceField(
        label=_("Drop zone"),
        queryset=DropZone.objects.none(),
        required=False,
        widget=forms.RadioSelect,
        empty_label=None,
    )
    note = forms.CharField(label=_("Where exactly (slot, shelf), or another place"), max_length=120, required=False)

    def __init__(self, *args: Any, store: Store, drop_zones: Sequence[DropZone] | None = None, **kwargs: Any) -> None:
        """`drop_zones`: the store's active ones as the page already read them, to show without reading them again."""
        super().__init__(*args, **kwargs)
        drop_zone = cast(forms.ModelChoiceField, self.fields["drop_zone"])
        drop_zone.queryset = DropZone.objects.filter(store=store, active=True).order_by("name")
        if drop_zones is not None:
            drop_zone.choices = [(zone.pk, drop_zone.label_from_instance(zone)) for zone in drop_zones]


class SubStatusForm(forms.Form):
    # Empty clears it; which ids may be chosen is the action's to say (it names the allowed ones).
    sub_status = WholeNumberField(label=_("Sub-status"), min_value=1, required=False)


class PaymentForm(forms.Form):
    reference = forms.CharField(label=_("Payment reference (optional)"), max_length=120, required=False)


class RefundForm(PaymentForm):
    # What the supervisor saw and handed back; empty settles all that is due when the refund commits.
    amount = DecimalNumberField(
        label=_("Amount refunded"),
        min_value=Decimal("0.01"),
        max_digits=12,
        decimal_places=2,
        required=False,
        widget=forms.HiddenInput,
    )


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Why is it cancelled?"), max_length=200)


class _StaffMemberField(IdChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return display_name(obj)


class ReassignForm(forms.Form):
    to = _StaffMemberField(label=_("Give this order to"), queryset=get_user_model().objects.none())

    def __init__(self, *args: Any, store: Store, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        staff_ids = Membership.objects.filter(store=store).values("user_id")
        cast(IdChoiceField, self.fields["to"]).queryset = (
            get_user_model().objects.filter(pk__in=staff_ids, is_active=True).order_by("first_name", "username")
        )


_SIGNATURE_PATH = re.compile(r"^[ML0-9 .,-]{0,20000}$")
# A line id as it is written: ASCII digits without a leading zero (reject_07 would name line 7 a second way).
_REJECT_KEY = re.compile(r"reject_([1-9][0-9]{0,17})")


class HandOffForm(forms.Form):
    pickup_code = forms.CharField(label=_("Scan the shopper's barcode or type the order number"), max_length=32)
    collected_by = forms.CharField(label=_("Collected by someone else? Their name"), max_length=120, required=False)
    id_checked = forms.BooleanField(label=_("I checked their ID"), required=False)
    signature = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, lines: Sequence[OrderLine], require_id: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["id_checked"].required = require_id
        self._add_line_fields({line.pk: line.picked_qty for line in lines})

    @classmethod
    def reviewed(cls, data: Mapping[str, Any], *, require_id: bool) -> "HandOffForm":
        """The answers the review showed, sent back to confirm, read without the order's lines: the hand-off
        checks every line it names under its lock, by the review's own rules (orders.actions.check_hand_off)."""
        form = cls(data, lines=(), require_id=require_id)
        line_ids = (int(found[1]) for key in data if (found := _REJECT_KEY.fullmatch(key)))
        form._add_line_fields(dict.fromkeys(line_ids, MAX_NUMBER))
        return form

    def _add_line_fields(self, most: Mapping[int, int]) -> None:
        """A turned-down count and its reason for each line id, up to `most` units of it."""
        self._line_ids = list(most)
        for line_id, limit in most.items():
            self.fields[f"reject_{line_id}"] = WholeNumberField(
                label=_("Turned down"), min_value=0, max_value=limit, initial=0, required=False
            )
            self.fields[f"reason_{line_id}"] = forms.ChoiceField(
                label=_("Why"), choices=[("", "—"), *REJECT_REASONS.items()], required=False
            )

    def clean_signature(self) -> str:
        path = self.cleaned_data["signature"].strip()
        if not _SIGNATURE_PATH.match(path):
            raise forms.ValidationError(_("The signature could not be read; clear it and sign again."))
        return path

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        for line_id in self._line_ids:
            if data.get(f"reject_{line_id}") and not data.get(f"reason_{line_id}"):
                self.add_error(f"reason_{line_id}", _("Choose why this item was turned down."))
        return data

    def rejections(self) -> list[Rejection]:
        return [
            Rejection(line_id, self.cleaned_data[f"reject_{line_id}"], self.cleaned_data[f"reason_{line_id}"])
            for line_id in self._line_ids
            if self.cleaned_data.get(f"reject_{line_id}")
        ]

    def signature_svg(self) -> str:
        path = self.cleaned_data.get("signature", "")
        if not path:
            return ""
        return (
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 600 200">'
            f'<path d="{path}" fill="none" stroke="#000" stroke-width="3"/></svg>'
        )


def valid_data(form: forms.Form) -> dict:
    """The form's cleaned data, or a ShelfcallError naming the first field in error and the fix."""
    if not form.is_valid():
        field, errors = next(iter(form.errors.items()))
        label = form.fields[field].label if field in form.fields else ""
        raise ShelfcallError(f"{label}: {errors[0]}" if label else str(errors[0]), field=field)
    return form.cleaned_data


class SubstituteForm(forms.Form):
    """Units not found and one product offered for them: a product of the showcases, or any by its SKU."""

    not_found = forms.TypedChoiceField(label=_("Units not found now"), coerce=int, choices=[(0, "0")])
    product = forms.TypedChoiceField(
        label=_("Offer instead"), coerce=int, required=False, widget=forms.RadioSelect, choices=[]
    )
    sku = forms.CharField(label=_("…or any product in stock, by its SKU"), max_length=64, required=False)
    qty = WholeNumberField(label=_("Units offered"), min_value=1, max_value=999, initial=1)

    def __init__(self, *args: Any, line: OrderLine, candidates: Sequence[SubstituteCandidate], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        not_found = cast(forms.TypedChoiceField, self.fields["not_found"])
        not_found.choices = [(n, str(n)) for n in range(0 if line.short_qty else 1, line.open_qty + 1)]
        not_found.initial = line.open_qty if not line.short_qty else 0
        product = cast(forms.TypedChoiceField, self.fields["product"])
        product.choices = [(c.product.pk, c.product.name) for c in candidates]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if bool(data.get("product")) == bool(data.get("sku")):
            raise forms.ValidationError(_("Choose one product to offer, or type one SKU."))
        return data


class SubstituteAnswerForm(forms.Form):
    """The shopper's answer, given at the desk or on the phone."""

    line = WholeNumberField(min_value=1)
    answer = forms.ChoiceField(choices=[("accept", _("Accept")), ("decline", _("Decline"))])

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from shelfcall.core.numbers import WholeNumberField
from shelfcall.orders.actions import ShopperContact
from shelfcall.stores.models import Store

_PHONE = re.compile(r"^\+?[0-9 ()./-]{6,24}$")


class ContactForm(forms.Form):
    name = forms.CharField(
        label=_("First name"),
        max_length=80,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel", "type": "tel"}),
        help_text=_("For a text message when your order is ready."),
    )
    email = forms.EmailField(
        label=_("Email"),
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def __init__(self, *args: Any, store: Store, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.store = store
        self.fields["name"].required = store.require_shopper_name

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        if phone and not _PHONE.match(phone):
            raise ValidationError(_("Enter a phone number with digits only, e.g. +33 6 12 34 56 78."))
        return phone

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if self.store.require_shopper_contact and not (data.get("phone") or data.get("email")):
            self.add_error("phone", _("Please enter a phone number or an email address."))
        return data

    def contact(self) -> ShopperContact:
        return ShopperContact(
            name=self.cleaned_data["name"], phone=self.cleaned_data["phone"], email=self.cleaned_data["email"]
        )


class QuantityForm(forms.Form):
    qty = WholeNumberField(label=_("Quantity"), min_value=1)

    def __init__(self, *args: Any, max_qty: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_qty = max_qty

    def clean_qty(self) -> int:
        qty = self.cleaned_data["qty"]
        if qty > self.max_qty:
            raise ValidationError(_("You can request at most %(max)s of this item.") % {"max": self.max_qty})
        return qty

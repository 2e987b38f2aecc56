"""A shared store device: people swap in and out with a PIN instead of a full sign-in."""

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.hashers import check_password, make_password
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shelfcall.core import throttle
from shelfcall.core.clients import address_key
from shelfcall.core.numbers import parse_number
from shelfcall.stores import policy
from shelfcall.stores.models import Membership, StaffPin
from shelfcall.workspace.views.access import choose_store, staff_view

PIN_FIELD = forms.RegexField(
    regex=r"^\d{4,8}$",
    label=gettext_lazy("PIN"),
    error_messages={"invalid": gettext_lazy("Use 4 to 8 digits.")},
    widget=forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
)


class SetPinForm(forms.Form):
    pin = PIN_FIELD
    again = forms.CharField(
        label=gettext_lazy("The same PIN again"), widget=forms.PasswordInput(attrs={"inputmode": "numeric"})
    )

    def clean(self) -> dict:
        data = super().clean()
        if data.get("pin") and data.get("pin") != data.get("again"):
            self.add_error("again", _("The two PINs differ. Type the same PIN twice."))
        return data


@staff_view()
def my_pin(request: HttpRequest) -> HttpResponse:
    form = SetPinForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        StaffPin.objects.update_or_create(
            user=request.user, defaults={"pin_hash": make_password(form.cleaned_data["pin"])}
        )
        messages.success(request, _("Your PIN is set. Use it to switch to yourself on a shared device."))
        return redirect("workspace:queue")
    return render(request, "workspace/pin.html", {"form": form})


WRONG_PINS = throttle.Rate("workspace.switch", 10, 300)


def _wrong_pins(request: HttpRequest, *, count_this_one: bool) -> bool:
    """Ten wrong PINs from one network in five minutes pause switching; right ones never count."""
    if count_this_one:
        throttle.count_failure(WRONG_PINS, address_key(request))
    return throttle.is_over(WRONG_PINS, address_key(request))


@staff_view()
def switch_user(request: HttpRequest) -> HttpResponse:
    store = request.store
    staff_ids = Membership.objects.filter(store=store).values("user_id")
    people = (
        get_user_model()
        .objects.filter(pk__in=staff_ids, is_active=True, staff_pin__isnull=False)
        .exclude(pk=request.user.pk)
        .order_by("first_name", "username")
    )
    if request.method == "POST":
        if _wrong_pins(request, count_this_one=False):
            messages.error(request, _("Too many wrong PINs. Wait five minutes, or sign in with your password."))
            return redirect("workspace:switch")
        user_id = request.POST.get("user", "")
        person = people.filter(pk=parse_number(user_id)).select_related("staff_pin").first()  # None: no one
        pin = request.POST.get("pin", "")
        if person is None or not check_password(pin, person.staff_pin.pin_hash) or not policy.role_in(person, store):
            _wrong_pins(request, count_this_one=True)
            messages.error(request, _("That PIN is not right. Try again."))
            return redirect("workspace:switch")
        login(request, person, backend="django.contrib.auth.backends.ModelBackend")
        choose_store(request, store)
        messages.success(request, _("Hello %(name)s!") % {"name": person.get_short_name() or person.get_username()})
        return redirect("workspace:queue")
    return render(request, "workspace/switch.html", {"people": people})

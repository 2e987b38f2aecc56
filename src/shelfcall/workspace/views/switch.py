"""A shared store device: people swap in and out with a PIN instead of a full sign-in.

A PIN session works the queue with its person's roles and no more: the admin and changing a password
or a PIN need the password (policy.holds_full_sign_in). PINs have at least six digits; shorter ones,
set before that rule, are refused at use rather than deleted (a hash does not tell how long its PIN
was), and their owners are asked to set a new one."""

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth import authenticate, get_user_model, login
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from shelfcall.core.numbers import IdChoiceField
from shelfcall.core.people import display_name
from shelfcall.core.throttle import Throttled
from shelfcall.notify import devices as device_actions
from shelfcall.stores import policy, signin
from shelfcall.stores.models import Membership, StaffPin
from shelfcall.workspace.views.access import WorkspaceRequest, choose_store, staff_view


def _secret_input() -> forms.PasswordInput:
    return forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "off", "pattern": signin.PIN_PATTERN})


class SetPinForm(forms.Form):
    current = forms.CharField(
        label=gettext_lazy("Your password or your current PIN"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    pin = forms.RegexField(
        regex=rf"\A{signin.PIN_PATTERN}\Z",
        label=gettext_lazy("New PIN"),
        error_messages={"invalid": signin.PIN_RULE},
        widget=_secret_input(),
    )
    again = forms.CharField(label=gettext_lazy("The same PIN again"), widget=_secret_input())

    def __init__(self, request: WorkspaceRequest, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request

    def clean_pin(self) -> str:
        pin = self.cleaned_data["pin"]
        if signin.is_guessable_pin(pin):
            raise forms.ValidationError(_("Pick a PIN that is not one digit repeated or a run like 123456."))
        return pin

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("pin") and data.get("pin") != data.get("again"):
            self.add_error("again", _("The two PINs differ. Type the same PIN twice."))
        if not self.errors:
            self._confirm_current(data["current"])
        return data

    def _confirm_current(self, secret: str) -> None:
        """Someone at a device left signed in must not be able to set a PIN and switch in later as its owner."""
        try:
            confirmed = signin.confirm_secret(self.request, self.request.user, secret)
        except Throttled as refusal:
            self.add_error("current", signin.sign_in_paused_message(refusal))
            return
        if not confirmed:
            self.add_error("current", _("That is neither your password nor your current PIN."))


@staff_view()
def my_pin(request: WorkspaceRequest) -> HttpResponse:
    if not policy.holds_full_sign_in(request):
        messages.error(
            request, _("You switched in with a PIN. To change your PIN, sign out and sign in with your password.")
        )
        return redirect("workspace:queue")
    form = SetPinForm(request, request.POST or None)
    if request.method == "POST" and form.is_valid():
        StaffPin.objects.update_or_create(
            user=request.user, defaults={"pin_hash": make_password(form.cleaned_data["pin"])}
        )
        messages.success(request, _("Your PIN is set. Use it to switch to yourself on a shared device."))
        return redirect("workspace:queue")
    return render(request, "workspace/pin.html", {"form": form})


class SwitchForm(forms.Form):
    user = IdChoiceField(queryset=get_user_model().objects.none())
    pin = forms.CharField()
    # The device's own alert subscription, if it has one (filled by alerts.js): moved to the new person.
    device_endpoint = forms.CharField(required=False, max_length=1000)
    device_auth = forms.CharField(required=False, max_length=40)

    def __init__(self, people: QuerySet[User], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(IdChoiceField, self.fields["user"]).queryset = people


def _people_to_switch_to(request: WorkspaceRequest) -> QuerySet:
    staff_ids = Membership.objects.filter(store=request.store).values("user_id")
    return (
        get_user_model()
        .objects.filter(pk__in=staff_ids, is_active=True, staff_pin__isnull=False)
        .exclude(pk=request.user.pk)
        .order_by("first_name", "username")
    )


def _pins_paused_message(refusal: Throttled) -> str:
    minutes = signin.minutes_to_wait(refusal)
    return ngettext(
        "Too many wrong PINs. Try again in %(minutes)d minute, or sign in with your password.",
        "Too many wrong PINs. Try again in %(minutes)d minutes, or sign in with your password.",
        minutes,
    ) % {"minutes": minutes}


def _person_for(request: HttpRequest, form: SwitchForm) -> User | None:
    """The person whose PIN this is, or None after telling why not."""
    if not form.is_valid():
        messages.error(request, _("That PIN is not right. Try again."))
        return None
    pin = form.cleaned_data["pin"]
    if not signin.is_pin(pin):
        old = _("PINs have 6 to 12 digits now. Sign in with your password and set a new one under “My PIN”.")
        messages.error(request, old if signin.is_short_pin(pin) else signin.PIN_RULE)
        return None
    try:
        person = authenticate(request, staff=form.cleaned_data["user"], pin_secret=pin)
    except Throttled as refusal:
        messages.error(request, _pins_paused_message(refusal))
        return None
    if person is None:
        messages.error(request, _("That PIN is not right. Try again."))
    return person


@staff_view()
def switch_user(request: WorkspaceRequest) -> HttpResponse:
    people = _people_to_switch_to(request)
    if request.method != "POST":
        return render(request, "workspace/switch.html", {"people": people, "pin_pattern": signin.PIN_PATTERN})
    store = request.store
    form = SwitchForm(people, request.POST)
    person = _person_for(request, form)
    if person is None:
        return redirect("workspace:switch")
    login(request, person)  # by the PIN backend, which the session records: see signin.signed_in_with_pin
    device_actions.hand_over(
        endpoint=form.cleaned_data["device_endpoint"], auth=form.cleaned_data["device_auth"], to=person
    )
    choose_store(request, store)
    messages.success(request, _("Hello %(name)s!") % {"name": display_name(person)})
    return redirect("workspace:queue")

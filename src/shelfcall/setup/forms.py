"""The setup pages' forms: each error names the field and the fix; saving goes through setup.actions."""

import zoneinfo
from datetime import time
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet, inlineformset_factory
from django.utils.translation import gettext_lazy as _

from shelfcall.catalog.models import Product, Showcase
from shelfcall.core.numbers import IdChoiceField, IdMultipleChoiceField, NumbersModelForm, WholeNumberField
from shelfcall.notify.admin import EscalationLevelFormSet
from shelfcall.notify.models import Channel, CollectionPolicy, EscalationLevel, EscalationPolicy
from shelfcall.stores import signin
from shelfcall.stores.models import DropZone, OpeningPeriod, Role, Store, Team

# Shopper texts each store may give in the other languages of the site (English is the default field).
SHOPPER_TEXT_FIELDS = ("help_text", "pickup_instructions")
PERIODS_PER_DAY = 2  # rows shown per day (a lunch break splits a day in two); more if a day has more


def other_languages() -> list[tuple[str, str]]:
    return [(code, str(name)) for code, name in settings.LANGUAGES if code != "en"]


class TeamChoiceField(IdChoiceField):
    """One of the store's teams, named as the store's people call it (without the store's name)."""

    def label_from_instance(self, obj: Team) -> str:
        return obj.name


class StoreForm(NumbersModelForm):
    timezone = forms.ChoiceField(label=_("time zone"))

    class Meta(NumbersModelForm.Meta):
        model = Store
        fields = [
            "name",
            "slug",
            "timezone",
            "currency",
            "language",
            "address",
            "latitude",
            "longitude",
            "brand_colour",
            "opening_hours",
            "help_text",
            "pickup_instructions",
        ]
        widgets = {
            "brand_colour": forms.TextInput(attrs={"type": "color"}),
            "address": forms.Textarea(attrs={"rows": 3}),
            "opening_hours": forms.TextInput(),
            "help_text": forms.Textarea(attrs={"rows": 2}),
            "pickup_instructions": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["timezone"]).choices = [
            (name, name) for name in sorted(zoneinfo.available_timezones())
        ]
        # Left out (a script posting the other fields), the store keeps its language.
        self.fields["language"].required = False
        texts = self.instance.shopper_texts or {}
        for code, language in other_languages():
            for field in SHOPPER_TEXT_FIELDS:
                self.fields[f"{field}_{code}"] = forms.CharField(
                    label=f"{self.fields[field].label} ({language})",
                    required=False,
                    widget=forms.Textarea(attrs={"rows": 2}),
                    initial=texts.get(code, {}).get(field, ""),
                )

    def clean_language(self) -> str:
        return self.cleaned_data.get("language") or self.instance.language or settings.LANGUAGE_CODE

    def language_fields(self) -> list[forms.BoundField]:
        return [self[f"{field}_{code}"] for code, _name in other_languages() for field in SHOPPER_TEXT_FIELDS]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        self.instance.shopper_texts = {
            code: texts
            for code, _name in other_languages()
            if (texts := {f: data[f"{f}_{code}"] for f in SHOPPER_TEXT_FIELDS if data.get(f"{f}_{code}")})
        }
        return data


class NewStoreForm(StoreForm):
    organization = IdChoiceField(label=_("organization"), queryset=Store.objects.none(), empty_label=None)

    class Meta(StoreForm.Meta):
        fields = ["organization", *StoreForm.Meta.fields]

    def __init__(self, *args: Any, organizations: QuerySet, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(IdChoiceField, self.fields["organization"]).queryset = organizations


class OpeningHoursForm(forms.Form):
    """Each day of the week with up to two periods; an empty day is closed."""

    def __init__(self, *args: Any, store: Store, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current: dict[tuple[int, int], OpeningPeriod] = {}
        for row in store.opening_periods.all():
            slot = sum(1 for day, _n in current if day == row.weekday)
            current[(row.weekday, slot)] = row
        self.slots = max([PERIODS_PER_DAY, *(slot + 1 for _day, slot in current)])
        for day, label in OpeningPeriod.Weekday.choices:
            for slot in range(self.slots):
                period = current.get((day, slot))
                for end, says in (("opens", _("%(day)s, opens")), ("closes", _("%(day)s, closes"))):
                    self.fields[f"d{day}_{slot}_{end}"] = forms.TimeField(
                        label=says % {"day": label},
                        required=False,
                        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
                        initial=getattr(period, end) if period else None,
                    )

    def days(self) -> list[tuple[str, list[tuple[forms.BoundField, forms.BoundField]]]]:
        return [
            (
                str(label),
                [(self[f"d{day}_{slot}_opens"], self[f"d{day}_{slot}_closes"]) for slot in range(self.slots)],
            )
            for day, label in OpeningPeriod.Weekday.choices
        ]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        for day, label in OpeningPeriod.Weekday.choices:
            opened: list[time] = []
            for slot in range(self.slots):
                opens, closes = data.get(f"d{day}_{slot}_opens"), data.get(f"d{day}_{slot}_closes")
                if (opens is None) != (closes is None):
                    missing = f"d{day}_{slot}_{'closes' if closes is None else 'opens'}"
                    self.add_error(
                        missing, _("%(day)s: give both the opening and the closing time, or neither.") % {"day": label}
                    )
                elif opens is not None:
                    if opens in opened:
                        self.add_error(
                            f"d{day}_{slot}_opens", _("%(day)s: two periods open at the same time.") % {"day": label}
                        )
                    opened.append(opens)
        return data

    def periods(self) -> list[tuple[int, time, time]]:
        """(weekday, opens, closes) of every period filled in."""
        data = self.cleaned_data
        return [
            (day, data[f"d{day}_{slot}_opens"], data[f"d{day}_{slot}_closes"])
            for day in OpeningPeriod.Weekday.values
            for slot in range(self.slots)
            if data.get(f"d{day}_{slot}_opens") is not None
        ]


class StoreSettingsForm(NumbersModelForm):
    class Meta(NumbersModelForm.Meta):
        model = Store
        fields = [
            "require_shopper_name",
            "require_shopper_contact",
            "max_line_qty",
            "max_order_qty",
            "max_open_orders_per_device",
            "max_units_per_device",
            "max_units_per_address",
            "low_stock_threshold",
            "allow_pay_at_pickup",
            "require_id_check",
            "unclaimed_expiry_minutes",
            "pick_target_minutes",
        ]


class CollectionPolicyForm(NumbersModelForm):
    class Meta(NumbersModelForm.Meta):
        model = CollectionPolicy
        fields = ["remind_after_minutes", "warn_before_minutes", "expire_after_minutes"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        expire, warn, remind = (
            data.get(f) for f in ("expire_after_minutes", "warn_before_minutes", "remind_after_minutes")
        )
        if expire is not None and warn is not None and warn >= expire:
            self.add_error(
                "warn_before_minutes", _("Warn before the expiry: fewer minutes than %(expire)s.") % {"expire": expire}
            )
        if expire is not None and remind is not None and remind >= expire:
            self.add_error(
                "remind_after_minutes",
                _("Remind before the expiry: fewer minutes than %(expire)s.") % {"expire": expire},
            )
        return data


class EscalationLevelForm(NumbersModelForm):
    channel = IdChoiceField(label=_("tell"), queryset=Channel.objects.none())

    class Meta(NumbersModelForm.Meta):
        model = EscalationLevel
        fields = ["after_minutes", "channel", "cancel_and_release"]


def escalation_levels(store: Store, data: Any = None) -> BaseInlineFormSet:
    """The store's default escalation (nobody started picking): its levels, and room for two more."""
    policy = EscalationPolicy.objects.filter(store=store, team=None, watch=EscalationPolicy.Watch.UNCLAIMED).first()
    formset_class = inlineformset_factory(
        EscalationPolicy, EscalationLevel, form=EscalationLevelForm, formset=EscalationLevelFormSet, extra=2
    )
    formset = formset_class(data, instance=policy or EscalationPolicy(store=store), prefix="levels")
    for form in formset.forms:
        cast(IdChoiceField, form.fields["channel"]).queryset = store.channels.filter(active=True).order_by("name")
    return formset


class TeamForm(NumbersModelForm):
    class Meta(NumbersModelForm.Meta):
        model = Team
        fields = ["name"]


class DropZoneForm(NumbersModelForm):
    slots = WholeNumberField(
        label=_("slots"),
        min_value=1,
        max_value=200,
        initial=1,
        required=False,
        help_text=_("Lockers and cages: one drop zone per slot is made, numbered after the name."),
    )

    class Meta(NumbersModelForm.Meta):
        model = DropZone
        fields = ["name", "kind", "directions", "active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            del self.fields["slots"]  # a saved zone is one slot already


class ShowcaseForm(NumbersModelForm):
    team = TeamChoiceField(label=_("team it routes to"), queryset=Team.objects.none(), empty_label=None)

    class Meta(NumbersModelForm.Meta):
        model = Showcase
        fields = ["name", "team", "location_hint", "active"]

    def __init__(self, *args: Any, store: Store, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(IdChoiceField, self.fields["team"]).queryset = store.teams.order_by("name")


class ShowcaseProductsForm(forms.Form):
    """The showcase's products, one SKU a line, in the order shoppers see them."""

    skus = forms.CharField(
        label=_("products, one SKU a line, in order"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "autocapitalize": "characters", "spellcheck": "false"}),
    )

    def __init__(self, *args: Any, store: Store, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.store = store

    def clean_skus(self) -> list[Product]:
        skus = [line.strip() for line in self.cleaned_data["skus"].splitlines() if line.strip()]
        found = {p.sku: p for p in Product.objects.filter(organization=self.store.organization_id, sku__in=skus)}
        unknown = [sku for sku in skus if sku not in found]
        if unknown:
            raise forms.ValidationError(
                _("No product has the SKU %(skus)s: import it first, or correct the line.")
                % {"skus": ", ".join(unknown)}
            )
        doubled = sorted({sku for sku in skus if skus.count(sku) > 1})
        if doubled:
            raise forms.ValidationError(_("%(skus)s is listed twice: keep one line.") % {"skus": ", ".join(doubled)})
        return [found[sku] for sku in skus]


def products_form(store: Store, showcase: Showcase, data: Any = None) -> ShowcaseProductsForm:
    """The showcase's products as its form shows them: the active ones' SKUs, in order."""
    skus = showcase.items.filter(active=True).order_by("position", "pk").values_list("product__sku", flat=True)
    return ShowcaseProductsForm(data, store=store, initial={"skus": "\n".join(skus)})


class ChannelForm(NumbersModelForm):
    team = TeamChoiceField(label=_("team"), queryset=Team.objects.none(), required=False, empty_label=_("every team"))

    class Meta(NumbersModelForm.Meta):
        model = Channel
        fields = ["name", "kind", "target", "team", "events", "active"]

    def __init__(self, *args: Any, store: Store, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.store = store
        cast(IdChoiceField, self.fields["team"]).queryset = store.teams.order_by("name")


class StaffForm(forms.Form):
    """A new person: invited by email (they choose their password) or given a one-time password here."""

    INVITE, CREATE = "invite", "create"
    first_name = forms.CharField(label=_("first name"), max_length=150)
    email = forms.EmailField(label=_("email"), required=False)
    username = forms.CharField(
        label=_("username"), max_length=150, required=False, help_text=_("Empty: the email address.")
    )
    how = forms.ChoiceField(
        label=_("how they sign in"),
        choices=[(INVITE, _("Email them an invitation")), (CREATE, _("Give them a one-time password now"))],
        widget=forms.RadioSelect,
        initial=INVITE,
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        username = data.get("username") or data.get("email") or ""
        if data.get("how") == self.INVITE and not data.get("email"):
            self.add_error("email", _("An invitation needs an email address."))
        elif not username:
            self.add_error("username", _("Give a username or an email address."))
        elif get_user_model().objects.filter(username__iexact=username).exists():
            self.add_error("username", _("%(name)s is taken: choose another username.") % {"name": username})
        data["username"] = username
        return data


class TeamChoicesField(IdMultipleChoiceField):
    def label_from_instance(self, obj: Team) -> str:
        return obj.name


class MembershipForm(forms.Form):
    role = forms.ChoiceField(label=_("role"))
    teams = TeamChoicesField(
        label=_("teams"),
        queryset=Team.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None: they see the orders of every team."),
    )

    def __init__(self, *args: Any, store: Store, roles: list[Role], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["role"]).choices = [(role.value, role.label) for role in roles]
        cast(forms.ModelMultipleChoiceField, self.fields["teams"]).queryset = store.teams.order_by("name")


class NewStaffForm(StaffForm, MembershipForm):
    pass


class PinForm(forms.Form):
    pin = forms.CharField(
        label=_("new PIN (6 to 12 digits)"),
        widget=forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "new-password"}),
    )

    def clean_pin(self) -> str:
        pin = self.cleaned_data["pin"]
        if not signin.is_pin(pin):
            raise forms.ValidationError(signin.PIN_RULE)
        if signin.is_guessable_pin(pin):
            raise forms.ValidationError(_("That PIN is the first anyone would try: choose a less regular one."))
        return pin


class LogoForm(forms.Form):
    logo = forms.FileField(label=_("logo (PNG, JPEG or WebP)"))

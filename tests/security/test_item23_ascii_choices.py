"""Item 23: Django reads a row's id or a number with int(), which takes any script's digits (٣ is 3) and
Decimal() too: every form field of a number or a row chosen by id is one of core/numbers.py's, which read
ASCII digits only, bounded, so a forged value in another script is an invalid choice or number."""

import importlib
import pkgutil
from decimal import Decimal

import pytest
from django import forms
from django.core.exceptions import ValidationError

import shelfcall
from shelfcall.core.numbers import DecimalNumberField, IdChoiceField, IdMultipleChoiceField, WholeNumberField
from shelfcall.hq.forms import OrderFilterForm
from shelfcall.setup.forms import DropZoneForm, MembershipForm, StoreForm, StoreSettingsForm
from shelfcall.stores.models import Role, Store, Team
from shelfcall.workspace.forms import RefundForm
from tests.factories import make_store

_ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def _forms_users_post() -> list[type[forms.BaseForm]]:
    """Every form class of shelfcall but the admin's (Django's own pages, for superusers and staff)."""
    for module in pkgutil.walk_packages(shelfcall.__path__, "shelfcall."):
        if not module.name.endswith("admin") and ".migrations" not in module.name and ".live" not in module.name:
            importlib.import_module(module.name)

    def subclasses(cls: type) -> list[type]:
        return [each for sub in cls.__subclasses__() for each in (sub, *subclasses(sub))]

    return sorted(
        {cls for cls in subclasses(forms.BaseForm) if cls.__module__.startswith("shelfcall.")}
        - {cls for cls in subclasses(forms.BaseForm) if cls.__module__.endswith("admin")},
        key=lambda cls: cls.__qualname__,
    )


# Django's field → the one that reads it like every other number here.
_READ_OWN_WAY = [
    (forms.ModelMultipleChoiceField, IdMultipleChoiceField),
    (forms.ModelChoiceField, IdChoiceField),
    (forms.DecimalField, DecimalNumberField),
    (forms.IntegerField, WholeNumberField),
    (forms.FloatField, type(None)),  # no floats from outside at all
]


def test_every_number_and_choice_of_a_row_is_read_as_ascii_digits():
    found = _forms_users_post()
    assert len(found) > 20
    wrong = []
    for form in found:
        for name, field in form.base_fields.items():
            django_field = next((django for django, ours in _READ_OWN_WAY if isinstance(field, django)), None)
            if django_field is not None and not isinstance(field, dict(_READ_OWN_WAY)[django_field]):
                wrong.append(f"{form.__module__}.{form.__qualname__}.{name}: {type(field).__name__}")
    assert wrong == []


def _ids(store: Store) -> tuple[str, str]:
    return str(store.pk).translate(_ARABIC_INDIC), str(store.pk).translate(_FULLWIDTH)


@pytest.mark.django_db
def test_a_row_chosen_in_another_script_is_an_invalid_choice():
    store = make_store()
    stores = Store.objects.filter(pk=store.pk)
    assert OrderFilterForm({"store": str(store.pk)}, stores=stores).valid_data()["store"] == store
    for forged in _ids(store):
        form = OrderFilterForm({"store": forged}, stores=stores)
        assert "store" in form.errors and "store" not in form.valid_data()


@pytest.mark.django_db
def test_rows_chosen_in_another_script_are_invalid_choices():
    store = make_store()
    team = Team.objects.create(store=store, name="Tools")
    roles = [Role.ASSOCIATE]
    valid = MembershipForm({"role": Role.ASSOCIATE, "teams": [str(team.pk)]}, store=store, roles=roles)
    assert valid.is_valid() and list(valid.cleaned_data["teams"]) == [team]
    for forged in [str(team.pk).translate(_ARABIC_INDIC), str(team.pk).translate(_FULLWIDTH), "9" * 30, "-1"]:
        form = MembershipForm({"role": Role.ASSOCIATE, "teams": [forged]}, store=store, roles=roles)
        assert not form.is_valid() and "teams" in form.errors, forged


@pytest.mark.parametrize("value", ["٣", "３", "1_000", "9" * 5000])
def test_the_id_fields_refuse_odd_ids(value):
    with pytest.raises(ValidationError):
        IdMultipleChoiceField(queryset=Team.objects.none()).clean([value])


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["٣", "３", "9" * 5000, "1e3"])
def test_the_numbers_of_model_forms_are_read_as_ascii_digits(value):
    store = make_store()
    settings_form = StoreSettingsForm({"max_line_qty": value}, instance=store)
    assert not settings_form.is_valid() and "max_line_qty" in settings_form.errors
    drop_zones = DropZoneForm({"name": "Locker", "kind": "locker", "slots": value})
    assert "slots" in drop_zones.errors


@pytest.mark.parametrize("value", ["٣.٥", "３.5", "1e3", "1_000", "NaN", "Infinity", "1e999999"])
def test_decimals_are_read_as_ascii_digits(value):
    assert "latitude" in StoreForm({"latitude": value}).errors
    assert "amount" in RefundForm({"amount": value, "method": "cash"}).errors


def test_decimals_as_people_write_them():
    field = DecimalNumberField(max_digits=9, decimal_places=6, required=False)
    assert [field.clean(value) for value in ["48.85", "-2.35", " .5 ", "3.", "", "+1"]] == [
        Decimal("48.85"),
        Decimal("-2.35"),
        Decimal("0.5"),
        Decimal("3"),
        None,
        Decimal("1"),
    ]

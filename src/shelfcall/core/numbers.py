"""Whole numbers typed, scanned or put in a URL by anyone: read in one place, the same way everywhere.

`str.isdigit()` accepts `²` and `①`, which `int()` then rejects (a 500), and `int()` accepts `٣` and
fullwidth digits, which nobody means at a till; a 20-digit number overflows SQLite's 64-bit integers. So a number
from outside is ASCII digits only, and never larger than the largest id a database column holds."""

import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Model, QuerySet
from django.utils.translation import gettext_lazy as _

# The largest value of a signed 64-bit column (a BigAutoField id): nothing larger can match a row.
MAX_NUMBER = 2**63 - 1
# Longer than any bound we check against, short enough that int() stays cheap.
_DIGITS = re.compile(r"[0-9]{1,40}")
# A decimal as people write one here: a sign, ASCII digits, a point (no exponent, no "_", no other script).
_DECIMAL = re.compile(r"[+-]?(?:[0-9]{1,40}(?:\.[0-9]{0,40})?|\.[0-9]{1,40})")


def _read_digits(text: str) -> int | None:
    text = text.strip()
    return int(text) if _DIGITS.fullmatch(text) else None


def parse_number(text: str, *, minimum: int = 0, maximum: int = MAX_NUMBER) -> int | None:
    """The whole number written in `text` (ASCII digits, spaces around allowed), or None when `text`
    is anything else or the number falls outside minimum..maximum."""
    number = _read_digits(text)
    return number if number is not None and minimum <= number <= maximum else None


class WholeNumberField(forms.IntegerField):
    """An IntegerField that reads ASCII digits only and is bounded by default, so that no value it
    lets through can overflow a column; out-of-range values get Django's min/max messages."""

    default_error_messages = {"invalid": _("Enter a whole number using the digits 0 to 9.")}

    def __init__(self, *, min_value: int = 0, max_value: int = MAX_NUMBER, **kwargs: Any) -> None:
        super().__init__(min_value=min_value, max_value=max_value, **kwargs)

    def to_python(self, value: object) -> int | None:
        if value in self.empty_values:
            return None
        number = _read_digits(str(value))
        if number is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return number


class IdChoiceField(forms.ModelChoiceField):
    """A choice of a row by its id, read like every other number: `٣` is not a way to write 3."""

    def to_python(self, value: object) -> Model | None:
        if value in self.empty_values:
            return None
        number = parse_number(str(value), minimum=1)
        if number is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(number)


class IdMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Rows chosen by their ids (checkboxes), each id read like every other number."""

    def _check_values(self, value: Iterable[Any]) -> QuerySet:
        ids = []
        for each in value:
            number = parse_number(str(each), minimum=1)
            if number is None:
                raise ValidationError(
                    self.error_messages["invalid_choice"], code="invalid_choice", params={"value": each}
                )
            ids.append(number)
        return super()._check_values(ids)  # type: ignore[misc]  # Django's, untyped in its stubs


class DecimalNumberField(forms.DecimalField):
    """A DecimalField of ASCII digits and a point: Decimal() also reads Arabic-Indic digits, "1_000" and "1e3"."""

    default_error_messages = {"invalid": _("Enter a number using the digits 0 to 9, with a point before decimals.")}

    def to_python(self, value: object) -> Decimal | None:  # type: ignore[override]  # the stubs say int
        if isinstance(value, str) and value.strip() and not _DECIMAL.fullmatch(value.strip()):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


def number_formfield(db_field: models.Field, **kwargs: Any) -> forms.Field | None:
    """A ModelForm's field for a model field (Meta.formfield_callback): numbers and rows chosen by id are
    read by the fields above. A field with choices keeps its choice field, whatever form_class says."""
    if isinstance(db_field, models.ManyToManyField):
        kwargs.setdefault("form_class", IdMultipleChoiceField)
    elif isinstance(db_field, models.ForeignKey):
        kwargs.setdefault("form_class", IdChoiceField)
    elif isinstance(db_field, models.DecimalField):
        kwargs.setdefault("form_class", DecimalNumberField)
    elif isinstance(db_field, models.IntegerField) and not isinstance(db_field, models.AutoField):
        kwargs.setdefault("form_class", WholeNumberField)
    return db_field.formfield(**kwargs)


class NumbersModelForm(forms.ModelForm):
    """The base of every ModelForm users post to: its numbers and choices of rows read ASCII digits only.
    A subclass's Meta inherits this one's (class Meta(NumbersModelForm.Meta)), or loses the callback."""

    class Meta:
        formfield_callback = number_formfield


class IdConverter:
    """`<id:…>` in URL patterns: ASCII digits of an id that can exist; anything else is a 404."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = parse_number(value, minimum=1)
        if number is None:
            raise ValueError(value)  # the pattern does not match: Django answers 404
        return number

    def to_url(self, value: int) -> str:
        return str(value)

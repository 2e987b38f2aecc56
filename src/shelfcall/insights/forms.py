"""The insights page's choices: which stores, which local days."""

from datetime import date, timedelta
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from shelfcall.insights.figures import Period
from shelfcall.stores.models import Store

DEFAULT_DAYS = 28
MAX_DAYS = 366


class PeriodForm(forms.Form):
    store = forms.TypedChoiceField(label=_("Store"), required=False, coerce=int, empty_value=None)
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To (included)"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, data: QueryDict, *, stores: list[Store], today: date) -> None:
        """Days left out are the last DEFAULT_DAYS up to `today` (or to the end given), shown as chosen."""
        filled = data.copy()
        if not filled.get("end"):
            filled["end"] = today.isoformat()
        if not filled.get("start"):
            try:
                end = date.fromisoformat(str(filled.get("end")))
            except ValueError:
                end = today  # the end's own error is shown
            filled["start"] = (end - timedelta(days=DEFAULT_DAYS - 1)).isoformat()
        super().__init__(filled)
        self.stores, self.query = stores, filled.urlencode()
        everything = [("", _("All my stores"))] if len(stores) > 1 else []
        self.fields["store"].choices = everything + [(store.pk, store.name) for store in stores]  # type: ignore[attr-defined]
        self.fields["start"].widget.attrs["max"] = self.fields["end"].widget.attrs["max"] = today.isoformat()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start is None or end is None:
            return data
        if end < start:
            self.add_error("end", _("Choose an end on or after the start (%(start)s).") % {"start": start.isoformat()})
        elif (end - start).days + 1 > MAX_DAYS:
            self.add_error(
                "start",
                _("Choose at most %(days)s days; start on %(first)s or later.")
                % {"days": MAX_DAYS, "first": (end - timedelta(days=MAX_DAYS - 1)).isoformat()},
            )
        data["period"] = Period(start, end)
        return data

    def chosen_stores(self) -> list[Store]:
        chosen = self.cleaned_data.get("store")
        if chosen is None and len(self.stores) == 1:
            return self.stores
        return [store for store in self.stores if chosen is None or store.pk == chosen]

    @property
    def period(self) -> Period:
        return self.cleaned_data["period"]

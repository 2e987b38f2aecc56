"""The parts of a store listed and edited the same way: teams, drop zones, showcases and alert channels.

Each section is a list with an "add" form, an edit page and a delete button; what differs (how a new row
is saved, what else its edit page offers) is said by its `Section`.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Model, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from shelfcall.catalog.models import Showcase
from shelfcall.notify.models import Channel
from shelfcall.setup import actions
from shelfcall.setup.access import SetupRequest, store_view
from shelfcall.setup.forms import ChannelForm, DropZoneForm, ShowcaseForm, TeamForm, products_form
from shelfcall.stores.models import DropZone, Store, Team


def _save(form: forms.ModelForm, store: Store) -> None:
    form.instance.store = store
    form.save()


def _save_zones(form: forms.ModelForm, store: Store) -> None:
    form.instance.store = store
    actions.add_drop_zones(form.instance, form.cleaned_data.get("slots") or 1)


@dataclass(frozen=True)
class Section:
    name: str  # its URL names: setup:<name>, setup:<name>_edit, setup:<name>_delete
    title: Promise
    add_label: Promise
    form: type[forms.ModelForm]
    rows: Callable[[Store], QuerySet]
    takes_store: bool = False  # the form needs the store (its choices are the store's teams)
    save_new: Callable[[forms.ModelForm, Store], None] = _save
    extra: str = ""  # a template included on the edit page, e.g. the showcase's products

    def make_form(self, store: Store, *args: Any, **kwargs: Any) -> forms.ModelForm:
        form: Any = self.form  # the store-bound forms take `store=` besides a ModelForm's arguments
        return form(*args, store=store, **kwargs) if self.takes_store else form(*args, **kwargs)

    def get(self, store: Store, row_id: int) -> Model:
        row = self.rows(store).filter(pk=row_id).first()
        if row is None:
            raise Http404("no such row in this store")
        return row


SECTIONS = {
    section.name: section
    for section in [
        Section(
            "teams",
            gettext_lazy("Teams"),
            gettext_lazy("Add a team"),
            TeamForm,
            lambda store: Team.objects.filter(store=store).order_by("name"),
        ),
        Section(
            "drop_zones",
            gettext_lazy("Drop zones"),
            gettext_lazy("Add a drop zone"),
            DropZoneForm,
            lambda store: DropZone.objects.filter(store=store).order_by("-active", "name"),
            save_new=_save_zones,
        ),
        Section(
            "showcases",
            gettext_lazy("Showcases"),
            gettext_lazy("Add a showcase"),
            ShowcaseForm,
            lambda store: Showcase.objects.filter(store=store).select_related("team").order_by("-active", "name"),
            takes_store=True,
            extra="setup/_showcase_products.html",
        ),
        Section(
            "channels",
            gettext_lazy("Alert channels"),
            gettext_lazy("Add an alert channel"),
            ChannelForm,
            lambda store: Channel.objects.filter(store=store).select_related("team").order_by("-active", "name"),
            takes_store=True,
            extra="setup/_channel_test.html",
        ),
    ]
}


def _section(name: str) -> Section:
    return SECTIONS[name]


@store_view
def section_list(request: SetupRequest, section: str) -> HttpResponse:
    part = _section(section)
    form = part.make_form(request.store, request.POST or None)
    if request.method == "POST" and form.is_valid():
        part.save_new(form, request.store)
        messages.success(request, _("Saved."))
        return redirect(f"setup:{part.name}", request.store.pk)
    context = {"section": part, "rows": part.rows(request.store), "form": form, "active": part.name}
    return render(request, "setup/section_list.html", context, status=400 if form.errors else 200)


@store_view
def section_edit(request: SetupRequest, section: str, row_id: int) -> HttpResponse:
    part = _section(section)
    row = part.get(request.store, row_id)
    form = part.make_form(request.store, request.POST or None, instance=row)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Saved."))
        return redirect(f"setup:{part.name}", request.store.pk)
    context = {"section": part, "row": row, "form": form, "active": part.name, **extra_context(request, row)}
    return render(request, "setup/section_edit.html", context, status=400 if form.errors else 200)


def extra_context(request: SetupRequest, row: Model) -> dict[str, Any]:
    """What the edit page's extra part shows (the showcase's products), and what deleting it deletes too."""
    if isinstance(row, Team):
        return {"deleted_with": actions.deleted_with(row)}
    if isinstance(row, Showcase):
        return {"products_form": products_form(request.store, row)}
    if isinstance(row, Channel):
        return {"tests": row.messages.filter(purpose="test").order_by("-pk")[:3]}
    return {}


@require_POST
@store_view
def section_delete(request: SetupRequest, section: str, row_id: int) -> HttpResponse:
    part = _section(section)
    row = part.get(request.store, row_id)
    if request.POST.get("archive") and any(f.name == "active" for f in row._meta.fields):
        actions.archive(row)
        messages.success(request, _("%(name)s is archived.") % {"name": row})
        return redirect(f"setup:{part.name}", request.store.pk)
    if (going := actions.deleted_with(row)) and not request.POST.get("confirm"):
        messages.error(
            request,
            _("Deleting %(name)s also deletes its alert channels: %(channels)s. Tick the box to confirm.")
            % {"name": row, "channels": ", ".join(going)},
        )
        return redirect(reverse(f"setup:{part.name}_edit", args=[request.store.pk, row_id]) + "#remove")
    refusal = actions.delete_unless_used(row)
    if refusal is None:
        messages.success(request, _("%(name)s is deleted.") % {"name": row})
        return redirect(f"setup:{part.name}", request.store.pk)
    messages.error(request, refusal.reason)
    return redirect(reverse(f"setup:{part.name}_edit", args=[request.store.pk, row_id]) + "#remove")

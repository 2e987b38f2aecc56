"""The setup home (stores and their checklists), the roles table, and a store's own pages."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from shelfcall.notify.models import CollectionPolicy
from shelfcall.setup import actions, checklist
from shelfcall.setup.access import SetupRequest, admin_view, store_view
from shelfcall.setup.forms import (
    CollectionPolicyForm,
    LogoForm,
    NewStoreForm,
    OpeningHoursForm,
    StoreForm,
    StoreSettingsForm,
    escalation_levels,
)
from shelfcall.setup.logo import MAX_LOGO_BYTES, RefusedLogo, check_logo
from shelfcall.setup.models import StoreLogo
from shelfcall.stores import policy


@admin_view
def home(request: SetupRequest) -> HttpResponse:
    stores = checklist.with_checklist(
        policy.administered_stores(request.user).select_related("organization").order_by("name")
    )
    rows = [(store, checklist.steps(store)) for store in stores]
    if len(rows) == 1:
        return redirect("setup:store", rows[0][0].pk)
    return render(request, "setup/home.html", {"rows": rows})


@admin_view
def roles(request: SetupRequest) -> HttpResponse:
    """What each role may do, read from the policy module itself."""
    grants = policy.role_grants()
    perms = list(policy.Perm)
    table = [(role, [perm in granted for perm in perms]) for role, granted in grants.items()]
    labels = _perm_labels()
    return render(request, "setup/roles.html", {"columns": [labels[perm] for perm in perms], "table": table})


def _perm_labels() -> dict[policy.Perm, str]:
    """How the roles table names each permission; one added elsewhere shows with its own name."""
    known = {
        policy.Perm.WORK_ORDERS: _("Work orders: queue, claim, pick, stage, take payment, hand off, cancel"),
        policy.Perm.SUPERVISE: _("Supervise: reassign, put back someone else's order, settle refunds"),
        policy.Perm.ADMINISTER: _("Administer: store settings, staff, channels, these setup pages"),
    }
    return {perm: known.get(perm, perm.value.replace("_", " ").capitalize()) for perm in policy.Perm}


@admin_view
def store_new(request: SetupRequest) -> HttpResponse:
    organizations = policy.administered_organizations(request.user).order_by("name")
    if not request.org_admin:
        raise PermissionDenied
    form = NewStoreForm(request.POST or None, organizations=organizations)
    if request.method == "POST" and form.is_valid():
        store = form.save()
        messages.success(request, _("%(name)s is created. Now follow its checklist.") % {"name": store.name})
        return redirect("setup:store", store.pk)
    return render(request, "setup/store_new.html", {"form": form}, status=400 if form.errors else 200)


@store_view
def store(request: SetupRequest) -> HttpResponse:
    here = checklist.with_checklist(policy.administered_stores(request.user).filter(pk=request.store.pk)).get()
    steps = checklist.steps(here)
    context = {"steps": steps, "remaining": sum(not step.done for step in steps), "active": "store"}
    return render(request, "setup/store.html", context)


@store_view
def store_edit(request: SetupRequest) -> HttpResponse:
    posted = request.POST if request.method == "POST" else None
    form = StoreForm(posted, instance=request.store)
    hours = OpeningHoursForm(posted, store=request.store)
    if posted is not None and form.is_valid() and hours.is_valid():
        with transaction.atomic():
            form.save()
            actions.save_opening_hours(request.store, hours.periods())
        messages.success(request, _("Saved."))
        return redirect("setup:store", request.store.pk)
    context = {
        "form": form,
        "hours": hours,
        "logo_form": LogoForm(),
        "max_logo_kb": MAX_LOGO_BYTES // 1024,
        "active": "store_edit",
    }
    return render(request, "setup/store_edit.html", context, status=400 if posted is not None else 200)


@store_view
def store_settings(request: SetupRequest) -> HttpResponse:
    posted = request.POST if request.method == "POST" else None
    form = StoreSettingsForm(posted, instance=request.store)
    collection = CollectionPolicy.objects.filter(store=request.store).first() or CollectionPolicy(store=request.store)
    collection_form = CollectionPolicyForm(posted, instance=collection, prefix="collection")
    levels = escalation_levels(request.store, posted)
    if posted is not None and all([form.is_valid(), collection_form.is_valid(), levels.is_valid()]):
        with transaction.atomic():
            form.save()
            collection_form.save()
            actions.save_escalation(levels)
        messages.success(request, _("Saved."))
        return redirect("setup:store", request.store.pk)
    context = {"form": form, "collection_form": collection_form, "levels": levels, "active": "store_settings"}
    return render(request, "setup/store_settings.html", context, status=400 if posted is not None else 200)


@require_POST
@store_view
def store_logo(request: SetupRequest) -> HttpResponse:
    if request.POST.get("remove"):
        actions.remove_logo(request.store)
        messages.success(request, _("The logo is removed."))
        return redirect("setup:store_edit", request.store.pk)
    form = LogoForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose a logo file to upload."))
        return redirect("setup:store_edit", request.store.pk)
    try:
        logo = check_logo(form.cleaned_data["logo"])
    except RefusedLogo as refused:
        messages.error(request, str(refused))
        return redirect("setup:store_edit", request.store.pk)
    actions.save_logo(request.store, logo)
    messages.success(request, _("The logo is saved."))
    return redirect("setup:store_edit", request.store.pk)


@require_POST
@store_view
def store_delete(request: SetupRequest) -> HttpResponse:
    if not request.org_admin:
        raise PermissionDenied
    refusal = actions.delete_unless_used(request.store)
    if refusal is not None:
        messages.error(request, refusal.reason)
        return redirect("setup:store_edit", request.store.pk)
    messages.success(request, _("%(name)s is deleted.") % {"name": request.store.name})
    return redirect("setup:home")


@require_GET
def logo(request: HttpRequest, store_id: int, version: str) -> HttpResponse:
    """A store's logo, public (shopper pages show it): only bytes that passed `check_logo`, as the type
    found in them, never sniffed, never run, never shown as a page of this site."""
    row = StoreLogo.objects.filter(store_id=store_id, version=version).only("content", "content_type").first()
    if row is None:
        raise Http404("no such logo")
    response = HttpResponse(bytes(row.content), content_type=row.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = 'attachment; filename="logo"'
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response

"""A store's staff: invite or create people, set their roles, teams and PINs."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shelfcall.setup import actions
from shelfcall.setup.access import SetupRequest, store_view
from shelfcall.setup.forms import MembershipForm, NewStaffForm, PinForm
from shelfcall.stores import policy
from shelfcall.stores.models import Membership, Role, Store


def _memberships(store: Store) -> QuerySet[Membership]:
    """Everyone who works in the store: its own staff and the organization-wide roles."""
    return (
        Membership.objects.filter(Q(store=store) | Q(store__isnull=True, organization_id=store.organization_id))
        .select_related("user", "user__staff_pin")
        .prefetch_related("teams")
        .order_by("user__first_name", "user__username")
    )


def _roles(request: SetupRequest) -> list[Role]:
    """The roles this admin may give here: store admins up to their own, organization admins all."""
    roles = policy.grantable_roles(request.user)
    return roles if request.org_admin else [role for role in roles if role != Role.ORG_ADMIN]


def _may_give(request: SetupRequest, membership: Membership, role: Role) -> bool:
    wanted = Membership(
        user_id=membership.user_id,
        organization_id=request.store.organization_id,
        store=None if role == Role.ORG_ADMIN else request.store,
        role=role,
    )
    return policy.may_grant(request.user, wanted)


@store_view
def staff(request: SetupRequest) -> HttpResponse:
    form = NewStaffForm(request.POST or None, store=request.store, roles=_roles(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        role = Role(data["role"])
        if not _may_give(request, Membership(), role):
            raise PermissionDenied
        added = actions.add_staff(
            request.store,
            username=data["username"],
            first_name=data["first_name"],
            email=data["email"],
            role=role,
            teams=data["teams"],
            invite=data["how"] == NewStaffForm.INVITE,
        )
        if not added.one_time_password:
            messages.success(request, _("%(email)s is invited by email.") % {"email": added.user.email})
            return redirect("setup:staff", request.store.pk)
        shown_once = render(request, "setup/staff_created.html", {"added": added})
        shown_once["Cache-Control"] = "no-store"
        return shown_once
    context = {"memberships": _memberships(request.store), "form": form, "active": "staff"}
    return render(request, "setup/staff.html", context, status=400 if form.errors else 200)


def _membership(request: SetupRequest, membership_id: int) -> Membership:
    """One of the store's memberships that this admin may change; others are not found."""
    membership = _memberships(request.store).filter(pk=membership_id).first()
    if membership is None or not policy.may_administer(request.user, membership):
        raise Http404("no such membership here")
    return membership


@store_view
def staff_edit(request: SetupRequest, membership_id: int) -> HttpResponse:
    membership = _membership(request, membership_id)
    posted = request.POST if request.method == "POST" else None
    initial = {"role": membership.role, "teams": list(membership.teams.all())}
    form = MembershipForm(
        posted if posted and "role" in posted else None, store=request.store, roles=_roles(request), initial=initial
    )
    pin_form = PinForm(posted if posted and "pin" in posted else None)
    if form.is_bound and form.is_valid():
        role = Role(form.cleaned_data["role"])
        if not _may_give(request, membership, role):
            raise PermissionDenied
        if (membership.store_id is None) != (role == Role.ORG_ADMIN):
            messages.error(request, _("Organization-wide roles and store roles are separate: remove and add them."))
        else:
            actions.set_membership(membership, role=role, teams=form.cleaned_data["teams"])
            messages.success(request, _("Saved."))
            return redirect("setup:staff", request.store.pk)
    if pin_form.is_bound and pin_form.is_valid():
        if not policy.may_edit_user(request.user, membership.user):
            raise PermissionDenied
        actions.set_pin(membership.user, pin_form.cleaned_data["pin"])
        messages.success(request, _("The PIN is set."))
        return redirect("setup:staff", request.store.pk)
    bad = form.errors or pin_form.errors
    context = {"membership": membership, "form": form, "pin_form": pin_form, "active": "staff"}
    return render(request, "setup/staff_edit.html", context, status=400 if bad else 200)


@require_POST
@store_view
def staff_remove(request: SetupRequest, membership_id: int) -> HttpResponse:
    membership = _membership(request, membership_id)
    if membership.user_id == request.user.pk:
        messages.error(request, _("You cannot remove yourself: ask another admin."))
        return redirect("setup:staff_edit", request.store.pk, membership.pk)
    actions.remove_membership(membership)
    messages.success(request, _("%(name)s no longer works here.") % {"name": membership.user})
    return redirect("setup:staff", request.store.pk)

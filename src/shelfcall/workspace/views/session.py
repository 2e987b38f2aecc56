"""Signing in, and choosing the store on a device shared by people who work in several."""

from typing import cast

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from shelfcall.core.numbers import parse_number
from shelfcall.setup import first_password
from shelfcall.stores import policy
from shelfcall.stores.signin import SignInForm
from shelfcall.workspace.views.access import choose_store


class LoginView(auth_views.LoginView):
    template_name = "workspace/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True


def safe_next(request: HttpRequest, fallback: str = "/w/") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}) and target.startswith("/w/")
    return target if allowed else fallback


def stores(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("workspace:login")
    choices = policy.stores_for(request.user)
    if request.method == "POST":
        store_id = parse_number(request.POST.get("store", ""))
        store = choices.filter(pk=store_id).first() if store_id is not None else None
        if store is not None:
            choose_store(request, store)
            return redirect(safe_next(request))
    return render(request, "workspace/stores.html", {"stores": choices, "next": safe_next(request)})


def choose_password(request: HttpRequest) -> HttpResponse:
    """The first page after signing in with a one-time password an admin gave: the person's own, now.
    Only for such a session: anyone else changes a password knowing the current one."""
    if not first_password.must_choose(request):
        return redirect("workspace:queue")
    form = SetPasswordForm(cast(User, request.user), request.POST or None)
    if request.method == "POST" and form.is_valid():
        first_password.choose(request, form)
        messages.success(request, _("Your password is set. Use it from now on."))
        return redirect("workspace:queue")
    return render(request, "workspace/choose_password.html", {"form": form}, status=400 if form.errors else 200)

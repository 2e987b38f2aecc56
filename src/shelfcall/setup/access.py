"""Who reaches the setup pages, and which store a request is about; the rules are in stores.policy."""

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.contrib.auth.models import User
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from shelfcall.stores import policy
from shelfcall.stores.models import Store


class SetupRequest(HttpRequest):
    """A request `admin_view` let in; `store` is set by `store_view` only."""

    user: User
    store: Store
    org_admin: bool  # administers the store's whole organization (or, on pages without a store, any)


def _let_in(request: HttpRequest) -> HttpResponse | None:
    """Sign in first; then a password sign-in (a PIN opens the workspace only) and something to administer."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), "workspace:login")
    if not policy.holds_full_sign_in(request) or not policy.administers_anything(request.user):
        raise PermissionDenied
    return None


def admin_view(view: Callable) -> Callable:
    """Pages about no store in particular (the list of stores, the roles table, a new store)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        refused = _let_in(request)
        if refused is not None:
            return refused
        cast(SetupRequest, request).org_admin = policy.administered_organizations(request.user).exists()
        return view(request, *args, **kwargs)

    return wrapped


def store_view(view: Callable) -> Callable:
    """Pages of one store. A store the user does not administer is a 404: its existence is not revealed."""

    @wraps(view)
    def wrapped(request: HttpRequest, store_id: int, *args: Any, **kwargs: Any) -> HttpResponse:
        refused = _let_in(request)
        if refused is not None:
            return refused
        store = policy.administered_stores(request.user).select_related("organization").filter(pk=store_id).first()
        if store is None:
            raise Http404("no such store here")
        setup = cast(SetupRequest, request)
        setup.store = store
        setup.org_admin = policy.administers_organization(request.user, store.organization_id)
        return view(setup, *args, **kwargs)

    return wrapped

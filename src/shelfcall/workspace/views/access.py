"""How a workspace request finds its store and its user's role; the rules themselves are in stores.policy."""

from collections.abc import Callable
from functools import wraps
from typing import Any, cast
from urllib.parse import urlencode

from django.contrib.auth.models import AnonymousUser, User
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from shelfcall.orders.actions import with_action_relations, with_sub_statuses_defined
from shelfcall.orders.compiled import CompiledGet, is_row_id
from shelfcall.orders.events import Actor
from shelfcall.orders.models import Order
from shelfcall.stores import policy
from shelfcall.stores.idle import is_idle_expired
from shelfcall.stores.models import Role, Store

STORE_KEY = "workspace_store_id"


class WorkspaceRequest(HttpRequest):
    """A request that `staff_view` or `order_view` let in: a signed-in user at work in `store` as `role`."""

    user: User
    store: Store
    role: Role
    actor: Actor


def current_store(request: HttpRequest) -> Store | None:
    """The store chosen on this device; the only store when the user works in just one."""
    stores = policy.stores_for(request.user)
    chosen = request.session.get(STORE_KEY)
    store = stores.filter(pk=chosen).first() if chosen else None
    if store is None:
        only = list(stores[:2])
        store = only[0] if len(only) == 1 else None
    return store


def live_user(request: HttpRequest) -> User | AnonymousUser:
    """Whom a live stream serves: nobody once the session has gone idle (the idle middleware leaves
    streams to their views). Call it in the stream's own database read."""
    return AnonymousUser() if is_idle_expired(request.session) else request.user


def choose_store(request: HttpRequest, store: Store) -> None:
    if request.session.get(STORE_KEY) != store.pk:  # unchanged, it must not write the session again
        request.session[STORE_KEY] = store.pk


def _enter(request: HttpRequest, store: Store, role: Role) -> None:
    workspace = cast(WorkspaceRequest, request)  # what the rest of the request's views rely on
    workspace.store, workspace.role = store, role
    workspace.actor = Actor.staff(workspace.user, role)  # the policy needs the role: known here, not read again
    timezone.activate(store.timezone)


def _works_from_head_office(user: User, perm: policy.Perm) -> bool:
    """Customer service: sees every order from /hq/ and holds no role on the floor."""
    return (
        not policy.stores_granting(user, perm).exists()
        and policy.stores_granting(user, policy.Perm.SEE_ALL_ORDERS).exists()
    )


def staff_view(perm: policy.Perm = policy.Perm.WORK_ORDERS) -> Callable:
    """For the store-wide screens (queue, till, refunds): log in, pick a store, hold `perm` there."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), "workspace:login")
            store = current_store(request)
            if store is None and _works_from_head_office(request.user, perm):
                return redirect("hq:orders")
            if store is None:
                return redirect(f"{reverse('workspace:stores')}?{urlencode({'next': request.get_full_path()})}")
            role = policy.role_in(request.user, store)
            if not policy.grants(role, perm):
                if policy.grants(role, policy.Perm.SEE_ALL_ORDERS):
                    return redirect("hq:orders")  # customer service works from head office, not the floor
                raise PermissionDenied
            _enter(request, store, cast(Role, role))
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def _order_for_its_screens(order_id: int) -> QuerySet[Order]:
    # With what the actions read with it: their read of it too (`current`, orders/actions/_common.py).
    orders = with_action_relations(Order.objects.select_related("drop_zone", "team", "sub_status"))
    return with_sub_statuses_defined(orders).filter(pk=order_id)


_ORDER_FOR_ITS_SCREENS = CompiledGet(_order_for_its_screens, int)  # every order screen: compiled once


def order_view(perm: policy.Perm = policy.Perm.WORK_ORDERS) -> Callable:
    """For one order's screens. Another store's order is a 404: its existence is not revealed."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HttpRequest, order_id: int, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), "workspace:login")
            order = _ORDER_FOR_ITS_SCREENS.first(order_id) if is_row_id(order_id) else None
            role = policy.role_in(request.user, order.store) if order else None
            if order is None or role is None or not policy.can(request.user, perm, order.store, role=role):
                raise Http404("no such order here")
            choose_store(request, order.store)  # a chat link opens the order's own store
            _enter(request, order.store, role)
            return view(request, order, *args, **kwargs)

        return wrapped

    return decorate

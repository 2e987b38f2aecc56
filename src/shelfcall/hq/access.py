"""Who gets into /hq/ and which stores they see there; the rules themselves are in stores.policy."""

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.contrib.auth.models import User
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse

from shelfcall.orders.events import Actor
from shelfcall.orders.models import Order
from shelfcall.stores import policy
from shelfcall.stores.models import Store


class HqRequest(HttpRequest):
    """A request `hq_view` let in: a signed-in user who sees every order of `stores`."""

    user: User
    stores: QuerySet[Store]  # for choices, by name
    store_ids: list[int]  # for filtering: a literal list lets the planner walk the orders' primary key


def visible_stores(user: Any) -> QuerySet[Store]:
    """Organization admins and customer service: every store of their organizations; store admins: theirs."""
    return policy.stores_granting(user, policy.Perm.SEE_ALL_ORDERS)


def hq_view(view: Callable) -> Callable:
    """Sign in; then only someone who sees at least one store's orders here (403 for anyone else)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), "workspace:login")
        store_ids = list(visible_stores(request.user).values_list("pk", flat=True))
        if not store_ids:
            raise PermissionDenied
        hq = cast(HqRequest, request)
        hq.store_ids = store_ids
        hq.stores = Store.objects.filter(pk__in=store_ids).order_by("name")
        return view(hq, *args, **kwargs)

    return wrapped


def order_in_view(request: HqRequest, order_id: int) -> Order:
    """The order if it belongs to one of the request's stores; a 404 otherwise (its existence is not told)."""
    order = (
        Order.objects.filter(pk=order_id, store_id__in=request.store_ids)
        .select_related("store__organization", "team", "assignee", "drop_zone", "origin_store")
        .first()
    )
    if order is None:
        raise Http404("no such order here")
    return order


def actor_for(request: HqRequest, order: Order) -> Actor:
    """The user as the order policy sees them in the order's store (their role there)."""
    return Actor.staff(request.user, policy.role_in(request.user, order.store))

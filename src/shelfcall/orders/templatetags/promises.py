from collections.abc import Mapping

from django import template

from shelfcall.orders.models import Order
from shelfcall.orders.promise import QueuePromise

register = template.Library()


@register.filter
def promise_of(promises: Mapping[int, QueuePromise], order: Order) -> QueuePromise | None:
    """The queue's promise for `order` (None once it is ready or closed)."""
    return promises.get(order.pk)

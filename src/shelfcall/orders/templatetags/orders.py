from django import template

from shelfcall.orders.events import EVENT_LABELS
from shelfcall.orders.models import Order
from shelfcall.orders.policy import holder_label

register = template.Library()


@register.filter
def event_label(event_type: str) -> str:
    return str(EVENT_LABELS.get(event_type, event_type))


@register.filter
def holder(order: Order) -> str:
    """Who is picking: a person, or the store's system for an order claimed through the API."""
    return holder_label(order)

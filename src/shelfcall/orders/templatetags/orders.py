from django import template

from shelfcall.orders.events import EVENT_LABELS

register = template.Library()


@register.filter
def event_label(event_type: str) -> str:
    return str(EVENT_LABELS.get(event_type, event_type))

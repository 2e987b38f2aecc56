from decimal import Decimal

from django import template
from django.contrib.auth.models import User

from shelfcall.core import people
from shelfcall.core.money import format_money

register = template.Library()


@register.simple_tag
def money(amount: Decimal, currency: str) -> str:
    return format_money(amount, currency)


@register.filter
def display_name(user: User | None) -> str:
    return people.display_name(user)

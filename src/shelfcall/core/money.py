"""Money and time shown the way the shopper's language writes them."""

from decimal import Decimal

from babel.numbers import format_currency
from django.utils.translation import get_language, to_locale


def format_money(amount: Decimal | int, currency: str, language: str | None = None) -> str:
    locale = to_locale(language or get_language() or "en")
    return format_currency(amount, currency, locale=locale)

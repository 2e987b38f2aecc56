"""How people are named on screens, in messages and in the order's history."""

from django.contrib.auth.models import User


def display_name(user: User | None) -> str:
    """The first name when there is one, else the username; empty for nobody."""
    if user is None:
        return ""
    return user.get_short_name() or user.get_username()

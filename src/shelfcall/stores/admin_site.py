"""The Django admin site: password sessions only, and the sign-in behind the same lockout as /w/login."""

from django.contrib import admin
from django.http import HttpRequest

from shelfcall.stores import policy
from shelfcall.stores.signin import AdminSignInForm


class ShelfcallAdminSite(admin.AdminSite):
    login_form = AdminSignInForm

    def has_permission(self, request: HttpRequest) -> bool:
        """A supervisor who is also staff and switched in with a PIN is sent to sign in with the password."""
        return super().has_permission(request) and policy.holds_full_sign_in(request)

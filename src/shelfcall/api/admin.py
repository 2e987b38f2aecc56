"""API keys in the admin: made here (the key is shown once, on the page after saving), revoked with
an action, never edited into something else. Who sees and makes which keys is the admin's store split
(stores/policy.py: `may_issue_key`)."""

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from shelfcall.api import keys
from shelfcall.api.models import ApiKey
from shelfcall.api.scopes import SCOPE_LABELS
from shelfcall.stores import policy
from shelfcall.stores.scoped_admin import ScopedModelAdmin


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=_("scopes"), choices=list(SCOPE_LABELS.items()), widget=forms.CheckboxSelectMultiple
    )

    request: HttpRequest  # set by ApiKeyAdmin.get_form: who may issue which key depends on who asks

    class Meta:
        model = ApiKey
        fields = ["name", "organization", "store", "scopes"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        organization, store = data.get("organization"), data.get("store")
        if organization and store and store.organization_id != organization.pk:
            self.add_error("store", _("Choose a store of this organization, or none for all of its stores."))
        elif organization and not policy.may_issue_key(self.request.user, organization.pk, store):
            self.add_error(
                "store", _("Only an organization admin can make a key for every store; choose one of your stores.")
            )
        return data


@admin.register(ApiKey)
class ApiKeyAdmin(ScopedModelAdmin[ApiKey]):
    list_display = ["name", "prefix", "organization", "store", "scope_list", "last_used_at", "revoked_at"]
    list_filter = ["organization", "store"]
    search_fields = ["name", "prefix"]
    actions = ["revoke_keys"]
    readonly_fields = ["prefix", "created_by", "created_at", "last_used_at", "revoked_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiKey]:
        return super().get_queryset(request).select_related("organization", "store")

    def get_form(
        self, request: HttpRequest, obj: ApiKey | None = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm]:
        # Django builds a subclass of the form given.
        form = cast(type[ApiKeyForm], super().get_form(request, obj, change=change, form=ApiKeyForm, **kwargs))
        form.request = request
        return form

    def get_readonly_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> list[str]:
        # A key is not turned into another one: a new purpose gets a new key.
        if obj is None:
            return self.readonly_fields
        return [*self.readonly_fields, "organization", "store", "scopes"]

    def has_delete_permission(self, request: HttpRequest, obj: ApiKey | None = None) -> bool:
        return False  # revoke instead: the key's history (idempotent responses, events) stays readable

    def save_model(self, request: HttpRequest, obj: ApiKey, form: forms.ModelForm, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        issued = keys.issue_key(
            organization=obj.organization,
            store=obj.store,
            name=obj.name,
            scopes=form.cleaned_data["scopes"],
            created_by=cast(User, request.user),  # the admin serves signed-in staff only
        )
        obj.pk, obj.prefix = issued.api_key.pk, issued.api_key.prefix
        request.issued_api_key = issued.plaintext  # type: ignore[attr-defined]  # for response_add, next

    def response_add(self, request: HttpRequest, obj: ApiKey, post_url_continue: str | None = None) -> HttpResponse:
        """The one time the key can be read: on this page (the admin's pages are never cached), not in a
        message, which would travel in a cookie."""
        return TemplateResponse(
            request,
            "api/admin/key_created.html",
            {**self.admin_site.each_context(request), "api_key": obj, "plaintext": request.issued_api_key},  # type: ignore[attr-defined]
        )

    @admin.display(description=_("scopes"))
    def scope_list(self, obj: ApiKey) -> str:
        return ", ".join(obj.scopes)

    @admin.action(description=_("Revoke the selected keys"))
    def revoke_keys(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        count = keys.revoke(queryset)
        self.message_user(
            request,
            ngettext("%(count)d key revoked.", "%(count)d keys revoked.", count) % {"count": count},
            messages.SUCCESS,
        )

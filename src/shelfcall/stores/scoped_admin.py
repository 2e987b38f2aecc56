"""The admin split by store: every ModelAdmin and inline of Shelfcall derives from these, so that what a
staff member sees, may choose and may save follows their memberships (the rules are in stores.policy).

Hiding is not enough: a forged POST names any id it likes. So the choices of every foreign key and
many-to-many field are limited (a foreign id fails as "not one of the available choices"), and every
changed form is checked against the policy once it has built its object.
"""

from typing import Any, Generic, TypeVar

from django.contrib import admin
from django.contrib.admin.options import BaseModelAdmin, InlineModelAdmin
from django.contrib.admin.utils import get_fields_from_path
from django.db.models import ForeignKey, ManyToManyField, Model, QuerySet
from django.forms import BaseInlineFormSet, BaseModelForm, ModelChoiceField, ModelForm, ModelMultipleChoiceField
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from shelfcall.stores import policy

_ChoiceField = TypeVar("_ChoiceField", bound=ModelChoiceField | None)
_M = TypeVar("_M", bound=Model)
_Form = TypeVar("_Form", bound=BaseModelForm)

NOT_YOURS = _("You can only save this in a store or organization you administer, with a role no higher than yours.")


class ScopedAdminMixin(BaseModelAdmin):
    """What ModelAdmins and inlines share: their rows, the choices they offer, the check on save."""

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return policy.admin_scope(request.user, super().get_queryset(request))

    def formfield_for_foreignkey(
        self, db_field: ForeignKey, request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField | None:
        return self._limit_choices(super().formfield_for_foreignkey(db_field, request, **kwargs), request)

    def formfield_for_manytomany(
        self, db_field: ManyToManyField, request: HttpRequest, **kwargs: Any
    ) -> ModelMultipleChoiceField | None:
        return self._limit_choices(super().formfield_for_manytomany(db_field, request, **kwargs), request)

    @staticmethod
    def _limit_choices(formfield: _ChoiceField, request: HttpRequest) -> _ChoiceField:
        if formfield is not None and formfield.queryset is not None:
            formfield.queryset = policy.admin_scope(request.user, formfield.queryset)
        return formfield

    def checked_form(self, request: HttpRequest, form_class: type[_Form]) -> type[_Form]:
        """`form_class`, refusing what its object would become if the user may not administer that."""

        class ScopeCheckedForm(form_class):  # type: ignore[valid-type, misc]  # mypy takes no base from a variable
            def _post_clean(self) -> None:
                # After Django has built (and model-validated) the instance, which is what gets saved.
                super()._post_clean()
                if self.errors or (not self.instance._state.adding and not self.has_changed()):
                    return
                if not policy.may_administer(request.user, self.instance):
                    self.add_error(None, NOT_YOURS)

        ScopeCheckedForm.__name__ = form_class.__name__
        return ScopeCheckedForm


class ScopedModelAdmin(ScopedAdminMixin, admin.ModelAdmin, Generic[_M]):
    """Django's model permissions say which kinds of rows a staff member may touch; their memberships
    say which rows. Both must agree."""

    def get_form(
        self, request: HttpRequest, obj: _M | None = None, change: bool = False, **kwargs: Any
    ) -> type[ModelForm]:
        return self.checked_form(request, super().get_form(request, obj, change=change, **kwargs))

    def get_list_filter(self, request: HttpRequest) -> list[Any] | tuple[Any, ...]:
        """A related filter would list every store and organization; list only those of the rows shown."""
        filters = super().get_list_filter(request)
        if request.user.is_superuser:
            return filters
        return [self._related_only(name) for name in filters]

    def _related_only(self, name: Any) -> Any:
        if isinstance(name, str) and get_fields_from_path(self.model, name)[-1].is_relation:
            return (name, admin.RelatedOnlyFieldListFilter)
        return name

    def has_module_permission(self, request: HttpRequest) -> bool:
        return super().has_module_permission(request) and policy.may_view_in_admin(request.user, self.model)

    def has_view_permission(self, request: HttpRequest, obj: _M | None = None) -> bool:
        return (
            super().has_view_permission(request, obj)
            and policy.may_view_in_admin(request.user, self.model)
            and (obj is None or self.get_queryset(request).filter(pk=obj.pk).exists())
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and policy.may_add_in_admin(request.user, self.model)

    def has_change_permission(self, request: HttpRequest, obj: _M | None = None) -> bool:
        return super().has_change_permission(request, obj) and self._may_administer(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: _M | None = None) -> bool:
        return super().has_delete_permission(request, obj) and self._may_administer(request, obj)

    def _may_administer(self, request: HttpRequest, obj: _M | None) -> bool:
        if obj is None:
            return policy.may_view_in_admin(request.user, self.model)
        return policy.may_administer(request.user, obj)


class ScopedInlineMixin(ScopedAdminMixin, InlineModelAdmin):
    """Inlines are permitted through their parent's admin; here their rows, choices and saves are scoped."""

    def get_formset(self, request: HttpRequest, obj: Model | None = None, **kwargs: Any) -> type[BaseInlineFormSet]:
        kwargs.setdefault("form", self.checked_form(request, self.form))
        return super().get_formset(request, obj, **kwargs)


class ScopedTabularInline(ScopedInlineMixin, admin.TabularInline):
    pass

"""Refusals of the API layer itself (who is asking, what they may see). Domain errors keep their own
classes; both carry their HTTP status, which api/responses.py answers with."""

from django.utils.translation import gettext as _

from shelfcall.core.errors import ShelfcallError


class ApiError(ShelfcallError):
    status = 400


class Unauthenticated(ApiError):
    code = "unauthenticated"
    status = 401

    def __init__(self) -> None:
        super().__init__(_("Send a valid API key: 'Authorization: Bearer sc_…'."))


class KeyRevoked(ApiError):
    code = "key_revoked"
    status = 401

    def __init__(self) -> None:
        super().__init__(_("This API key was revoked. Ask your administrator for a new one."))


class MissingScope(ApiError):
    code = "missing_scope"
    status = 403

    def __init__(self, scope: str) -> None:
        super().__init__(_("This API key lacks the scope %(scope)s.") % {"scope": scope})


class NotFound(ApiError):
    """Also the answer for another store's objects: a key must not learn that they exist."""

    code = "not_found"
    status = 404

    def __init__(self, what: str | None = None) -> None:
        super().__init__(what or _("Nothing here: check the address and the id."))


class InvalidInput(ApiError):
    code = "invalid"
    status = 422

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message, field=field)


class OrganizationKeyRequired(ApiError):
    """Products belong to the whole organization: one store's system may not change them for every store."""

    code = "organization_key_required"
    status = 403

    def __init__(self) -> None:
        super().__init__(_("Products are shared by every store of the organization: use an organization key."))

"""Every error the API gives, in one shape: {"error": {"code", "message", "field"}}, mapped here once."""

import logging

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from pydantic import ConfigDict

from shelfcall.api.errors import ApiError, NotFound, Unauthenticated
from shelfcall.core.errors import ShelfcallError
from shelfcall.core.throttle import Throttled
from shelfcall.orders.errors import AlreadyClaimed, NotYourOrder, OrderNotFound, OrdersMoved, WrongStatus

logger = logging.getLogger(__name__)

# Domain errors know nothing of HTTP; this is where they get their status. Looked up along the MRO,
# so a subclass inherits its parent's status; anything else the domain refuses is a 422.
_DOMAIN_STATUS: dict[type[ShelfcallError], int] = {
    OrderNotFound: 404,
    WrongStatus: 409,
    OrdersMoved: 409,
    AlreadyClaimed: 409,
    NotYourOrder: 409,
    Throttled: 429,
}


class ErrorDetail(Schema):
    code: str
    message: str
    field: str | None = None


class ErrorOut(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "error": {
                        "code": "missing_scope",
                        "message": "This API key lacks the scope orders:read.",
                        "field": None,
                    }
                },
                {"error": {"code": "invalid", "message": "Check code: …", "field": "code"}},
            ]
        }
    )

    error: ErrorDetail


def error_response(
    api: NinjaAPI, request: HttpRequest, status: int, code: str, message: str, field: str | None
) -> HttpResponse:
    return api.create_response(request, {"error": {"code": code, "message": message, "field": field}}, status=status)


def status_of(error: ShelfcallError) -> int:
    if isinstance(error, ApiError):
        return error.status
    for cls in type(error).__mro__:
        if cls in _DOMAIN_STATUS:
            return _DOMAIN_STATUS[cls]
    return 422


def _field_of(location: list | tuple) -> str | None:
    """`["query", "limit"]` → "limit"; `["body", "payload", "lines", 2, "qty"]` → "lines.2.qty"."""
    parts = [str(part) for part in location[1:] if part not in {"body", "payload"}]
    return ".".join(parts) or None


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(ShelfcallError)
    def domain_error(request: HttpRequest, error: ShelfcallError) -> HttpResponse:
        response = error_response(api, request, status_of(error), error.code, error.message, error.field)
        if isinstance(error, Throttled):
            response["Retry-After"] = str(error.retry_after)
        return response

    @api.exception_handler(ValidationError)
    def invalid_input(request: HttpRequest, error: ValidationError) -> HttpResponse:
        first = error.errors[0] if error.errors else {}
        field = _field_of(first.get("loc", ()))
        message = _("Check %(field)s: %(problem)s") % {
            "field": field or _("the request"),
            "problem": first.get("msg", ""),
        }
        return error_response(api, request, 422, "invalid", message, field)

    @api.exception_handler(AuthenticationError)
    def no_key(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
        return domain_error(request, Unauthenticated())

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, error: Http404) -> HttpResponse:
        return domain_error(request, NotFound())

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
        return error_response(api, request, error.status_code, "http_error", str(error), None)

    @api.exception_handler(Exception)
    def unexpected(request: HttpRequest, error: Exception) -> HttpResponse:
        logger.exception("API request failed: %s %s", request.method, request.path)
        return error_response(api, request, 500, "internal_error", _("Something went wrong on our side."), None)

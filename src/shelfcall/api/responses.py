"""Every error the API gives, in one shape: {"error": {"code", "message", "field"}}, mapped here once:
a refusal's HTTP status is its own (`ShelfcallError.status`)."""

import logging
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from pydantic import ConfigDict

from shelfcall.api.errors import NotFound, Unauthenticated
from shelfcall.core.errors import DATABASE_UNAVAILABLE, ShelfcallError
from shelfcall.core.throttle import Throttled
from shelfcall.core.views import RETRY_AFTER_SECONDS

logger = logging.getLogger(__name__)


class RowErrorOut(Schema):
    index: int = Field(description="The row's position in the array named by `field`, from 0.")
    field: str | None = Field(description="The row's field, e.g. price; null for the row as a whole.")
    code: str
    message: str


class ErrorDetail(Schema):
    code: str
    message: str
    field: str | None = None
    rows: list[RowErrorOut] | None = Field(
        None,
        description="Only with code invalid_rows (bulk calls): every row's problems, the first 100; nothing was "
        "written. `field` then names the array.",
    )


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
                {
                    "error": {
                        "code": "invalid_rows",
                        "message": "2 rows have problems, the first: products.3.price: …",
                        "field": "products",
                        "rows": [
                            {"index": 3, "field": "price", "code": "invalid", "message": "use a decimal string …"},
                            {"index": 7, "field": "sku", "code": "duplicate", "message": "Same as row 2: …"},
                        ],
                    }
                },
            ]
        }
    )

    error: ErrorDetail


def error_response(
    api: NinjaAPI,
    request: HttpRequest,
    status: int,
    code: str,
    message: str,
    field: str | None,
    *,
    rows: Sequence[Any] | None = None,
) -> HttpResponse:
    error: dict[str, Any] = {"code": code, "message": message, "field": field}
    if rows is not None:  # the per-row problems of a bulk call (dataclasses, e.g. catalog.errors.RowError)
        error["rows"] = [asdict(row) for row in rows]
    return api.create_response(request, {"error": error}, status=status)


def _field_of(location: list | tuple) -> str | None:
    """`["query", "limit"]` → "limit"; `["body", "payload", "lines", 2, "qty"]` → "lines.2.qty"."""
    parts = [str(part) for part in location[1:] if part not in {"body", "payload"}]
    return ".".join(parts) or None


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(ShelfcallError)
    def domain_error(request: HttpRequest, error: ShelfcallError) -> HttpResponse:
        rows = getattr(error, "rows", None)
        response = error_response(api, request, error.status, error.code, error.message, error.field, rows=rows)
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
        if error.status_code == 400:  # ninja could not read the body: bad input like any other, one status
            message = _('Send the body as a JSON object, e.g. {"qty": 1}.')
            return error_response(api, request, 422, "invalid", message, "body")
        return error_response(api, request, error.status_code, "http_error", str(error), None)

    @api.exception_handler(Exception)
    def unexpected(request: HttpRequest, error: Exception) -> HttpResponse:
        if isinstance(error, DATABASE_UNAVAILABLE):  # a restart, or a pool that stayed busy: try again
            logger.warning("Database unavailable for %s %s: %s", request.method, request.path, error)
            message = _("The service is briefly unavailable: send the same request again in a few seconds.")
            response = error_response(api, request, 503, "database_unavailable", message, None)
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response
        logger.exception("API request failed: %s %s", request.method, request.path)
        return error_response(api, request, 500, "internal_error", _("Something went wrong on our side."), None)

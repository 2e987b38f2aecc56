import json
import logging
import re
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.http import HttpRequest, HttpResponse, HttpResponseBase, QueryDict
from django.middleware.gzip import GZipMiddleware
from django.utils.cache import patch_cache_control
from django.utils.decorators import sync_and_async_middleware
from django.utils.deprecation import MiddlewareMixin
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from shelfcall.core.errors import DATABASE_UNAVAILABLE, RefusedRequest
from shelfcall.core.throttle import Throttled
from shelfcall.core.views import bad_request, database_unavailable

log = logging.getLogger(__name__)
# How long a client is asked to wait when the database is unreachable (a restart takes seconds).


class CompressPagesMiddleware(GZipMiddleware):
    """Gzip pages (Django adds its BREACH mitigation) but never live streams, which must flush each event."""

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if response.get("Content-Type", "").startswith("text/event-stream"):
            return response
        return super().process_response(request, response)


# Pages load only their own scripts; images may come from the catalogue's CDN. The brand colours are
# one inline style block, hence 'unsafe-inline' for styles only.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'wasm-unsafe-eval'",  # the barcode scanner's WebAssembly
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: https:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)


class ContentSecurityPolicyMiddleware(MiddlewareMixin):
    """Sets the CSP on every page but the Django admin (which brings scripts of its own)."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if not request.path.startswith("/admin/"):
            response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response


# Staff screens are used on shared store devices: none may be kept by the browser for the next person
# (the back button after a PIN switch or sign-out must not show the previous associate's page).
STAFF_PREFIXES = ("/w/", "/hq/", "/setup/", "/admin/")


class StaffPagesNotStoredMiddleware(MiddlewareMixin):
    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if request.path.startswith(STAFF_PREFIXES) and not response.has_header("Cache-Control"):
            patch_cache_control(response, no_store=True, private=True)
        return response


_NUL = "\x00"
_FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}
_CONTENT_LENGTH = re.compile(r"[0-9]{1,19}")


class NulCharacterRefusedMiddleware(MiddlewareMixin):
    """PostgreSQL can neither store nor compare text holding NUL (U+0000): a NUL in the address, the query
    string, a form's fields or a JSON body's strings is refused with a 400 naming where it is, before a view
    passes it on; so is a Content-Length that is not a number, which Django's reading of a body trusts. A
    form's body is checked when something first reads it, so that a view limiting its uploads
    (catalog/views.py) still sets its handlers first. Any other body is read as JSON (the API reads it so
    whatever its declared type)."""

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        try:
            _check_before_the_view(request)
        except RefusedRequest as refused:
            return bad_request(request, refused)
        if request.content_type in _FORM_TYPES:
            load = request._load_post_and_files

            def load_then_check() -> None:  # a refusal raised here Django answers through handler400
                load()
                _refuse_nul_in(request._post)  # type: ignore[attr-defined]  # what load() just set

            request._load_post_and_files = load_then_check  # type: ignore[method-assign]
        return None


def _check_before_the_view(request: HttpRequest) -> None:
    if _NUL in request.path:
        raise RefusedRequest(_("The address contains a NUL character, which no text may hold: remove it."))
    _refuse_nul_in(request.GET)
    if not _CONTENT_LENGTH.fullmatch(request.META.get("CONTENT_LENGTH") or "0"):
        raise RefusedRequest(_("The Content-Length header is not a number of bytes."), field="Content-Length")
    if request.content_type not in _FORM_TYPES and request.method in {"POST", "PUT", "PATCH"}:
        _refuse_nul_in_json(request.body)


def _refuse_nul_in(data: QueryDict) -> None:
    for name, values in data.lists():
        if _NUL in name or any(_NUL in value for value in values):
            raise _nul_in_field(name)


def _refuse_nul_in_json(body: bytes) -> None:
    # A NUL can only be written \u0000 in JSON: a body without one needs no second parse.
    if b"\\u0000" not in body:
        return
    try:
        document = json.loads(body)
    except ValueError:
        return  # the API says what is wrong with it
    field = next(_json_fields_holding_nul(document, ""), None)
    if field is not None:
        raise _nul_in_field(field)


def _json_fields_holding_nul(value: object, path: str) -> Iterator[str]:
    """The dotted path (lines.2.note) of each string holding a NUL, a key or a value."""
    if isinstance(value, str) and _NUL in value:
        yield path or "body"
    elif isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else key
            yield from ([inner] if _NUL in key else _json_fields_holding_nul(item, inner))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json_fields_holding_nul(item, f"{path}.{index}" if path else str(index))


def _nul_in_field(name: str) -> RefusedRequest:
    shown = name.replace(_NUL, "\u2400")  # the symbol for NUL, so the message shows where it is
    message = _("“%(field)s” contains a NUL character, which no text may hold: remove it.") % {"field": shown}
    return RefusedRequest(message, field=shown)


class RateLimitedMiddleware(MiddlewareMixin):
    """Turns a Throttled refusal into the friendly 429 page, saying when to try again."""

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, Throttled):
            return None
        response = import_string(settings.RATELIMIT_VIEW)(request, exception)
        response["Retry-After"] = str(exception.retry_after)
        return response


class DatabaseUnavailableMiddleware(MiddlewareMixin):
    """While the database restarts, answer 503 with Retry-After rather than a 500: the failure is
    not the request's, and clients (a live page reopening its stream, a till) should try again."""

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DATABASE_UNAVAILABLE):
            return None
        log.warning("Database unavailable for %s: %s", request.path, exception)
        return database_unavailable()


STATEMENTS_HEADER = "X-Shelfcall-Statements"
# The request's statement count, a one-item list: the threads the request's sync parts run on get a
# copy of the context, and all the copies hold this same list.
_statements: ContextVar[list[int] | None] = ContextVar("shelfcall_statements", default=None)


def _count_statement(execute: Callable, sql: str, params: Any, many: bool, context: dict) -> Any:
    counted = _statements.get()
    if counted is not None:
        counted[0] += 1
    return execute(sql, params, many, context)


def _count_on(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    if _count_statement not in connection.execute_wrappers:
        connection.execute_wrappers.append(_count_statement)


@sync_and_async_middleware
def statement_count_middleware(get_response: Callable) -> Callable:
    """For benchmarks (SHELFCALL_COUNT_STATEMENTS): a response header says how many SQL statements
    the request had Django execute, on whichever thread, so a load generator counts them per page
    without access to the database. First in the list: the user's read (and a sign-out's revocation) count too. A
    live stream's later reads are not counted (its response has started by then)."""
    connection_created.connect(_count_on, dispatch_uid="shelfcall-count-statements")
    for each in connections.all(initialized_only=True):
        _count_on(None, each)

    if iscoroutinefunction(get_response):

        async def count_async(request: HttpRequest) -> HttpResponseBase:
            counted = [0]
            _statements.set(counted)
            response = await get_response(request)
            response[STATEMENTS_HEADER] = str(counted[0])
            return response

        return count_async

    def count(request: HttpRequest) -> HttpResponseBase:
        counted = [0]
        token = _statements.set(counted)
        try:
            response = get_response(request)
        finally:
            _statements.reset(token)
        response[STATEMENTS_HEADER] = str(counted[0])
        return response

    return count

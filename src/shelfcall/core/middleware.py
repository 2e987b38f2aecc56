import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.middleware.gzip import GZipMiddleware
from django.utils.deprecation import MiddlewareMixin
from django.utils.module_loading import import_string

from shelfcall.core.errors import DATABASE_UNAVAILABLE
from shelfcall.core.throttle import Throttled
from shelfcall.core.views import database_unavailable

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

"""Django answers a method an API path does not accept (405) before the API's error handlers run."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.deprecation import MiddlewareMixin
from django.utils.translation import gettext as _

API_PREFIX = "/api/"


class ApiMethodNotAllowedMiddleware(MiddlewareMixin):
    """Give a 405 under /api/ the API's error shape, keeping its `Allow` header."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if response.status_code != 405 or not request.path.startswith(API_PREFIX):
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        allowed = response.get("Allow", "")
        message = _("%(method)s is not accepted here; use %(allowed)s.") % {
            "method": request.method,
            "allowed": allowed or _("another method"),
        }
        body = {"error": {"code": "method_not_allowed", "message": message, "field": None}}
        answer = JsonResponse(body, status=405, content_type="application/json; charset=utf-8")
        if allowed:
            answer["Allow"] = allowed
        return answer

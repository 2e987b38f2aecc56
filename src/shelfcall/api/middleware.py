"""Django answers a method an API path does not accept (405) before the API's error handlers run."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

API_PREFIX = "/api/"


class ApiMethodNotAllowedMiddleware:
    """Give a 405 under /api/ the API's error shape, keeping its `Allow` header."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
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

from django.http import HttpRequest, HttpResponse
from django.middleware.gzip import GZipMiddleware


class CompressPagesMiddleware(GZipMiddleware):
    """Gzip pages (Django adds its BREACH mitigation) but never live streams, which must flush each event."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if response.get("Content-Type", "").startswith("text/event-stream"):
            return response
        return super().process_response(request, response)

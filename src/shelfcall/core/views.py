"""Error pages that need more than Django's defaults."""

import sys

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views.defaults import server_error as django_server_error

from shelfcall.api.middleware import API_PREFIX
from shelfcall.core.errors import DATABASE_UNAVAILABLE, RefusedRequest

# What a browser or client is told to wait before trying again while the database cannot serve it.
RETRY_AFTER_SECONDS = 5


def database_unavailable() -> HttpResponse:
    """503 with Retry-After: the database is restarting, or every pooled connection stayed busy for
    longer than the pool waits. Not the request's fault; live pages and tills try again. Rendered
    without the request, as Django's own error pages are: no context processor may need the database."""
    response = HttpResponse(loader.get_template("503.html").render(), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500, for what fails outside a view (a middleware reading the user, say): a database
    that is unavailable (Django wraps the pool's PoolTimeout in its OperationalError) gets the 503;
    anything else is a 500."""
    if isinstance(sys.exc_info()[1], DATABASE_UNAVAILABLE):
        return database_unavailable()
    return django_server_error(request)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400. Our own refusals say what to fix; Django's (a bad host, a broken upload) say no more than
    Django's page, which could disclose what it should not. Under /api/ in the API's error shape, with the
    status the API gives all bad input."""
    refused = exception if isinstance(exception, RefusedRequest) else None
    message = refused.message if refused else _("The request could not be read. Check it and send it again.")
    if request.path.startswith(API_PREFIX):
        error = {"code": "invalid", "message": message, "field": refused.field if refused else None}
        return JsonResponse({"error": error}, status=422, content_type="application/json; charset=utf-8")
    return HttpResponseBadRequest(loader.get_template("400.html").render({"message": message}))

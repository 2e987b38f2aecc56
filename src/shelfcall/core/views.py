"""Error pages that need more than Django's defaults."""

import sys

from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.views.defaults import server_error as django_server_error
from psycopg_pool import PoolTimeout

# What a browser or client is told to wait before trying again when every connection is busy.
BUSY_RETRY_AFTER_SECONDS = 5


def _waited_too_long_for_a_connection(error: BaseException | None) -> bool:
    """Django wraps the pool's PoolTimeout in its own OperationalError; the original is the cause."""
    return isinstance(error, PoolTimeout) or isinstance(getattr(error, "__cause__", None), PoolTimeout)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a request that waited for a database connection longer than the pool allows is
    not a bug but a busy moment, so it gets a 503 saying when to retry; anything else is a 500."""
    if not _waited_too_long_for_a_connection(sys.exc_info()[1]):
        return django_server_error(request)
    # Rendered without the request, as Django's own error pages are: no context processor may need
    # the database that is out of connections.
    response = HttpResponse(loader.get_template("503.html").render(), status=503)
    response["Retry-After"] = str(BUSY_RETRY_AFTER_SECONDS)
    return response

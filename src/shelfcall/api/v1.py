"""The Integration API, version 1: `/api/v1/`, its OpenAPI document and its docs page."""

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI

from shelfcall.api.endpoints import events, orders, webhooks
from shelfcall.api.responses import error_response, install_error_handlers

DESCRIPTION = """Shelfcall's API for tills, self-checkouts, POS and webshops.

Authenticate with `Authorization: Bearer sc_…` (an API key made in the admin or with
`shelfcall manage create_api_key`). Errors are always JSON:
`{"error": {"code": "…", "message": "…", "field": "…" | null}}` — 401 without a valid key,
403 when the key lacks the endpoint's scope, 404 for what does not exist *or belongs to a store the
key does not reach*, 422 for bad input, 429 (with Retry-After) over the key's rate limit.
Writes accept `Idempotency-Key`."""


def new_api(*, urls_namespace: str = "api-v1") -> NinjaAPI:
    """An API with Shelfcall's error handling; tests build small ones to exercise the machinery."""
    api = NinjaAPI(
        title="Shelfcall API",
        version="1",
        description=DESCRIPTION,
        urls_namespace=urls_namespace,
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    install_error_handlers(api)
    return api


api = new_api()
api.add_router("/", orders.router)
api.add_router("/", events.router)
api.add_router("/", webhooks.router)


def no_such_endpoint(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Unknown paths under /api/v1/ answer in the API's shape, not with the HTML 404 page."""
    return error_response(api, request, 404, "not_found", _("No such endpoint: see /api/v1/docs."), None)

"""The Integration API, version 1: `/api/v1/`, its OpenAPI document and its docs page."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.openapi.schema import OpenAPISchema

from shelfcall.api import event_schemas
from shelfcall.api.endpoints import actions, catalog, customer_orders, events, orders, payments, webhooks
from shelfcall.api.responses import error_response, install_error_handlers

DESCRIPTION = """Shelfcall's API for tills, self-checkouts, POS and webshops.

Authenticate with `Authorization: Bearer sc_…` (an API key made in the admin or with
`shelfcall manage create_api_key`). Errors are always JSON:
`{"error": {"code": "…", "message": "…", "field": "…" | null}}` — 401 without a valid key,
403 when the key lacks the endpoint's scope, 404 for what does not exist *or belongs to a store the
key does not reach*, 422 for bad input, 429 (with Retry-After) over the key's rate limit.
Writes accept `Idempotency-Key`.

## Events

The events feed (`GET /events`) and webhooks publish the same events. Each has a `type` and a
`payload` whose schema depends on it (the feed's `*Event` schemas; the webhooks section describes
each webhook). A webhook's body is `{"type", "timestamp", "data"}` (Standard Webhooks 1.0), `data`
holding the order's ids and state and the event's `payload`.

"""


class ShelfcallAPI(NinjaAPI):
    def get_openapi_schema(self, **kwargs: Any) -> OpenAPISchema:
        """Ninja's document, with the webhooks Shelfcall sends (an OpenAPI 3.1 section ninja does not make)."""
        schema = super().get_openapi_schema(**kwargs)
        event_schemas.add_webhooks(schema)
        return schema


def new_api(*, urls_namespace: str = "api-v1") -> NinjaAPI:
    """An API with Shelfcall's error handling; tests build small ones to exercise the machinery."""
    api = ShelfcallAPI(
        title="Shelfcall API",
        version="1",
        description=DESCRIPTION + event_schemas.events_table(),
        urls_namespace=urls_namespace,
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    install_error_handlers(api)
    return api


api = new_api()
# customer_orders adds its endpoints to orders.router: ninja serves a path (/orders) from one router only.
assert customer_orders.router is orders.router
api.add_router("/", orders.router)
api.add_router("/", events.router)
api.add_router("/", actions.router)
api.add_router("/", payments.router)
api.add_router("/", catalog.router)
api.add_router("/", webhooks.router)


@csrf_exempt  # a POST to a path no endpoint matches (e.g. /orders/abc/lines) gets this 404, not a CSRF page
def no_such_endpoint(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Unknown paths under /api/v1/ answer in the API's shape, not with the HTML 404 page."""
    return error_response(api, request, 404, "not_found", _("No such endpoint: see /api/v1/docs."), None)

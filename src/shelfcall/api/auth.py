"""Bearer authentication with an API key, its scope, and its rate limit: one callable per scope, so
each endpoint states in its decorator (and in the OpenAPI document) what it needs."""

from django.conf import settings
from django.http import HttpRequest
from ninja.security import HttpBearer

from shelfcall.api import keys
from shelfcall.api.errors import MissingScope
from shelfcall.api.models import ApiKey
from shelfcall.api.scopes import Scope
from shelfcall.core import throttle


class ApiRequest(HttpRequest):
    """A request that a `KeyAuth` let in: ninja sets `auth` to the key `authenticate` returned."""

    auth: ApiKey


def api_rate() -> throttle.Rate:
    return throttle.Rate("api-key", settings.SHELFCALL_API_RATE_PER_MINUTE, 60)


# A till's key makes several calls a second: its hits are counted in blocks, not one upsert per call.
API_ALLOWANCE = throttle.Allowance()


class KeyAuth(HttpBearer):
    """`Authorization: Bearer sc_…`; `scope` None means any valid key (e.g. listing its own stores)."""

    def __init__(self, scope: Scope | None = None) -> None:
        super().__init__()
        self.scope = scope

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey:
        api_key = keys.authenticate(token)
        # Counted per key before the scope check: a key cannot probe for free either.
        API_ALLOWANCE.check(api_rate(), api_key.prefix)
        if self.scope is not None and self.scope not in api_key.scopes:
            raise MissingScope(self.scope)
        return api_key


ANY_KEY = KeyAuth()
ORDERS_READ = KeyAuth(Scope.ORDERS_READ)
ORDERS_WRITE = KeyAuth(Scope.ORDERS_WRITE)
PAYMENTS_WRITE = KeyAuth(Scope.PAYMENTS_WRITE)
CATALOG_WRITE = KeyAuth(Scope.CATALOG_WRITE)
WEBHOOKS_WRITE = KeyAuth(Scope.WEBHOOKS_WRITE)

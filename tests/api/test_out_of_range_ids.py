"""A number beyond what the database can hold, in a path or a filter: a 4xx, never a 500 (SQLite cannot
even compare such a number; schemathesis found the first one)."""

import pytest

from shelfcall.api.scopes import Scope

pytestmark = pytest.mark.django_db
HUGE = "99999999999999999999999"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/orders?store=-1196028060523364352000",
        f"/api/v1/orders?store={HUGE}",
        f"/api/v1/orders/{HUGE}",
        f"/api/v1/orders/by-code/SC1001?store={HUGE}",
        f"/api/v1/orders/search?phone=0612345678&store={HUGE}",
        f"/api/v1/products?store={HUGE}",
        f"/api/v1/showcases?store={HUGE}",
        f"/api/v1/orders/{HUGE}/payments",
        f"/api/v1/webhooks/{HUGE}",
    ],
)
def test_out_of_range_numbers_are_refused_not_crashed_on(api_get, make_key, store, path):
    response = api_get(path, make_key(store, *Scope))
    assert response.status_code in {404, 422}, response.content[:300]
    assert response.json()["error"]["code"] in {"not_found", "invalid"}

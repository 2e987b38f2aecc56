"""Sub-statuses through the API: set by code, read back on the order, refused with the reason."""

import pytest

from shelfcall.api.scopes import Scope
from tests.factories import make_showcase, make_store, submit
from tests.orders.sub_status_factory import sub_status

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(store):
    return submit(make_showcase(store))


@pytest.fixture
def key(store, make_key):
    return make_key(store, Scope.ORDERS_READ, Scope.ORDERS_WRITE)


def test_a_store_system_sets_it_by_code_and_reads_it_back(api_post, api_get, key, store, order):
    sub_status(store, "submitted", "waiting", shopper_texts={"en": "Fetching it."})
    response = api_post(f"/api/v1/orders/{order.pk}/sub-status", key, {"code": "waiting"})
    assert response.status_code == 200, response.content
    expected = {"code": "waiting", "name": "Waiting", "shopper_text": "Fetching it."}
    assert response.json()["sub_status"] == expected
    assert api_get(f"/api/v1/orders/{order.pk}", key).json()["sub_status"] == expected
    cleared = api_post(f"/api/v1/orders/{order.pk}/sub-status", key, {"code": None})
    assert cleared.json()["sub_status"] is None


def test_unknown_and_not_allowed_codes_are_refused_with_the_reason(api_post, key, store, order):
    sub_status(store, "submitted", "waiting")
    sub_status(store, "submitted", "later", entry=False)
    other_org = sub_status(make_store(), "submitted", "theirs")
    unknown = api_post(f"/api/v1/orders/{order.pk}/sub-status", key, {"code": other_org.code})
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (422, "unknown_sub_status")
    refused = api_post(f"/api/v1/orders/{order.pk}/sub-status", key, {"code": "later"})
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "sub_status_not_allowed")
    assert "it may go to: Waiting." in refused.json()["error"]["message"]
    bad = api_post(f"/api/v1/orders/{order.pk}/sub-status", key, {"code": "no spaces"})
    assert bad.status_code == 422

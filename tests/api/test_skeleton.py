import re

import pytest
from django.db import InterfaceError, OperationalError

from shelfcall.api.auth import api_rate
from shelfcall.api.scopes import Scope
from shelfcall.core.middleware import CONTENT_SECURITY_POLICY
from shelfcall.orders.errors import AlreadyClaimed, NothingToRefund, OrderNotFound, WrongStatus

pytestmark = pytest.mark.django_db


def _error(response):
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return response.json()["error"]


def test_no_key_is_401_in_json(api_get):
    response = api_get("/api/v1/orders", None)
    assert response.status_code == 401 and _error(response)["code"] == "unauthenticated"


@pytest.mark.parametrize("header", ["Basic abc", "Bearer", "Bearer sc_nope", "sc_0123456789ab_" + "a" * 43])
def test_malformed_authorization_is_401(client, till_key, header):
    response = client.get("/api/v1/orders", headers={"Authorization": header})
    assert response.status_code == 401 and _error(response)["code"] == "unauthenticated"


def test_missing_scope_is_403_naming_it(api_get, make_key, store):
    response = api_get("/api/v1/orders", make_key(store, Scope.CATALOG_WRITE))
    assert response.status_code == 403 and _error(response)["code"] == "missing_scope"
    assert "orders:read" in _error(response)["message"]


@pytest.mark.parametrize("path", ["/api/v1/nothing/here", "/api/v1/orders/1%0A", "/api/v1/x%0Ay/z%0A"])
def test_unknown_endpoint_is_404_in_json(api_get, till_key, path):
    response = api_get(path, till_key)  # a newline in the path too (found by the schema fuzz)
    assert response.status_code == 404 and _error(response)["code"] == "not_found"


@pytest.mark.parametrize(
    "failure", [OperationalError("the database system is shutting down"), InterfaceError("closed")]
)
def test_a_database_restart_is_a_503_with_retry_after_not_a_500(api_get, till_key, monkeypatch, failure):
    def database_down(*args, **kwargs):
        raise failure

    monkeypatch.setattr("shelfcall.api.endpoints.orders.queries.list_orders", database_down)
    response = api_get("/api/v1/orders", till_key)
    assert response.status_code == 503 and _error(response)["code"] == "database_unavailable"
    assert int(response["Retry-After"]) > 0 and "again" in _error(response)["message"]


def test_a_method_the_path_does_not_take_is_405_in_json(client, till_key):
    response = client.delete("/api/v1/stores", headers={"Authorization": f"Bearer {till_key.plaintext}"})
    assert response.status_code == 405 and _error(response)["code"] == "method_not_allowed"
    assert response["Allow"] == "GET" and "GET" in _error(response)["message"]


def test_rate_limited_per_key_with_retry_after(api_get, till_key, make_key, store, rate_limits, settings):
    settings.SHELFCALL_API_RATE_PER_MINUTE = 2
    assert api_rate().limit == 2
    for _ in range(2):
        assert api_get("/api/v1/stores", till_key).status_code == 200
    refused = api_get("/api/v1/stores", till_key)
    assert refused.status_code == 429 and _error(refused)["code"] == "rate_limited"
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert api_get("/api/v1/stores", make_key(store, name="Till 2")).status_code == 200, "counted per key"


def test_domain_errors_carry_their_status():
    assert OrderNotFound().status == 404
    assert WrongStatus(1001, "Ready", "claimed").status == 409
    assert AlreadyClaimed(1001, "Alex").status == 409
    assert NothingToRefund("0").status == 422


def test_docs_load_only_bundled_scripts_under_the_csp(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and page["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    html = page.content.decode()
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert sources and all(source.startswith("/static/ninja/") for source in sources), sources
    assert not re.search(r"<script(?![^>]*(?:src=|application/json))", html), "no inline script (CSP)"
    for source in sources:
        assert client.get(source).status_code == 200, source


def test_openapi_documents_every_endpoint_with_errors_and_auth(client):
    document = client.get("/api/v1/openapi.json").json()
    assert document["components"]["securitySchemes"]["KeyAuth"]["scheme"] == "bearer"
    operations = [op for path in document["paths"].values() for op in path.values()]
    assert len(operations) >= 6
    schemas = document["components"]["schemas"]
    for operation in operations:
        responses = operation["responses"]
        assert {"401", "403", "404", "422", "429"} <= set(responses), operation["operationId"]
        assert {"200", "201", "202", "204"} & set(responses), f"{operation['operationId']}: no success documented"
        assert operation["security"], operation["operationId"]
        for status, response in responses.items():
            if status == "204":  # no content
                continue
            name = response["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
            assert schemas[name].get("examples"), f"{operation['operationId']} {status}: no example"


@pytest.mark.parametrize("body", ["{not json", "\x00", "[1, 2"])
def test_a_body_that_is_not_json_is_a_422_naming_the_body(client, make_key, store, body):
    key = make_key(store, *Scope)
    response = client.post(
        "/api/v1/orders", body, content_type="application/json", headers={"Authorization": f"Bearer {key.plaintext}"}
    )
    assert response.status_code == 422 and _error(response)["field"] == "body", response.content

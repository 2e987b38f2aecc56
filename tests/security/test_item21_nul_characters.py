"""Item 21: a NUL character (%00) in an address, a query string, a form's fields or a JSON body's strings is
refused with a 400 (the API: its own error shape) saying where it is. PostgreSQL cannot hold NUL in text:
it raised "A string literal cannot contain NUL" from the query, a 500."""

import json

import pytest
from django.test import Client

from shelfcall.api.keys import issue_key
from shelfcall.api.scopes import Scope
from shelfcall.orders import actions
from shelfcall.orders.models import Order
from shelfcall.stores.models import Role
from tests.factories import make_product, make_showcase, make_store, make_user, staff, submit

pytestmark = pytest.mark.django_db

NUL = "\x00"


@pytest.fixture
def shop():
    store = make_store()
    product = make_product(store, sku="MUG-1", on_hand=50)
    showcase = make_showcase(store, products=[product])
    order = submit(showcase)
    actions.claim_order(order.pk, by=staff(store, "Sam"))
    supervisor = make_user(store, name="Sue", role=Role.SUPERVISOR)
    associate = Client(raise_request_exception=False)
    associate.force_login(supervisor)
    key = issue_key(
        organization=store.organization, store=store, name="POS", scopes=[Scope.ORDERS_READ, Scope.ORDERS_WRITE]
    )
    return {"store": store, "showcase": showcase, "order": order, "staff": associate, "key": key.plaintext}


def _says_where(response, where: str) -> None:
    assert response.status_code == 400, response.content[:300]
    page = response.content.decode()
    assert f"“{where}” contains a NUL character" in page


def test_a_form_field_on_a_staff_page(shop):
    order = shop["order"]
    response = shop["staff"].post(f"/w/orders/{order.pk}/cancel", {"reason": f"gone{NUL}"})
    _says_where(response, "reason")
    assert Order.objects.get(pk=order.pk).status == "picking"


def test_a_multipart_form_field(shop):
    order = shop["order"]
    response = shop["staff"].post(f"/w/orders/{order.pk}/cancel", {"reason": f"gone{NUL}"}, format="multipart")
    _says_where(response, "reason")


def test_a_query_string_on_a_staff_page(shop):
    _says_where(shop["staff"].get("/w/", {"q": f"Ann{NUL}"}), "q")
    _says_where(shop["staff"].get("/hq/", {"q": f"Ann{NUL}"}), "q")


def test_a_shopper_page(shop):
    code = shop["showcase"].code
    shopper = Client(raise_request_exception=False)
    shopper.post(f"/s/{code}/add", {"product": shop["order"].lines.get().product_id})
    submitted = {"name": f"Ann{NUL}", "phone": "+33612345678", "email": "", "submission_key": "k1"}
    _says_where(shopper.post(f"/s/{code}/submit", submitted), "name")
    assert Order.objects.count() == 1


def test_an_address(shop):
    shopper = Client(raise_request_exception=False)
    for path in (f"/s/{shop['showcase'].code}%00", "/o/abc%00def", "/p/%00"):
        response = shopper.get(path)
        assert response.status_code == 400
        assert "The address contains a NUL character" in response.content.decode()


def test_the_message_is_translated(shop):
    response = shop["staff"].get("/w/", {"q": NUL}, headers={"Accept-Language": "fr"})
    assert response.status_code == 400
    assert "NUL" in response.content.decode() and "contains" not in response.content.decode()


def _api(shop, method: str, path: str, body: object = None, **params: str):
    client = Client(raise_request_exception=False)
    headers = {"Authorization": f"Bearer {shop['key']}"}
    if body is None:
        return client.generic(method, path + ("?" + "&".join(f"{k}={v}" for k, v in params.items())), headers=headers)
    return client.generic(method, path, json.dumps(body), "application/json", headers=headers)


def test_a_json_string_in_the_api_names_its_field(shop):
    body = {"source": "pos", "comments": "ok", "lines": [{"sku": "MUG-1", "qty": 1, "note": f"a{NUL}"}]}
    response = _api(shop, "POST", "/api/v1/orders", body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("invalid", "lines.0.note")
    assert "NUL" in error["message"]
    assert Order.objects.count() == 1


def test_a_json_key_in_the_api(shop):
    response = _api(shop, "POST", "/api/v1/orders", {"source": "pos", f"x{NUL}": 1, "lines": []})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "x\u2400"


def test_a_json_body_sent_as_plain_text(shop):
    """Ninja reads the body as JSON whatever its declared type."""
    client = Client(raise_request_exception=False)
    body = json.dumps({"source": "pos", "comments": NUL, "lines": [{"sku": "MUG-1", "qty": 1}]})
    response = client.post(
        "/api/v1/orders", body, content_type="text/plain", headers={"Authorization": f"Bearer {shop['key']}"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "comments"


def test_a_query_parameter_of_the_api(shop):
    response = _api(shop, "GET", "/api/v1/orders/search", email="ann%00@example.com")
    assert response.status_code == 422
    assert response.json()["error"] | {"message": ""} == {"code": "invalid", "field": "email", "message": ""}


def test_a_path_of_the_api(shop):
    response = _api(shop, "GET", "/api/v1/orders/by-code/SC1%00")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid"


@pytest.mark.parametrize("length", ["abc", "-1", "\u0663", "9" * 5000])
def test_a_content_length_that_is_no_number_is_a_400(shop, length):
    """Django's reading of a form or JSON body trusts it: int() raised, or a negative length, a 500."""
    order = shop["order"]
    response = shop["staff"].post(f"/w/orders/{order.pk}/cancel", {"reason": "gone"}, CONTENT_LENGTH=length)
    assert response.status_code == 400
    assert "Content-Length" in response.content.decode()
    body = json.dumps({"source": "pos", "lines": [{"sku": "MUG-1", "qty": 1}]})
    headers = {"Authorization": f"Bearer {shop['key']}"}
    response = Client().post("/api/v1/orders", body, "application/json", headers=headers, CONTENT_LENGTH=length)
    assert (response.status_code, response.json()["error"]["field"]) == (422, "Content-Length")


def test_text_without_nul_passes(shop):
    assert shop["staff"].get("/w/", {"q": "Ann"}).status_code == 200
    assert _api(shop, "GET", "/api/v1/orders/search", email="ann@example.com").status_code == 200

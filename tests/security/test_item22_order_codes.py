"""Item 22: an order code typed or scanned (SC1001 or 1001) is read by one rule, orders.models.read_order_code,
at every place it is typed: the prefix in ASCII letters (str.upper() made a long s an S), the number in ASCII
digits (no Arabic-Indic, no fullwidth ones), leading zeros the same number (01001 is 1001, as the API read it)."""

import pytest
from django.test import Client

from shelfcall.api.keys import issue_key
from shelfcall.api.scopes import Scope
from shelfcall.orders import actions
from shelfcall.orders.errors import PickupCodeMismatch
from shelfcall.orders.models import MAX_ORDER_NUMBER, read_order_code
from shelfcall.stores.models import Role
from tests.factories import make_org_member, make_product, make_showcase, make_store, make_user, staff, staged, submit

_ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def odd_codes(number: int) -> list[str]:
    digits = str(number)
    return [
        f"ſc{digits}",  # the long s, which str.upper() turns into S
        f"SC{digits.translate(_ARABIC_INDIC)}",
        digits.translate(_FULLWIDTH),
        f"ＳＣ{digits}",
        f"SC {digits}",
        f"SC{digits}x",
        f"S{digits}",
        f"SC-{digits}",
        f"+{digits}",
    ]


def good_codes(number: int) -> list[str]:
    digits = str(number)
    return [f"SC{digits}", f"sc{digits}", f"Sc{digits}", digits, f"0{digits}", f"SC000{digits}", f" {digits}\n"]


def test_the_rule():
    for code in good_codes(1001):
        assert read_order_code(code) == 1001, code
    for code in odd_codes(1001):
        assert read_order_code(code) is None, code
    assert read_order_code(str(MAX_ORDER_NUMBER)) == MAX_ORDER_NUMBER
    for code in ["", "SC", "0", str(MAX_ORDER_NUMBER + 1), "9" * 5000]:
        assert read_order_code(code) is None, code


@pytest.fixture
def shop(db):
    store = make_store()
    showcase = make_showcase(store, products=[make_product(store, on_hand=50)])
    order = submit(showcase)
    associate = Client(raise_request_exception=False)
    associate.force_login(make_user(store, name="Sue", role=Role.SUPERVISOR))
    head_office = Client(raise_request_exception=False)
    head_office.force_login(make_org_member(store.organization))
    key = issue_key(organization=store.organization, store=store, name="Till", scopes=[Scope.ORDERS_READ])
    return {"store": store, "order": order, "staff": associate, "hq": head_office, "key": key.plaintext}


@pytest.mark.django_db
def test_the_hand_off_confirmation(shop):
    order, store = shop["order"], shop["store"]
    staged(order, staff(store))
    actions.mark_paid(order.pk, by=staff(store))
    for code in odd_codes(order.number):
        with pytest.raises(PickupCodeMismatch):
            actions.hand_off_order(order.pk, by=staff(store), pickup_code=code)
    done = actions.hand_off_order(order.pk, by=staff(store), pickup_code=f"0{order.number}")
    assert done.status == "completed"


def _found_in_workspace(shop, code: str) -> dict[str, bool]:
    order, client = shop["order"], shop["staff"]
    queue = client.get("/w/", {"q": code, "filter": "all"})
    return {
        "till": client.get("/w/till", {"code": code}).context["order"] == order,
        "hand-off": client.get("/w/handoff", {"code": code}).status_code == 302,
        "queue": any(row.pk == order.pk for row in queue.context["orders"]),
    }


def _found_at_head_office(shop, code: str) -> bool:
    response = shop["hq"].get("/hq/", {"q": code})
    assert response.status_code == 200
    return any(row.pk == shop["order"].pk for row in response.context["page"].orders)


def _found_by_the_api(shop, code: str) -> dict[str, int]:
    client, headers = Client(raise_request_exception=False), {"Authorization": f"Bearer {shop['key']}"}
    return {
        "by-code": client.get(f"/api/v1/orders/by-code/{code}", headers=headers).status_code,
        "search": client.get("/api/v1/orders/search", {"number": code}, headers=headers).status_code,
    }


@pytest.mark.django_db
def test_the_workspace_searches(shop):
    number = shop["order"].number
    for code in good_codes(number):
        assert _found_in_workspace(shop, code) == {"till": True, "hand-off": True, "queue": True}, code
    for code in odd_codes(number):
        assert _found_in_workspace(shop, code) == {"till": False, "hand-off": False, "queue": False}, code


@pytest.mark.django_db
def test_the_head_office_search(shop):
    number = shop["order"].number
    for code in good_codes(number):
        assert _found_at_head_office(shop, code), code
    for code in odd_codes(number):
        assert not _found_at_head_office(shop, code), code


@pytest.mark.django_db
def test_the_api_look_ups(shop):
    number = shop["order"].number
    for code in good_codes(number):
        assert _found_by_the_api(shop, code.strip()) == {"by-code": 200, "search": 200}, code
    for code in odd_codes(number):
        assert _found_by_the_api(shop, code) == {"by-code": 422, "search": 422}, code

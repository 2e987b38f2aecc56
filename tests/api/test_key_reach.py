"""One rule for the orders a store key reaches (api/queries.py, `reach_of`): its store's, and those it took
for pick-up at another store, for every read and every write; another store's key gets the 404 of no order."""

import pytest

from shelfcall.api.scopes import Scope
from shelfcall.orders.models import Order, OrderStatus
from tests.factories import make_product, make_showcase, make_store, submit

pytestmark = pytest.mark.django_db

SCOPES = (Scope.ORDERS_READ, Scope.ORDERS_WRITE, Scope.PAYMENTS_WRITE)


@pytest.fixture
def stores():
    """The store that took the order (at its till), the sister store that fills it, and a third one."""
    taking = make_store()
    return {name: make_store(organization=taking.organization) for name in ("filling", "third")} | {"taking": taking}


@pytest.fixture
def order(stores) -> Order:
    product = make_product(stores["filling"], price="10.00")
    order = submit(make_showcase(stores["filling"], products=[product]), {product: 1})
    Order.objects.filter(pk=order.pk).update(origin_store=stores["taking"])
    return order


def _lifecycle(order: Order) -> list[tuple[str, str, dict | None, int]]:
    """Each call of a lifecycle, reads between: (method, url, body, the status it answers when allowed)."""
    url = f"/api/v1/orders/{order.pk}"
    line = order.lines.get()
    return [
        ("get", url, None, 200),
        ("post", f"{url}/claim", {}, 200),
        ("post", f"{url}/lines/{line.pk}/pick", {"qty": 1}, 200),
        ("post", f"{url}/ready-for-pickup", {"location": "desk"}, 200),
        ("post", f"{url}/mark-paid", {"method": "card"}, 201),
        ("get", f"{url}/payments", None, 200),
        ("post", f"{url}/hand-off", {}, 200),
        ("get", f"{url}/allowed-actions", None, 200),
    ]


@pytest.mark.parametrize("whose", ["taking", "filling"])
def test_the_taking_and_the_filling_stores_keys_each_reach_every_step(api_call, make_key, stores, order, whose):
    """A third store's key is refused each step, as for no order at all, and changes nothing; then the
    order's own key takes the step."""
    mine, third = make_key(stores[whose], *SCOPES), make_key(stores["third"], *SCOPES, name="Till 3")
    for method, url, body, allowed in _lifecycle(order):
        events = order.events.count()
        refused = api_call(method, url, third, body)
        assert (refused.status_code, refused.json()["error"]["code"]) == (404, "not_found"), url
        assert order.events.count() == events, f"{url}: nothing written for another store's key"
        response = api_call(method, url, mine, body)
        assert response.status_code == allowed, (url, response.content)
    order.refresh_from_db()
    assert (order.status, order.payment_status) == (OrderStatus.COMPLETED, "paid")

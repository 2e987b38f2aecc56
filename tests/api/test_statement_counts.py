"""The statements of each API step of a till's full lifecycle, pinned (benchmarks/http_lifecycle.py runs it
under load): create -> claim -> pick each line -> ready for pickup -> mark paid -> hand off, and the look-ups.

What the API itself adds to an action: nothing for the key (each process keeps it, api/keys.py), and the order
found through the key in one statement (its lines joined to it, with its store and holder). Ready for
pickup (whose read joins the drop zone it names) takes that read as its own and answers with the order as
it left it; a claim for the store and a pick are written first, their conditional UPDATE returning the order
and its lines (only one refused reads the order, to say why); a new order is answered as made. A payment's
and the hand-off's locked read of the order, with its lines, is the key's look-up too, and they answer with
the order as they left it. The rest is the action's own (orders/actions/). With rate limits on, one upsert
per ten requests more (core/throttle.py)."""

import pytest

from shelfcall.api.auth import api_rate
from shelfcall.api.scopes import Scope
from shelfcall.core.throttle import Allowance
from tests.factories import make_drop_zone, make_product

pytestmark = pytest.mark.django_db

# Per step, for an order of two lines. Lower them when a change saves statements; never raise them quietly.
STEPS = {
    # one read: the store, the products named, their stock, the order with that external id (none; orders/
    # creation_read.py); the number, the order, its lines, the stock held, reservations, journal, event
    # (answered as made: no read back)
    "create": 8,
    "claim": 2,  # its conditional update among the key's orders, returning the order with its lines; its event
    # the line's conditional count among the key's orders, returning the units now picked and the order with
    # its lines (orders/order_json.py); its event
    "pick": 2,
    "ready": 3,  # the order found with the drop zone named (joined to its store); the conditional update, its event
    "pay": 4,  # the order locked with its lines, among the key's stores; its sums, the event, the payment row
    # the order locked with its lines and their reservations, among the orders the key reaches; the order's
    # update, the stock, the reservations, their journal, the event
    "hand off": 6,
}
LOOK_UPS = {"by code": 1, "by id": 1, "by external id": 1}


@pytest.fixture
def till(store, make_key):
    return make_key(store, Scope.ORDERS_READ, Scope.ORDERS_WRITE, Scope.PAYMENTS_WRITE)


@pytest.fixture
def skus(store):
    return [make_product(store, on_hand=50).sku for _ in range(2)]


def _lifecycle(api_post, till, skus, desk, count_statements) -> dict[str, int]:
    """Run one lifecycle, each step inside its pinned count; returns what each step took."""
    took = {}

    def step(name: str, url: str, body: dict) -> dict:
        with count_statements(STEPS[name]) as statements:
            response = api_post(url, till, body)
        assert response.status_code in {200, 201}, response.content
        took[name] = max(took.get(name, 0), len(statements))
        return response.json()

    order = step(
        "create",
        "/api/v1/orders",
        {"source": "pos", "external_id": "till-1", "lines": [{"sku": sku, "qty": 1} for sku in skus]},
    )
    base = f"/api/v1/orders/{order['id']}"
    step("claim", f"{base}/claim", {})
    for line in order["lines"]:
        step("pick", f"{base}/lines/{line['id']}/pick", {"qty": 1})
    step("ready", f"{base}/ready-for-pickup", {"drop_zone_id": desk.pk})
    step("pay", f"{base}/mark-paid", {"method": "card"})
    done = step("hand off", f"{base}/hand-off", {"pickup_code": order["barcode"]})
    assert done["status"] == "completed" and done["payment_status"] == "paid"
    return took


def _warm(api_post, till, skus) -> dict:
    """A first order: the key is read (and its use written), the store's notification and timer policies
    are read, once per process and not again for a while (api/keys.py, notify/policies.py)."""
    response = api_post(
        "/api/v1/orders", till, {"source": "pos", "external_id": "warm", "lines": [{"sku": skus[0], "qty": 1}]}
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_each_step_of_a_lifecycle_stays_within_its_statements(api_post, store, till, skus, count_statements):
    _warm(api_post, till, skus)
    took = _lifecycle(api_post, till, skus, make_drop_zone(store), count_statements)
    assert took == STEPS, "fewer statements now? lower STEPS to what each step takes"


def test_look_ups_are_one_statement(api_get, api_post, till, skus, count_statements):
    order = _warm(api_post, till, skus)
    look_ups = {
        "by code": f"/api/v1/orders/by-code/{order['barcode']}",
        "by id": f"/api/v1/orders/{order['id']}",
        "by external id": "/api/v1/orders/by-external-id?source=pos&external_id=warm",
    }
    for name, url in look_ups.items():
        with count_statements(LOOK_UPS[name]) as statements:
            assert api_get(url, till).json()["id"] == order["id"]
        assert len(statements) == LOOK_UPS[name], name


def test_rate_limits_add_one_statement_per_block_of_requests(
    api_get, api_post, till, skus, count_statements, rate_limits
):
    """The key's hits are counted ten at a time at the default 600 a minute (core/throttle.py, Allowance)."""
    order = _warm(api_post, till, skus)
    url = f"/api/v1/orders/by-code/{order['barcode']}"
    block = Allowance.block(api_rate())
    assert block == 10
    with count_statements(LOOK_UPS["by code"] * block + 1) as statements:
        for _ in range(block):
            assert api_get(url, till).status_code == 200
    assert len(statements) == block + 1

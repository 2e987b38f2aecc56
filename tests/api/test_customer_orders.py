"""POS customer orders and webshop imports through the API: create, recall, change lines, the journal."""

import json
from collections import Counter

import pytest

from shelfcall.api.scopes import Scope
from shelfcall.catalog.models import StockLevel
from shelfcall.orders import actions
from shelfcall.orders.models import Order, OrderEvent, OrderLine, Reservation, ReservationEntry
from shelfcall.orders.queries import last_event_id
from tests.factories import make_drop_zone, make_product, make_store, staff, stock_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def pos_key(store, make_key):
    return make_key(store, Scope.ORDERS_READ, Scope.ORDERS_WRITE, name="POS 1")


@pytest.fixture
def shaver(store):
    return make_product(store, sku="SHV-S9P", upc="4006381333931", price="299.99", on_hand=5)


@pytest.fixture
def blades(store):
    return make_product(store, sku="BLD-10", upc="4006381333948", price="19.50", on_hand=8)


@pytest.fixture
def send(client):
    def send(method: str, path: str, key, body=None, **headers):
        headers = {"Authorization": f"Bearer {key.plaintext}", **headers}
        return client.generic(
            method, path, json.dumps(body) if body is not None else "", "application/json", headers=headers
        )

    return send


def _error(response):
    return response.json()["error"]


def _nothing_written():
    counts = [model.objects.count() for model in (Order, OrderLine, Reservation, ReservationEntry, OrderEvent)]
    return counts == [0] * 5 and not StockLevel.objects.filter(reserved__gt=0).exists()


def _order_body(**fields):
    return {"source": "pos", "lines": [{"sku": "SHV-S9P", "qty": 1}, {"barcode": "4006381333948", "qty": 2}]} | fields


class TestCreate:
    def test_a_pos_customer_order_holds_its_stock(self, send, pos_key, store, shaver, blades):
        body = _order_body(
            comments="Gift wrap, please.\nCall first.",
            customer={"name": "Kim", "phone": "+33 6 12 34 56 78", "email": "Kim@Example.com"},
        )
        response = send("POST", "/api/v1/orders", pos_key, body)
        assert response.status_code == 201, response.content
        created = response.json()
        assert created["source"] == "pos" and created["status"] == "submitted" and created["total"] == "338.99"
        assert created["contact"] == {"name": "Kim", "phone": "+33 6 12 34 56 78", "email": "kim@example.com"}
        assert created["comments"] == "Gift wrap, please.\nCall first." and created["delivery"] == "pickup_here"
        assert created["origin_store_id"] is None and created["store_id"] == store.pk
        assert response["ETag"] == f'"{created["version"]}"'
        assert [(line["sku"], line["requested"]) for line in created["lines"]] == [("SHV-S9P", 1), ("BLD-10", 2)]
        assert (stock_of(shaver, store).reserved, stock_of(blades, store).reserved) == (1, 2)
        order = Order.objects.get()
        event = order.events.get()
        assert (event.type, event.actor_kind, event.actor_label) == ("order.created", "api", "POS 1")
        assert created["version"] == event.pk
        entries = list(order.reservation_entries.values_list("kind", "qty", "reason", "actor_label"))
        assert entries == [("hold", 1, "created", "POS 1"), ("hold", 2, "created", "POS 1")]

    def test_a_webshop_import_is_one_order_however_often_it_is_sent(self, send, pos_key, shaver, blades):
        body = _order_body(source="online", external_id="shop-1001", due_at="2030-01-02T10:00:00Z")
        first = send("POST", "/api/v1/orders", pos_key, body)
        assert first.status_code == 201 and first.json()["due_at"] == "2030-01-02T10:00:00Z"
        changed = _order_body(source="online", external_id="shop-1001", lines=[{"sku": "BLD-10", "qty": 1}])
        again = send("POST", "/api/v1/orders", pos_key, changed)
        assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
        replayed = send("POST", "/api/v1/orders", pos_key, body, **{"Idempotency-Key": "k1"})
        assert replayed.status_code == 200
        assert send("POST", "/api/v1/orders", pos_key, body, **{"Idempotency-Key": "k1"}).json() == replayed.json()
        assert Order.objects.count() == 1 and ReservationEntry.objects.count() == 2
        as_pos = send("POST", "/api/v1/orders", pos_key, _order_body(external_id="shop-1001"))
        assert as_pos.status_code == 201, "unique per source: a POS order of that id is another order"

    def test_pick_up_at_another_store_of_the_organization(self, send, pos_key, store, make_key):
        sister = make_store(organization=store.organization)
        sister_shaver = make_product(sister, sku="SHV-S9P", on_hand=2)
        body = {
            "source": "pos",
            "lines": [{"sku": "SHV-S9P", "qty": 1}],
            "delivery": "pickup_other_store",
            "pickup_store": sister.pk,
        }
        response = send("POST", "/api/v1/orders", pos_key, body)
        assert response.status_code == 201, response.content
        created = response.json()
        assert (created["store_id"], created["origin_store_id"], created["delivery"]) == (
            sister.pk,
            store.pk,
            "pickup_other_store",
        )
        assert stock_of(sister_shaver, sister).reserved == 1
        assert send("GET", f"/api/v1/orders/{created['id']}", pos_key).status_code == 200, "the taking store reads it"
        sister_key = make_key(sister)
        assert send("GET", f"/api/v1/orders/{created['id']}", sister_key).status_code == 200

    def test_pick_up_only_at_another_store_of_the_organization(self, send, pos_key, store, shaver):
        for elsewhere in (store, make_store()):
            body = _order_body(delivery="pickup_other_store", pickup_store=elsewhere.pk)
            response = send("POST", "/api/v1/orders", pos_key, body)
            assert (response.status_code, _error(response)["field"]) == (422, "pickup_store")
        assert _nothing_written()

    @pytest.mark.parametrize(
        ("change", "status", "code", "field"),
        [
            (
                {"lines": [{"sku": "SHV-S9P", "qty": 1}, {"sku": "BLD-10", "qty": 1}, {"sku": "NOPE", "qty": 1}]},
                422,
                "unknown_product",
                "lines.2.sku",
            ),
            ({"lines": [{"sku": "SHV-S9P", "qty": 0}]}, 422, "invalid", "lines.0.qty"),
            ({"lines": [{"sku": "SHV-S9P", "qty": -1}]}, 422, "invalid", "lines.0.qty"),
            ({"lines": [{"sku": "SHV-S9P", "qty": 6}]}, 422, "over_line_max", "lines.0.qty"),
            (
                {"lines": [{"sku": "BLD-10", "qty": 1}, {"sku": "SHV-S9P", "qty": 5}, {"product_id": 0, "qty": 1}]},
                422,
                "invalid",
                "lines.2.product_id",
            ),
            ({"lines": [{"sku": "SHV-S9P", "barcode": "4006381333931", "qty": 1}]}, 422, "invalid", "lines.0"),
            (
                {"lines": [{"sku": "SHV-S9P", "qty": 1}, {"barcode": "4006381333931", "qty": 1}]},
                422,
                "duplicate",
                "lines.1.barcode",
            ),
            (
                {"lines": [{"sku": "SHV-S9P", "qty": 5}, {"sku": "BLD-10", "qty": 5}, {"sku": "SPARE", "qty": 1}]},
                422,
                "invalid",
                "lines",
            ),
            ({"lines": []}, 422, "invalid", "lines"),
            ({"lines": [{"sku": f"S{i}", "qty": 1} for i in range(101)]}, 422, "invalid", "lines"),
            ({"currency": "USD"}, 422, "wrong_currency", "currency"),
            ({"currency": "eur"}, 422, "invalid", "currency"),
            ({"comments": "Ring\x00 twice"}, 422, "invalid", "comments"),
            ({"comments": "x" * 1001}, 422, "invalid", "comments"),
            ({"external_id": "a\x1fb"}, 422, "invalid", "external_id"),
            ({"external_id": "x" * 101}, 422, "invalid", "external_id"),
            ({"customer": {"email": "not-an-address"}}, 422, "invalid", "customer.email"),
            ({"customer": {"name": "K" * 81}}, 422, "invalid", "customer.name"),
            ({"due_at": "2020-01-01T10:00:00Z"}, 422, "invalid", "due_at"),
            ({"source": "showcase"}, 422, "invalid", "source"),
            ({"delivery": "pickup_other_store"}, 422, "invalid", "pickup_store"),
            ({"colour": "red"}, 422, "invalid", "colour"),
            ({"lines": [{"sku": "SHV-S9P", "qty": 1}, {"sku": "LAST", "qty": 2}]}, 409, "not_enough", "lines.1.qty"),
        ],
    )
    def test_bad_input_is_refused_whole_by_name(
        self, send, pos_key, store, shaver, blades, change, status, code, field
    ):
        make_product(store, sku="SPARE")
        make_product(store, sku="LAST", on_hand=1)
        response = send("POST", "/api/v1/orders", pos_key, _order_body(**change))
        assert (response.status_code, _error(response)["code"], _error(response)["field"]) == (status, code, field)
        assert _nothing_written()

    def test_a_store_requiring_contact_names_the_customer_field(self, send, pos_key, store, shaver, blades):
        store.require_shopper_contact = True
        store.save()
        response = send("POST", "/api/v1/orders", pos_key, _order_body())
        assert (_error(response)["code"], _error(response)["field"]) == ("contact_required", "customer.phone")

    def test_an_organization_key_names_the_store(self, send, store, make_key, shaver, blades):
        key = make_key(store, Scope.ORDERS_WRITE, whole_organization=True)
        response = send("POST", "/api/v1/orders", key, _order_body())
        assert response.status_code == 422 and _error(response)["field"] == "store"
        assert send("POST", "/api/v1/orders", key, _order_body(store=store.pk)).status_code == 201
        assert send("POST", "/api/v1/orders", key, _order_body(store=make_store().pk)).status_code == 404

    def test_statements_stay_flat_whatever_the_number_of_lines(self, send, pos_key, store, count_statements):
        store.max_order_qty = 50
        store.save()
        for lines in (1, 10):
            products = [make_product(store) for _ in range(lines)]
            body = {"source": "pos", "lines": [{"sku": p.sku, "qty": 1} for p in products]}
            with count_statements(22 + lines) as captured:  # one conditional UPDATE per line's stock
                assert send("POST", "/api/v1/orders", pos_key, body).status_code == 201
            print(f"create, {lines} lines: {len(captured)} statements")


def _create(send, key, lines=None) -> dict:
    body = {"source": "pos", "lines": lines or [{"sku": "SHV-S9P", "qty": 2}, {"sku": "BLD-10", "qty": 1}]}
    response = send("POST", "/api/v1/orders", key, body)
    assert response.status_code == 201, response.content
    return response.json()


class TestLineEdits:
    def test_add_change_and_void_follow_the_reservation(self, send, pos_key, store, shaver, blades):
        order = _create(send, pos_key, [{"sku": "SHV-S9P", "qty": 2}])
        added = send(
            "POST",
            f"/api/v1/orders/{order['id']}/lines",
            pos_key,
            {"barcode": "4006381333948", "qty": 3, "version": order["version"]},
        )
        assert added.status_code == 201, added.content
        assert added.json()["total"] == "658.48" and added.json()["version"] > order["version"]
        shaver_line = order["lines"][0]["id"]
        lowered = send(
            "PATCH",
            f"/api/v1/orders/{order['id']}/lines/{shaver_line}",
            pos_key,
            {"qty": 1},
            **{"If-Match": added["ETag"]},
        )
        assert lowered.status_code == 200 and lowered.json()["total"] == "358.49"
        voided = send(
            "PATCH",
            f"/api/v1/orders/{order['id']}/lines/{shaver_line}",
            pos_key,
            {"qty": 0, "version": lowered.json()["version"]},
        )
        assert voided.status_code == 200 and voided.json()["total"] == "58.50"
        assert (stock_of(shaver, store).reserved, stock_of(blades, store).reserved) == (0, 3)
        [blades_line] = [line for line in voided.json()["lines"] if line["sku"] == "BLD-10"]
        last = send(
            "PATCH",
            f"/api/v1/orders/{order['id']}/lines/{blades_line['id']}",
            pos_key,
            {"qty": 0, "version": voided.json()["version"]},
        )
        assert last.status_code == 409 and _error(last)["code"] == "last_line"
        changes = [e.payload["changes"][0] for e in OrderEvent.objects.filter(type="order.lines_changed")]
        assert [(c["sku"], c["from_qty"], c["to_qty"]) for c in changes] == [
            ("BLD-10", 0, 3),
            ("SHV-S9P", 2, 1),
            ("SHV-S9P", 1, 0),
        ]
        journal = send("GET", f"/api/v1/orders/{order['id']}/reservations", pos_key).json()
        assert [(e["sku"], e["kind"], e["qty"], e["reason"]) for e in journal["entries"]] == [
            ("SHV-S9P", "hold", 2, "created"),
            ("BLD-10", "hold", 3, "line_added"),
            ("SHV-S9P", "release", 1, "line_changed"),
            ("SHV-S9P", "release", 1, "line_voided"),
        ]
        _assert_journal_adds_up(journal)

    def test_a_stale_version_is_a_conflict_and_changes_nothing(self, send, pos_key, store, shaver, blades):
        order = _create(send, pos_key)
        line = order["lines"][0]["id"]
        path = f"/api/v1/orders/{order['id']}/lines/{line}"
        assert send("PATCH", path, pos_key, {"qty": 1, "version": order["version"]}).status_code == 200
        stale = send("PATCH", path, pos_key, {"qty": 3, "version": order["version"]})
        assert stale.status_code == 409 and _error(stale)["code"] == "version_mismatch"
        assert send("PATCH", path, pos_key, {"qty": 3}, **{"If-Match": f'W/"{order["version"]}"'}).status_code == 409
        missing = send("PATCH", path, pos_key, {"qty": 3})
        assert missing.status_code == 422 and _error(missing)["field"] == "version"
        garbled = send("PATCH", path, pos_key, {"qty": 3}, **{"If-Match": "*"})
        assert garbled.status_code == 422 and _error(garbled)["field"] == "If-Match"
        assert stock_of(shaver, store).reserved == 1

    def test_once_picking_has_started_lines_are_fixed(self, send, pos_key, store, shaver, blades):
        order = _create(send, pos_key)
        actions.claim_order(order["id"], by=staff(store))
        version = last_event_id(order["id"])
        refused = send(
            "PATCH",
            f"/api/v1/orders/{order['id']}/lines/{order['lines'][0]['id']}",
            pos_key,
            {"qty": 1, "version": version},
        )
        assert refused.status_code == 409 and _error(refused)["code"] == "wrong_status"

    @pytest.mark.parametrize(
        ("body", "status", "code", "field"),
        [
            ({"sku": "NOPE", "qty": 1}, 422, "unknown_product", "sku"),
            ({"sku": "SHV-S9P", "qty": 1}, 422, "duplicate", "sku"),
            ({"sku": "LAST", "qty": 2}, 409, "not_enough", "qty"),
            ({"sku": "SPARE", "qty": 8}, 422, "over_line_max", "qty"),
            ({"sku": "SPARE", "qty": 0}, 422, "invalid", "qty"),
        ],
    )
    def test_an_added_line_is_checked_like_a_new_orders(
        self, send, pos_key, store, shaver, blades, body, status, code, field
    ):
        make_product(store, sku="SPARE", on_hand=9)
        make_product(store, sku="LAST", on_hand=1)
        order = _create(send, pos_key)
        response = send("POST", f"/api/v1/orders/{order['id']}/lines", pos_key, body | {"version": order["version"]})
        assert (response.status_code, _error(response)["code"], _error(response)["field"]) == (status, code, field)
        assert OrderLine.objects.count() == 2 and ReservationEntry.objects.count() == 2

    def test_raising_a_quantity_needs_only_the_extra_units(self, send, pos_key, store, blades):
        scarce = make_product(store, sku="SHV-S9P", on_hand=3)
        order = _create(send, pos_key, [{"sku": "SHV-S9P", "qty": 2}])
        path = f"/api/v1/orders/{order['id']}/lines/{order['lines'][0]['id']}"
        too_many = send("PATCH", path, pos_key, {"qty": 4, "version": order["version"]})
        assert (too_many.status_code, _error(too_many)["code"], _error(too_many)["field"]) == (409, "not_enough", "qty")
        raised = send("PATCH", path, pos_key, {"qty": 3, "version": order["version"]})
        assert raised.status_code == 200 and stock_of(scarce, store).reserved == 3

    def test_an_edit_takes_a_few_statements(self, send, pos_key, store, shaver, blades, count_statements):
        order = _create(send, pos_key)
        with count_statements(16):
            response = send(
                "PATCH",
                f"/api/v1/orders/{order['id']}/lines/{order['lines'][0]['id']}",
                pos_key,
                {"qty": 1, "version": order["version"]},
            )
            assert response.status_code == 200


def _assert_journal_adds_up(journal: dict) -> None:
    """requested = held + released + consumed per line, and the journal's moves give what is held."""
    moved = Counter()
    for entry in journal["entries"]:
        moved[entry["line_id"]] += entry["qty"] if entry["kind"] == "hold" else -entry["qty"]
    for line in journal["lines"]:
        assert line["requested"] == line["held"] + line["released"] + line["consumed"], line
        assert moved[line["line_id"]] == line["held"], line


class TestJournal:
    def test_not_found_rejected_and_handed_over(self, send, pos_key, store, shaver, blades, count_statements):
        order = _create(send, pos_key)
        shaver_line, blades_line = (line["id"] for line in order["lines"])
        alex = staff(store)
        actions.claim_order(order["id"], by=alex)
        actions.pick_line(order["id"], shaver_line, by=alex, qty=2)
        actions.mark_line_not_found(order["id"], blades_line, by=alex, qty=1)
        actions.stage_order(order["id"], by=alex, drop_zone=make_drop_zone(store))
        actions.mark_paid(order["id"], by=alex)
        actions.hand_off_order(order["id"], by=alex, rejections=[actions.Rejection(shaver_line, 1, "damaged")])
        with count_statements(6):
            journal = send("GET", f"/api/v1/orders/{order['id']}/reservations", pos_key).json()
        assert [(e["sku"], e["kind"], e["qty"], e["reason"], e["actor_kind"]) for e in journal["entries"]] == [
            ("SHV-S9P", "hold", 2, "created", "api"),
            ("BLD-10", "hold", 1, "created", "api"),
            ("BLD-10", "release", 1, "not_found", "staff"),
            ("SHV-S9P", "consume", 1, "handed_over", "staff"),
            ("SHV-S9P", "release", 1, "rejected", "staff"),
        ]
        _assert_journal_adds_up(journal)
        assert (stock_of(shaver, store).on_hand, stock_of(shaver, store).reserved) == (4, 0)

    @pytest.mark.parametrize("ending", ["cancelled", "expired"])
    def test_cancel_and_expiry_release_everything(self, send, pos_key, store, shaver, blades, ending):
        order = _create(send, pos_key)
        if ending == "cancelled":
            actions.cancel_order(order["id"], by=staff(store), reason="Changed mind")
        else:
            actions.expire_order(order["id"], reason="Not collected")
        journal = send("GET", f"/api/v1/orders/{order['id']}/reservations", pos_key).json()
        assert [(e["kind"], e["qty"], e["reason"]) for e in journal["entries"][2:]] == [
            ("release", 2, ending),
            ("release", 1, ending),
        ]
        _assert_journal_adds_up(journal)


class TestRecall:
    def test_by_phone_email_or_number(self, send, pos_key, store, shaver, blades, make_key):
        body = _order_body(customer={"name": "Kim", "phone": "06 12 34 56 78", "email": "kim@example.com"})
        kims = send("POST", "/api/v1/orders", pos_key, body).json()
        send("POST", "/api/v1/orders", pos_key, _order_body(customer={"phone": "0699999999"}))
        for params in [
            "phone=0612345678",
            "phone=06.12.34.56.78",
            "email=KIM@example.com",
            f"number=SC{kims['number']}",
        ]:
            found = send("GET", f"/api/v1/orders/search?{params}", pos_key)
            assert found.status_code == 200 and [o["id"] for o in found.json()["data"]] == [kims["id"]], params
        nobody = send("GET", "/api/v1/orders/search?phone=0611111111", pos_key).json()["data"]
        assert nobody == []
        stranger = make_key(make_store())
        assert send("GET", "/api/v1/orders/search?phone=0612345678", stranger).json()["data"] == []

    @pytest.mark.parametrize("params", ["", "phone=abc", "phone=+", "number=SC-1", "limit=0"])
    def test_a_search_needs_something_to_look_for(self, send, pos_key, params):
        response = send("GET", f"/api/v1/orders/search?{params}", pos_key)
        assert response.status_code == 422, response.content

    def test_takes_a_few_statements(self, send, pos_key, store, shaver, blades, count_statements):
        for _ in range(3):
            send("POST", "/api/v1/orders", pos_key, _order_body(customer={"phone": "0612345678"}))
        with count_statements(4):
            assert len(send("GET", "/api/v1/orders/search?phone=0612345678", pos_key).json()["data"]) == 3

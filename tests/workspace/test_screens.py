import re
from decimal import Decimal

import pytest

from shelfcall.orders import actions
from shelfcall.orders.events import Actor
from shelfcall.orders.models import Order, OrderStatus
from shelfcall.stores.models import Role
from tests.factories import (
    TILL,
    make_drop_zone,
    make_product,
    make_showcase,
    make_store,
    make_user,
    signed_in,
    stock_of,
    submit,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return make_store(name="Hardware Hall")


@pytest.fixture
def products(store):
    return [
        make_product(store, name="Cordless drill", price="99.00", on_hand=99, upc="4006381333931"),
        make_product(store, name="Jigsaw", price="45.50", on_hand=9),
    ]


@pytest.fixture
def showcase(store, products):
    return make_showcase(store, products=products)


@pytest.fixture
def alex(store):
    return make_user(store, name="Alex")


def body(response) -> str:
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


class TestQueue:
    def test_sign_in_required(self, client):
        assert client.get("/w/")["Location"].startswith("/w/login")

    def test_lists_team_orders_with_who_is_picking(self, store, showcase, alex):
        waiting, taken = submit(showcase), submit(showcase)
        actions.claim_order(taken.pk, by=Actor.staff(alex))
        page = body(signed_in(alex).get("/w/"))
        assert f"#{waiting.number}" in page and "Picking — Alex" in page

    def test_filters_and_search(self, store, showcase, alex, products):
        from shelfcall.orders.actions import ShopperContact

        mine = submit(showcase, contact=ShopperContact(name="Zoé", phone="+33 6 11 22 33 44"))
        other = submit(showcase, contact=ShopperContact(name="Kim"))
        actions.claim_order(mine.pk, by=Actor.staff(alex))
        client = signed_in(alex)
        assert f"#{other.number}" not in body(client.get("/w/?filter=mine"))
        assert f"#{mine.number}" not in body(client.get("/w/?filter=unclaimed"))
        assert f"#{mine.number}" in body(client.get("/w/?q=11 22 33"))
        assert f"#{other.number}" in body(client.get(f"/w/?q=SC{other.number}"))
        assert f"#{mine.number}" not in body(client.get("/w/?q=kim"))
        assert client.get("/w/?filter=nonsense").status_code == 200

    def test_overdue_first(self, store, showcase, alex, time_machine):
        time_machine.move_to("2026-11-23 10:00:00+00:00", tick=False)
        late = submit(showcase)
        time_machine.move_to("2026-11-23 10:30:00+00:00", tick=False)
        fresh = submit(showcase)
        page = body(signed_in(alex).get("/w/"))
        assert page.index(f"#{late.number}") < page.index(f"#{fresh.number}")
        assert "Overdue" in page

    def test_statement_count_does_not_grow_with_the_queue(self, store, showcase, alex, count_statements):
        client = signed_in(alex)
        submit(showcase)
        client.get("/w/")
        with count_statements(12) as few:
            client.get("/w/")
        for _ in range(25):
            submit(showcase)
        with count_statements(len(few)):
            client.get("/w/")

    def test_empty_queue_says_so(self, store, alex):
        assert "No orders here" in body(signed_in(alex).get("/w/"))


class TestOrderPage:
    def test_claim_then_second_associate_is_told(self, store, showcase, alex):
        order = submit(showcase)
        signed_in(alex).post(f"/w/orders/{order.pk}/claim")
        ben = make_user(store, name="Ben")
        response = signed_in(ben).post(f"/w/orders/{order.pk}/claim", follow=True)
        assert any("Alex is already picking" in m for m in messages_of(response))
        assert "Picking — Alex" in body(response)

    def test_scan_picks_and_wrong_item_is_refused(self, store, showcase, alex, products):
        order = submit(showcase, {products[0]: 2})
        client = signed_in(alex)
        client.post(f"/w/orders/{order.pk}/claim")
        response = client.post(f"/w/orders/{order.pk}/scan", {"code": "4006381333931"}, follow=True)
        assert "Picked Cordless drill (1 of 2)" in messages_of(response)[-1]
        response = client.post(f"/w/orders/{order.pk}/scan", {"code": "0000000000000"}, follow=True)
        assert "is not in this order" in messages_of(response)[-1]
        response = client.post(f"/w/orders/{order.pk}/scan", {"code": products[0].sku.lower()}, follow=True)
        assert "(2 of 2)" in messages_of(response)[-1]

    def test_not_found_then_stage_pay_and_hand_off(self, store, showcase, alex, products):
        order = submit(showcase, {products[0]: 1, products[1]: 1})
        desk = make_drop_zone(store)
        client = signed_in(alex)
        client.post(f"/w/orders/{order.pk}/claim")
        drill, saw = order.lines.order_by("pk")
        client.post(f"/w/orders/{order.pk}/pick", {"line": drill.pk, "qty": 1})
        client.post(f"/w/orders/{order.pk}/not-found", {"line": saw.pk, "qty": 1})
        client.post(f"/w/orders/{order.pk}/stage", {"drop_zone": desk.pk, "note": "shelf B"})
        client.post(f"/w/orders/{order.pk}/pay", {"reference": "T3-991"})
        order.refresh_from_db()
        assert (order.status, order.staged_location, order.total_amount) == (
            OrderStatus.READY,
            "Customer Service desk — shelf B",
            Decimal("99.00"),
        )
        review = client.post(f"/w/orders/{order.pk}/handoff", {"pickup_code": f"SC{order.number}"})
        assert "Mark Picked Up" in body(review)
        order.refresh_from_db()
        assert order.status == OrderStatus.READY  # the review wrote nothing
        hidden = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', body(review)))
        client.post(f"/w/orders/{order.pk}/handoff", {**hidden, "confirm": "yes"})
        order.refresh_from_db()
        assert order.status == OrderStatus.COMPLETED
        assert stock_of(products[0], store).on_hand == 98

    def test_hand_off_refusals_are_shown_on_the_form(self, store, showcase, alex):
        order = submit(showcase)
        actions.claim_order(order.pk, by=Actor.staff(alex))
        actions.pick_line(order.pk, order.lines.get().pk, by=Actor.staff(alex))
        actions.stage_order(order.pk, by=Actor.staff(alex), note="Desk")
        client = signed_in(alex)
        assert "not paid yet" in body(client.post(f"/w/orders/{order.pk}/handoff", {"pickup_code": "SC1"})).lower()
        actions.mark_paid(order.pk, by=TILL)
        assert "does not belong to this order" in body(
            client.post(f"/w/orders/{order.pk}/handoff", {"pickup_code": "SC1"})
        )
        rejected = client.post(
            f"/w/orders/{order.pk}/handoff",
            {"pickup_code": str(order.number), f"reject_{order.lines.get().pk}": "1"},
        )
        assert "Choose why this item was turned down" in body(rejected)

    def test_the_review_names_the_field_of_each_refusal_and_writes_nothing(self, store, showcase, alex):
        """The review runs the hand-off's own checks (orders.actions.check_hand_off) on what it read."""
        store.require_id_check = True
        store.save()
        order = submit(showcase, {showcase.items.first().product: 2})
        actions.claim_order(order.pk, by=Actor.staff(alex))
        line = order.lines.get()
        actions.pick_line(order.pk, line.pk, by=Actor.staff(alex), qty=2)
        actions.stage_order(order.pk, by=Actor.staff(alex), note="Desk")
        actions.mark_paid(order.pk, by=TILL)
        client = signed_in(alex)
        url, code = f"/w/orders/{order.pk}/handoff", str(order.number)

        def errors(data: dict) -> dict:
            response = client.post(url, data)
            assert response.status_code == 200 and "Mark Picked Up" not in body(response)
            return response.context["form"].errors

        assert "id_checked" in errors({"pickup_code": code})
        assert "does not belong" in errors({"pickup_code": "SC1", "id_checked": "on"})["pickup_code"][0]
        too_many = {"pickup_code": code, "id_checked": "on", f"reject_{line.pk}": "3", f"reason_{line.pk}": "damaged"}
        assert errors(too_many)[f"reject_{line.pk}"]
        order.refresh_from_db()
        assert order.status == OrderStatus.READY and not order.lines.filter(rejected_qty__gt=0).exists()

    def test_a_refused_confirmation_shows_the_form_again_with_the_reason(self, store, showcase, alex):
        order = submit(showcase)
        actions.claim_order(order.pk, by=Actor.staff(alex))
        line = order.lines.get()
        actions.pick_line(order.pk, line.pk, by=Actor.staff(alex))
        actions.stage_order(order.pk, by=Actor.staff(alex), note="Desk")
        actions.mark_paid(order.pk, by=TILL)
        client = signed_in(alex)
        url = f"/w/orders/{order.pk}/handoff"
        review = body(client.post(url, {"pickup_code": str(order.number)}))
        hidden = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', review))
        # A forged confirmation turning down more than was picked: the hand-off's check refuses it.
        forged = {**hidden, f"reject_{line.pk}": "5", f"reason_{line.pk}": "damaged", "confirm": "yes"}
        response = client.post(url, forged)
        assert response.status_code == 200 and "Hand off order" in body(response)
        assert response.context["form"].errors
        actions.hand_off_order(order.pk, by=TILL)  # someone else was quicker
        response = client.post(url, {**hidden, "confirm": "yes"})
        assert response.status_code == 200
        assert response.context["form"].non_field_errors() == [
            f"Order {order.number} is collected now, so it can't be handed over."
        ]

    def test_stale_page_gets_a_reason_not_a_crash(self, store, showcase, alex):
        order = submit(showcase)
        actions.cancel_order(order.pk, by=Actor.staff(make_user(store, name="Sam")), reason="Customer left")
        response = signed_in(alex).post(f"/w/orders/{order.pk}/claim", follow=True)
        assert response.status_code == 200
        assert any("cancelled now" in m for m in messages_of(response))

    def test_bad_form_input_names_the_field(self, store, showcase, alex):
        order = submit(showcase)
        client = signed_in(alex)
        client.post(f"/w/orders/{order.pk}/claim")
        response = client.post(
            f"/w/orders/{order.pk}/not-found", {"line": order.lines.get().pk, "qty": "lots"}, follow=True
        )
        assert "Quantity" in messages_of(response)[-1]
        response = client.post(f"/w/orders/{order.pk}/cancel", {"reason": ""}, follow=True)
        assert "Why is it cancelled?" in messages_of(response)[-1]

    def test_cancel_with_reason_and_timeline(self, store, showcase, alex):
        order = submit(showcase)
        client = signed_in(alex)
        client.post(f"/w/orders/{order.pk}/cancel", {"reason": "Shopper left the store"})
        page = body(client.get(f"/w/orders/{order.pk}"))
        assert "Cancelled" in page and "Shopper left the store" in page and "sent the request" in page

    def test_only_supervisors_reassign_and_take_back(self, store, showcase, alex):
        order = submit(showcase)
        actions.claim_order(order.pk, by=Actor.staff(alex))
        ben = make_user(store, name="Ben")
        refused = signed_in(ben).post(f"/w/orders/{order.pk}/unclaim", follow=True)
        assert "Alex is picking" in messages_of(refused)[-1] and "Put back in the queue" not in body(refused)
        order.refresh_from_db()
        assert order.assignee == alex
        sam = make_user(store, name="Sam", role=Role.SUPERVISOR)
        signed_in(sam).post(f"/w/orders/{order.pk}/reassign", {"to": ben.pk})
        order.refresh_from_db()
        assert order.assignee == ben

    def test_order_page_statement_count_is_bounded(self, store, alex, count_statements):
        few = make_showcase(store, products=[make_product(store)])
        many_products = [make_product(store) for _ in range(8)]
        many = make_showcase(store, products=many_products)
        store.max_order_qty = 50
        store.save()
        small, large = submit(few), submit(many, dict.fromkeys(many_products, 1))
        client = signed_in(alex)
        client.get(f"/w/orders/{small.pk}")
        with count_statements(20) as baseline:
            client.get(f"/w/orders/{small.pk}")
        with count_statements(len(baseline)):
            client.get(f"/w/orders/{large.pk}")

    def test_bag_label(self, store, showcase, alex):
        order = submit(showcase)
        page = body(signed_in(alex).get(f"/w/orders/{order.pk}/label"))
        assert f"SC{order.number}" in page and "<svg" in page


class TestTillAndRefunds:
    def test_till_finds_by_barcode_and_marks_paid(self, store, showcase, alex):
        order = submit(showcase)
        client = signed_in(alex)
        page = body(client.get(f"/w/till?code=SC{order.number}"))
        assert "€99.00" in page and "Mark Paid" in page
        client.post(f"/w/orders/{order.pk}/pay", {"next": f"/w/till?code={order.number}"})
        order.refresh_from_db()
        assert order.payment_status == "paid"
        assert "No order SC99999" in body(client.get("/w/till?code=SC99999", follow=True))

    def test_a_partly_paid_order_shows_what_is_owed_and_mark_paid_pays_it(self, store, showcase, alex):
        order = submit(showcase)
        actions.record_payment(order.pk, amount=Decimal("40.00"), method="cash", by=TILL)
        client = signed_in(alex)
        for page in [body(client.get(f"/w/till?code=SC{order.number}")), body(client.get(f"/w/orders/{order.pk}"))]:
            assert "Partially paid" in page and "€40.00" in page and "€59.00 still owed" in page
            assert "Mark Paid" in page
        client.post(f"/w/orders/{order.pk}/pay", {"reference": "POS-7"})
        order.refresh_from_db()
        assert (order.payment_status, order.paid_amount) == ("paid", Decimal("99.00"))
        assert [p.amount for p in order.payments.all()] == [Decimal("40.00"), Decimal("59.00")]
        page = body(client.get(f"/w/till?code=SC{order.number}"))
        assert "still owed" not in page and "Mark Paid" not in page

    def test_next_cannot_leave_the_workspace(self, store, showcase, alex):
        order = submit(showcase)
        response = signed_in(alex).post(f"/w/orders/{order.pk}/pay", {"next": "https://evil.example/"})
        assert response["Location"] == f"/w/orders/{order.pk}"

    def test_refunds_due_are_listed_and_settled_by_supervisors(self, store, showcase, alex, products):
        order = submit(showcase, {products[0]: 2})
        actions.mark_paid(order.pk, by=TILL)
        actions.claim_order(order.pk, by=Actor.staff(alex))
        actions.mark_line_not_found(order.pk, order.lines.get().pk, by=Actor.staff(alex), qty=1)
        assert signed_in(alex).get("/w/refunds").status_code == 403
        sam = signed_in(make_user(store, name="Sam", role=Role.SUPERVISOR))
        assert "€99.00" in body(sam.get("/w/refunds"))
        sam.post(f"/w/orders/{order.pk}/refund", {"reference": "R-1"})
        order.refresh_from_db()
        assert order.refund_due_amount == 0 and order.payment_status == "partially_refunded"
        assert "Nothing to refund" in body(sam.get("/w/refunds"))


class TestMultiPick:
    def test_one_walk_for_several_orders(self, store, showcase, alex, products):
        first, second = submit(showcase, {products[0]: 1}), submit(showcase, {products[0]: 1, products[1]: 1})
        client = signed_in(alex)
        client.post("/w/pick", {"order": [first.pk, second.pk], "action": "claim"})
        page = body(client.get(f"/w/pick?order={first.pk}&order={second.pk}"))
        assert "2 × Cordless drill" in page and "1 × Jigsaw" in page
        response = client.post("/w/pick", {"order": [first.pk, second.pk], "code": "4006381333931"}, follow=True)
        assert f"order {first.number}" in messages_of(response)[-1]
        client.post("/w/pick", {"order": [first.pk, second.pk], "code": "4006381333931"})
        assert first.lines.get().picked_qty == 1
        assert second.lines.get(product=products[0]).picked_qty == 1
        response = client.post("/w/pick", {"order": [first.pk, second.pk], "code": "4006381333931"}, follow=True)
        assert "not needed by any of these orders" in messages_of(response)[-1]


class TestStoreIsolation:
    """An associate never sees or touches another store's orders."""

    def test_every_order_url_is_404_for_another_store(self, showcase):
        order = submit(showcase)
        elsewhere = make_store()
        outsider = signed_in(make_user(elsewhere, name="Olga", role=Role.SUPERVISOR))
        for url in [
            f"/w/orders/{order.pk}",
            f"/w/orders/{order.pk}/label",
            f"/w/orders/{order.pk}/handoff",
            f"/w/orders/{order.pk}/stream",
        ]:
            assert outsider.get(url).status_code == 404, url
        for action in ["claim", "unclaim", "reassign", "scan", "pick", "not-found", "stage", "pay", "cancel", "refund"]:
            assert outsider.post(f"/w/orders/{order.pk}/{action}", {"reason": "x", "code": "x"}).status_code == 404
        assert f"#{order.number}" not in body(outsider.get(f"/w/?filter=all&q={order.number}"))
        assert f"#{order.number}" not in body(outsider.get(f"/w/till?code={order.number}", follow=True))
        outsider.post("/w/pick", {"order": [order.pk], "action": "claim"})
        order.refresh_from_db()
        assert order.status == OrderStatus.SUBMITTED and not Order.objects.filter(assignee__isnull=False).exists()

    def test_several_stores_choose_one(self, store):
        sister = make_store(organization=store.organization, name="Sister")
        user = make_user(store, name="Max")
        from shelfcall.stores.models import Membership

        Membership.objects.create(user=user, organization=sister.organization, store=sister)
        client = signed_in(user)
        assert client.get("/w/")["Location"].startswith("/w/stores")
        client.post("/w/stores", {"store": sister.pk, "next": "/w/"})
        assert "Sister" in body(client.get("/w/"))
        client.post("/w/stores", {"store": make_store().pk})  # not theirs: ignored
        assert "Sister" in body(client.get("/w/"))


def test_team_sees_who_is_waiting(store, showcase, alex):
    order = submit(showcase)
    actions.check_in(order.pk, mode="curbside", note="Bay 2, blue van")
    page = body(signed_in(alex).get("/w/?filter=waiting"))
    assert f"#{order.number}" in page and "Waiting curbside: Bay 2, blue van" in page


def set_pin(user, pin: str) -> None:
    """Through the page, confirmed with the factory's password."""
    signed_in(user).post("/w/pin", {"current": "x", "pin": pin, "again": pin})


class TestSwitchUser:
    def test_pin_switches_the_person_on_a_shared_device(self, store, alex, rate_limits):
        jo = make_user(store, name="Jo")
        set_pin(jo, "482193")
        client = signed_in(alex)
        page = body(client.get("/w/switch"))
        assert "Jo" in page
        assert "not right" in body(client.post("/w/switch", {"user": jo.pk, "pin": "000000"}, follow=True))
        assert "not right" in body(client.post("/w/switch", {"user": "nonsense", "pin": "000000"}, follow=True))
        response = client.post("/w/switch", {"user": jo.pk, "pin": "482193"}, follow=True)
        assert "Hello Jo!" in body(response) and response.context["request"].user == jo

    def test_pin_form_explains_mistakes(self, store, alex):
        client = signed_in(alex)
        assert "Use 6 to 12 digits" in body(client.post("/w/pin", {"current": "x", "pin": "1234", "again": "1234"}))
        differ = {"current": "x", "pin": "482193", "again": "482194"}
        assert "The two PINs differ" in body(client.post("/w/pin", differ))
        assert "not one digit repeated" in body(
            client.post("/w/pin", {"current": "x", "pin": "123456", "again": "123456"})
        )

    def test_guessing_pins_is_slowed_down(self, store, alex, rate_limits):
        jo = make_user(store, name="Jo")
        set_pin(jo, "482193")
        client = signed_in(alex)
        for guess in range(10):
            client.post("/w/switch", {"user": jo.pk, "pin": f"{guess:06d}"})
        assert "Too many wrong PINs" in body(client.post("/w/switch", {"user": jo.pk, "pin": "482193"}, follow=True))

    def test_right_pins_never_count_against_the_shift(self, store, alex, rate_limits):
        jo = make_user(store, name="Jo")
        set_pin(jo, "482193")
        set_pin(alex, "135792")
        client = signed_in(alex)
        for _ in range(6):
            assert "Hello Jo!" in body(client.post("/w/switch", {"user": jo.pk, "pin": "482193"}, follow=True))
            assert "Hello Alex!" in body(client.post("/w/switch", {"user": alex.pk, "pin": "135792"}, follow=True))


@pytest.mark.parametrize("path", ["/w/", "/setup/", "/w/login"])
def test_staff_screens_are_never_kept_by_the_browser_of_a_shared_device(path, client):
    admin = signed_in(make_user(make_store(), role=Role.STORE_ADMIN))
    response = client.get(path) if path == "/w/login" else admin.get(path)
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]

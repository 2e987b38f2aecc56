"""Customer service at /hq/: the order's page (timeline, messages, journal), the lookup, the status
link, cancelling with a reason, and moving an untouched order to a store that has the stock."""

import pytest

from shelfcall.catalog.models import StockLevel
from shelfcall.notify.models import DeliveryAttempt, OutboxMessage
from shelfcall.orders import actions
from shelfcall.orders.actions import TargetLacksStock, UnknownTargetStore
from shelfcall.orders.errors import ContactMissing, WrongStatus
from shelfcall.orders.events import Actor, EventType
from shelfcall.orders.models import Order, OrderEvent, OrderStatus, ReservationEntry, ReservationReason
from tests.factories import claimed, make_product, signed_in, staff, stock_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def cs(world):
    return signed_in(world.users["customer_service"])


def _actor(world) -> Actor:
    return Actor.staff(world.users["customer_service"])


class TestOrderPage:
    def test_shows_timeline_messages_with_attempts_and_journal(self, world, cs):
        order = world.order_a(2, email="kim@example.com")
        actions.cancel_order(order.pk, by=_actor(world), reason="Shopper called")
        message = OutboxMessage.objects.get(order=order, purpose="cancelled")
        DeliveryAttempt.objects.create(
            message=message, started_at=message.created_at, duration_ms=42, ok=False, status_code=503, answer="busy"
        )
        response = cs.get(f"/hq/orders/{order.pk}")
        body = response.content.decode()
        assert response.status_code == 200
        assert [e.type for e in response.context["timeline"]] == [EventType.CREATED, EventType.CANCELLED]
        assert "42 ms" in body and "(503)" in body and "kim@example.com" in body
        journal = response.context["journal"]
        assert [(e.kind, e.qty, e.reason) for e in journal] == [("hold", 2, "created"), ("release", 2, "cancelled")]
        assert "Order cancelled" in body and "Cy" in body  # why and by whom

    def test_statements_do_not_grow_with_history(self, world, cs):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        order = world.order_a(1, email="kim@example.com")
        actions.send_status_link(order.pk, by=_actor(world), via="email")
        cs.get(f"/hq/orders/{order.pk}")
        with CaptureQueriesContext(connection) as few:
            cs.get(f"/hq/orders/{order.pk}")
        for _ in range(3):
            actions.send_status_link(order.pk, by=_actor(world), via="email")
        with CaptureQueriesContext(connection) as many:
            cs.get(f"/hq/orders/{order.pk}")
        assert len(many) == len(few)


class TestStatusLink:
    def test_by_email_through_the_outbox(self, world, cs):
        order = world.order_a(email="kim@example.com", phone="0612345678")
        response = cs.post(f"/hq/orders/{order.pk}/send-link", {"via": "email"})
        assert response.status_code == 302
        sent = OutboxMessage.objects.get(order=order, purpose="status")
        assert (sent.kind, sent.destination) == ("email", "kim@example.com")
        assert f"/o/{order.public_token}" in sent.body["url"]
        event = OrderEvent.objects.get(order=order, type=EventType.MESSAGE_RESENT)
        assert event.payload == {"purpose": "status", "via": "email"}

    def test_refused_naming_the_missing_contact(self, world):
        order = world.order_a(email="kim@example.com")
        with pytest.raises(ContactMissing, match="phone number"):
            actions.send_status_link(order.pk, by=_actor(world), via="sms")
        assert not OrderEvent.objects.filter(order=order, type=EventType.MESSAGE_RESENT).exists()

    def test_a_bad_choice_is_named(self, world, cs):
        order = world.order_a(email="kim@example.com")
        response = cs.post(f"/hq/orders/{order.pk}/send-link", {"via": "pigeon"})
        assert response.status_code == 422 and "Select a valid choice" in response.content.decode()


class TestCancel:
    def test_needs_a_reason(self, world, cs):
        order = world.order_a()
        response = cs.post(f"/hq/orders/{order.pk}/cancel", {"reason": "  "})
        assert response.status_code == 422 and "Give the reason" in response.content.decode()
        assert Order.objects.get(pk=order.pk).status == OrderStatus.SUBMITTED

    def test_even_while_someone_picks(self, world, cs):
        order = world.order_a()
        claimed(order, staff(world.a, "Ana"))
        cs.post(f"/hq/orders/{order.pk}/cancel", {"reason": "Shopper changed their mind"})
        order.refresh_from_db()
        assert (order.status, order.cancel_reason) == (OrderStatus.CANCELLED, "Shopper changed their mind")


class TestMove:
    def test_moves_reservations_with_journal_event_and_message(self, world, cs):
        order = world.order_a(3, email="kim@example.com")
        before_a, before_b = stock_of(world.product, world.a).reserved, stock_of(world.product, world.b).reserved
        response = cs.post(f"/hq/orders/{order.pk}/move", {"to_store": world.b.pk})
        assert response.status_code == 302
        moved = Order.objects.get(pk=order.pk)
        assert (moved.store_id, moved.origin_store_id, moved.team_id) == (world.b.pk, world.a.pk, None)
        assert stock_of(world.product, world.a).reserved == before_a - 3
        assert stock_of(world.product, world.b).reserved == before_b + 3
        reservation = moved.reservations.get()
        assert (reservation.stock_level.store_id, reservation.held_qty) == (world.b.pk, 3)
        journal = ReservationEntry.objects.filter(order=order, reason=ReservationReason.MOVED).order_by("pk")
        assert [(e.kind, e.qty, e.stock_level.store_id, e.actor_label) for e in journal] == [
            ("release", 3, world.a.pk, "Cy"),
            ("hold", 3, world.b.pk, "Cy"),
        ]
        event = OrderEvent.objects.get(order=order, type=EventType.MOVED)
        assert event.payload["to_store"] == "Bravo" and event.payload["from_store_id"] == world.a.pk
        told = OutboxMessage.objects.get(order=order, purpose="moved")
        assert "Bravo" in told.body["title"] and told.destination == "kim@example.com"
        assert not Order.objects.filter(store=world.b, number=moved.number).exclude(pk=order.pk).exists()

    def test_refused_naming_the_lines_when_the_target_lacks_stock(self, world, cs):
        scarce = make_product(world.a, on_hand=5, name="Trimmer")
        StockLevel.objects.create(store=world.b, product=scarce, on_hand=1)
        order = actions.create_order(
            world.a,
            [actions.CartLine(world.product.pk, 1, world.product.price), actions.CartLine(scarce.pk, 2, scarce.price)],
            source="pos",
            contact=actions.ShopperContact(name="Kim"),
            by=Actor.api("pos"),
        ).order
        levels = {(s.store_id, s.product_id): s.reserved for s in StockLevel.objects.all()}
        entries = ReservationEntry.objects.count()
        with pytest.raises(TargetLacksStock, match=r"Bravo.*2 × Trimmer") as refused:
            actions.move_order(order.pk, to_store_id=world.b.pk, by=_actor(world))
        assert refused.value.lines == ["2 × Trimmer"]
        assert {(s.store_id, s.product_id): s.reserved for s in StockLevel.objects.all()} == levels
        assert ReservationEntry.objects.count() == entries
        assert Order.objects.get(pk=order.pk).store_id == world.a.pk
        page = cs.post(f"/hq/orders/{order.pk}/move", {"to_store": world.b.pk}, follow=True).content.decode()
        assert "2 × Trimmer" in page and "Nothing was moved" in page

    def test_a_store_without_the_product_at_all_is_refused(self, world):
        lonely = make_product(world.a, on_hand=5, name="Kettle")
        order = actions.create_order(
            world.a,
            [actions.CartLine(lonely.pk, 1, lonely.price)],
            source="pos",
            contact=actions.ShopperContact(name="Kim"),
            by=Actor.api("pos"),
        ).order
        with pytest.raises(TargetLacksStock, match="1 × Kettle"):
            actions.move_order(order.pk, to_store_id=world.b.pk, by=_actor(world))

    def test_not_once_someone_has_started(self, world):
        order = world.order_a()
        claimed(order, staff(world.a, "Ana"))
        with pytest.raises(WrongStatus, match="being picked"):
            actions.move_order(order.pk, to_store_id=world.b.pk, by=_actor(world))
        assert Order.objects.get(pk=order.pk).store_id == world.a.pk

    def test_not_to_another_organization(self, world):
        order = world.order_a()
        with pytest.raises(UnknownTargetStore):
            actions.move_order(order.pk, to_store_id=world.elsewhere.pk, by=_actor(world))

    def test_a_store_admin_moves_only_between_their_stores(self, world):
        order = world.order_a()
        with pytest.raises(Exception, match="moved to another store"):
            actions.move_order(order.pk, to_store_id=world.b.pk, by=Actor.staff(world.users["store_admin"]))
        assert Order.objects.get(pk=order.pk).store_id == world.a.pk

    def test_an_associate_may_not(self, world):
        order = world.order_a()
        with pytest.raises(Exception, match="moved to another store"):
            actions.move_order(order.pk, to_store_id=world.b.pk, by=Actor.staff(world.users["associate"]))

    def test_the_page_offers_stores_that_have_the_stock(self, world, cs):
        order = world.order_a(3)
        StockLevel.objects.filter(store=world.b).update(on_hand=2)
        candidates = cs.get(f"/hq/orders/{order.pk}").context["candidates"]
        assert [(c.store.name, c.short) for c in candidates] == [("Bravo", ["3 × Shaver"])]


class TestLookup:
    def test_by_phone_in_any_format_across_stores(self, world, cs):
        a = world.order_a(phone="06 12 34 56 78")
        b = world.order_b(phone="+33612345678")
        world.order_b(phone="0699999999")
        found = cs.get("/hq/lookup", {"phone": "+33 (0)6 12-34-56-78"}).context["found"]
        assert [o.pk for o in found] == [b.pk, a.pk]

    def test_by_email_shows_status_place_and_messages(self, world, cs):
        order = world.order_a(email="kim@example.com")
        staff_member = staff(world.a, "Ana")
        from tests.factories import staged

        staged(order, staff_member)
        response = cs.get("/hq/lookup", {"email": "KIM@example.com "})
        found = response.context["found"]
        assert [o.pk for o in found] == [order.pk]
        assert [m.purpose for m in found[0].shopper_messages] == ["ready"]
        assert "Customer Service desk" in response.content.decode()

    def test_nothing_typed_is_named(self, world, cs):
        response = cs.get("/hq/lookup", {"phone": "", "email": ""})
        assert "Type the shopper" in response.content.decode()

    def test_a_store_admin_finds_only_their_stores(self, world):
        world.order_b(email="kim@example.com")
        mine = world.order_a(email="kim@example.com")
        found = signed_in(world.users["store_admin"]).get("/hq/lookup", {"email": "kim@example.com"}).context["found"]
        assert [o.pk for o in found] == [mine.pk]


class TestInventory:
    def test_per_store_and_organization_with_links_to_holding_orders(self, world, cs):
        a1, a2, b1 = world.order_a(2), world.order_a(1), world.order_b(4)
        response = cs.get("/hq/inventory", {"q": "shaver"})
        (item,) = response.context["products"]
        rows = {(row.level.store.name, row.level.on_hand, row.level.reserved, row.available) for row in item.rows}
        assert rows == {("Alpha", 1000, 3, 997), ("Bravo", 100, 4, 96)}
        assert item.reserved_total == 7
        body = response.content.decode()
        link = f"/hq/?product={world.product.pk}&amp;store={world.a.pk}"
        assert link in body
        holding = cs.get(f"/hq/?product={world.product.pk}&store={world.a.pk}").context["page"].orders
        assert [o.pk for o in holding] == [a2.pk, a1.pk]
        everywhere = cs.get(f"/hq/?product={world.product.pk}").context["page"].orders
        assert [o.pk for o in everywhere] == [b1.pk, a2.pk, a1.pk]

    def test_a_store_admin_sees_their_stores_stock_only(self, world):
        world.order_b(4)
        (item,) = signed_in(world.users["store_admin"]).get("/hq/inventory").context["products"]
        assert [row.level.store.name for row in item.rows] == ["Alpha"] and item.reserved_total == 0

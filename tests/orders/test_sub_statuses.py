"""Sub-statuses: the organization's own steps inside the lifecycle, which never bypass its rules."""

import pytest
from django.core.exceptions import ValidationError

from shelfcall.notify.models import OutboxMessage
from shelfcall.orders import actions
from shelfcall.orders.actions import ShopperContact
from shelfcall.orders.errors import ActionNotAllowed, NotYourOrder, SubStatusNotAllowed, UnknownSubStatus, WrongStatus
from shelfcall.orders.events import EventType
from shelfcall.orders.models import OrderEvent, SubStatus
from shelfcall.stores.models import Role
from tests.factories import TILL, claimed, make_showcase, make_store, picked, staff, staged, submit
from tests.orders.sub_status_factory import sub_status

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return make_store()


@pytest.fixture
def order(store):
    return submit(make_showcase(store), contact=ShopperContact(name="Kim", email="kim@example.com"))


def test_a_sub_status_of_the_current_status_is_set_with_its_event(store, order):
    alex = staff(store)
    engraving = sub_status(store, "picking", "engraving", shopper_texts={"en": "Being engraved.", "fr": "En gravure."})
    claimed(order, alex)
    changed = actions.set_sub_status(order.pk, engraving.pk, by=alex)
    assert changed.sub_status == engraving
    event = OrderEvent.objects.filter(order=order).latest("pk")
    assert event.type == EventType.SUB_STATUS_CHANGED
    assert event.payload == {
        "status": "picking",
        "code": "engraving",
        "name": "Engraving",
        "shopper_text": "Being engraved.",
        "previous_code": "",
        "shopper_notified": False,
    }


def test_a_sub_status_not_allowed_from_the_current_one_is_refused_naming_the_allowed_ones(store, order):
    alex = staff(store)
    engraving = sub_status(store, "picking", "engraving")
    sub_status(store, "picking", "gift-wrap", follows=engraving)
    checked = sub_status(store, "picking", "quality-check", entry=False, follows=engraving)
    sub_status(store, "picking", "polishing", entry=False)
    claimed(order, alex)
    with pytest.raises(SubStatusNotAllowed) as refused:
        actions.set_sub_status(order.pk, checked.pk, by=alex)  # not an entry one
    assert refused.value.allowed == ["Engraving", "Gift Wrap"]
    actions.set_sub_status(order.pk, engraving.pk, by=alex)
    polishing = SubStatus.objects.get(code="polishing")
    with pytest.raises(SubStatusNotAllowed) as refused:
        actions.set_sub_status(order.pk, polishing.pk, by=alex)
    assert refused.value.allowed == ["Gift Wrap", "Quality Check"]
    assert "Gift Wrap, Quality Check" in str(refused.value)
    assert actions.set_sub_status(order.pk, checked.pk, by=alex).sub_status == checked


def test_a_sub_status_of_another_status_or_organization_or_archived_is_refused(store, order):
    alex = staff(store)
    curbside = sub_status(store, "ready", "curbside")
    elsewhere = sub_status(make_store(), "picking", "engraving")
    archived = sub_status(store, "picking", "old", active=False)
    claimed(order, alex)
    with pytest.raises(SubStatusNotAllowed):
        actions.set_sub_status(order.pk, curbside.pk, by=alex)
    for refused in (elsewhere, archived):
        with pytest.raises(UnknownSubStatus):
            actions.set_sub_status(order.pk, refused.pk, by=alex)
    assert OrderEvent.objects.filter(order=order, type=EventType.SUB_STATUS_CHANGED).count() == 0


def test_every_lifecycle_move_clears_the_sub_status(store, order):
    alex = staff(store)
    waiting = sub_status(store, "submitted", "waiting-for-stock")
    engraving = sub_status(store, "picking", "engraving")
    actions.set_sub_status(order.pk, waiting.pk, by=alex)
    assert claimed(order, alex).sub_status is None
    actions.set_sub_status(order.pk, engraving.pk, by=alex)
    actions.unclaim_order(order.pk, by=alex)
    order.refresh_from_db()
    assert order.sub_status is None and order.status == "submitted"
    picked(order, alex)
    actions.set_sub_status(order.pk, engraving.pk, by=alex)
    staged_order = actions.stage_order(order.pk, by=alex, note="Desk")
    staged_order.refresh_from_db()
    assert staged_order.sub_status is None


def test_the_same_sub_status_again_changes_nothing_and_none_clears_it(store, order):
    alex = staff(store)
    waiting = sub_status(store, "submitted", "waiting-for-stock")
    actions.set_sub_status(order.pk, waiting.pk, by=alex)
    actions.set_sub_status(order.pk, waiting.pk, by=alex)
    assert OrderEvent.objects.filter(order=order, type=EventType.SUB_STATUS_CHANGED).count() == 1
    assert actions.set_sub_status(order.pk, None, by=alex).sub_status is None
    cleared = OrderEvent.objects.filter(order=order).latest("pk")
    assert (cleared.payload["code"], cleared.payload["previous_code"]) == ("", "waiting-for-stock")


def test_only_the_picker_or_a_supervisor_sets_a_picking_orders_sub_status(store, order):
    alex, sam = staff(store, "Alex"), staff(store, "Sam")
    lee = staff(store, "Lee", role=Role.SUPERVISOR)
    engraving = sub_status(store, "picking", "engraving")
    claimed(order, alex)
    with pytest.raises(NotYourOrder):
        actions.set_sub_status(order.pk, engraving.pk, by=sam)
    assert actions.set_sub_status(order.pk, engraving.pk, by=lee).sub_status == engraving
    assert actions.set_sub_status(order.pk, None, by=TILL).sub_status is None


def test_closed_orders_and_shoppers_get_no_sub_status(store, order):
    from shelfcall.orders.events import SHOPPER

    waiting = sub_status(store, "submitted", "waiting-for-stock")
    with pytest.raises(ActionNotAllowed):
        actions.set_sub_status(order.pk, waiting.pk, by=SHOPPER)
    actions.cancel_order(order.pk, by=SHOPPER)
    with pytest.raises(WrongStatus):
        actions.set_sub_status(order.pk, waiting.pk, by=staff(store))


def test_the_shopper_is_told_in_their_language_when_the_sub_status_says_so(store, order):
    alex = staff(store)
    order.locale = "fr"
    order.save(update_fields=["locale"])
    curbside = sub_status(
        store, "ready", "curbside", notify_shopper=True, shopper_texts={"en": "At the curb.", "fr": "Au trottoir."}
    )
    quiet = sub_status(store, "ready", "quiet", follows=curbside, shopper_texts={"en": "Shh."})
    staged(order, alex)
    before = OutboxMessage.objects.filter(order=order).count()
    actions.set_sub_status(order.pk, curbside.pk, by=alex)
    told = OutboxMessage.objects.filter(order=order).order_by("pk")[before:]
    assert [message.destination for message in told] == ["kim@example.com"]
    assert told[0].body["text"] == "Au trottoir."
    actions.set_sub_status(order.pk, quiet.pk, by=alex)
    assert OutboxMessage.objects.filter(order=order).count() == before + 1


def test_the_shopper_is_told_of_a_sub_status_once_however_often_it_is_set(store, order):
    alex = staff(store)
    waiting = sub_status(store, "submitted", "waiting", notify_shopper=True, shopper_texts={"en": "Fetching it."})
    for _ in range(3):
        actions.set_sub_status(order.pk, waiting.pk, by=alex)
        actions.set_sub_status(order.pk, None, by=alex)
    assert OutboxMessage.objects.filter(order=order, purpose="update").count() == 1


def test_shopper_texts_name_only_shelfcalls_languages():
    sub = SubStatus(status="ready", code="x", name="X", shopper_texts={"de": "Bereit"})
    with pytest.raises(ValidationError, match="de is not a language"):
        sub.clean()
    assert SubStatus(shopper_texts={"en": "Ready", "ko": "준비"}).shopper_text("ko-kr") == "준비"
    assert SubStatus(shopper_texts={"en": "Ready"}).shopper_text("es") == "Ready"

"""Order actions through the API: the workspace's actions, the same checks, the same refusals."""

import pytest

from shelfcall.api.scopes import Scope
from shelfcall.notify.models import OutboxMessage
from shelfcall.orders import actions
from shelfcall.orders.events import Actor, ActorKind, EventType
from shelfcall.orders.models import Order, OrderStatus
from shelfcall.stores.models import DropZone, Role
from tests.factories import (
    TILL,
    claimed,
    make_drop_zone,
    make_product,
    make_showcase,
    make_store,
    make_user,
    picked,
    signed_in,
    staff,
    staged,
    submit,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def key(store, make_key):
    return make_key(store, Scope.ORDERS_READ, Scope.ORDERS_WRITE)


@pytest.fixture
def order(store):
    product = make_product(store, price="10.00", on_hand=9)
    return submit(make_showcase(store, products=[product]), {product: 2})


def _error(response) -> tuple[int, str, str | None]:
    error = response.json()["error"]
    return response.status_code, error["code"], error["field"]


def _url(order: Order, action: str) -> str:
    return f"/api/v1/orders/{order.pk}/{action}"


def _line_url(order: Order, action: str, line_id: int | None = None) -> str:
    return _url(order, f"lines/{line_id or order.lines.order_by('pk').first().pk}/{action}")


class TestClaim:
    def test_without_an_associate_the_store_holds_it(self, api_post, key, order):
        response = api_post(_url(order, "claim"), key)
        assert response.status_code == 200 and response.json()["status"] == "picking"
        order.refresh_from_db()
        assert order.assignee is None
        event = order.events.get(type=EventType.CLAIMED)
        assert (event.actor_kind, event.actor_label) == (ActorKind.API, "Till 1")
        assert api_post(_url(order, "claim"), key, {}).status_code == 200, "claiming again changes nothing"
        assert order.events.filter(type=EventType.CLAIMED).count() == 1

    def test_the_workspace_shows_the_store_holds_it(self, api_post, key, store, order):
        api_post(_url(order, "claim"), key)
        page = signed_in(make_user(store, name="Sam", role=Role.SUPERVISOR)).get(f"/w/orders/{order.pk}")
        assert "Picking — the store&#x27;s system" in page.content.decode()
        assert "Put back in the queue" in page.content.decode(), "a supervisor may take it back"

    def test_for_an_associate_of_the_store(self, api_post, key, store, order):
        alex = make_user(store, name="Alex")
        assert api_post(_url(order, "claim"), key, {"associate": alex.username}).status_code == 200
        order.refresh_from_db()
        assert order.assignee == alex
        assert order.events.get(type=EventType.CLAIMED).payload["assignee_name"] == "Alex"

    def test_for_another_associate_reassigns(self, api_post, key, store, order):
        claimed(order, staff(store, "Alex"))
        ben = make_user(store, name="Ben")
        assert api_post(_url(order, "claim"), key, {"associate": ben.username}).status_code == 200
        order.refresh_from_db()
        assert order.assignee == ben and order.events.filter(type=EventType.REASSIGNED).count() == 1

    @pytest.mark.parametrize("who", ["nobody", "stranger"])
    def test_the_associate_must_work_in_the_store(self, api_post, key, order, who):
        username = make_user(make_store(), name="Zed").username if who == "stranger" else "nobody-here"
        assert _error(api_post(_url(order, "claim"), key, {"associate": username})) == (
            422,
            "unknown_associate",
            "associate",
        )
        order.refresh_from_db()
        assert order.status == OrderStatus.SUBMITTED

    def test_a_cancelled_order_is_a_conflict(self, api_post, key, order):
        actions.cancel_order(order.pk, by=TILL, reason="gone")
        assert _error(api_post(_url(order, "claim"), key)) == (409, "wrong_status", None)

    def test_someone_elses_claim_is_a_conflict_without_an_associate(self, api_post, key, store, order):
        claimed(order, staff(store, "Alex"))
        status, code, _field = _error(api_post(_url(order, "claim"), key))
        assert (status, code) == (409, "already_claimed")


class TestPickAndNotFound:
    @pytest.mark.parametrize("action", ["pick", "not-found"])
    @pytest.mark.parametrize("qty", [0, -1, 1000, "two"])
    def test_bad_quantities_name_the_field(self, api_post, key, order, action, qty):
        claimed(order, TILL)
        assert _error(api_post(_line_url(order, action), key, {"qty": qty}))[::2] == (422, "qty")

    @pytest.mark.parametrize("action", ["pick", "not-found"])
    def test_a_line_of_another_order_is_not_found(self, api_post, key, store, order, action):
        claimed(order, TILL)
        other = submit(make_showcase(store))
        assert _error(api_post(_line_url(order, action, other.lines.get().pk), key, {"qty": 1}))[:2] == (
            404,
            "not_found",
        )

    @pytest.mark.parametrize("action", ["pick", "not-found"])
    def test_more_than_is_open_is_refused(self, api_post, key, order, action):
        claimed(order, TILL)
        assert _error(api_post(_line_url(order, action), key, {"qty": 3})) == (422, "quantity_too_large", "qty")

    @pytest.mark.parametrize("action", ["pick", "not-found"])
    def test_before_anyone_picks_is_a_conflict(self, api_post, key, order, action):
        assert _error(api_post(_line_url(order, action), key, {"qty": 1})) == (409, "wrong_status", None)

    @pytest.mark.parametrize("whole_organization", [False, True])
    def test_a_pick_answers_with_the_order_as_it_is_now(
        self, api_get, api_post, make_key, store, order, whole_organization
    ):
        """Written first, its answer is what its UPDATE returned: the same as the order read after it."""
        key = make_key(store, Scope.ORDERS_READ, Scope.ORDERS_WRITE, whole_organization=whole_organization)
        claimed(order, staff(store, "Alex"))
        response = api_post(_line_url(order, "pick"), key, {"qty": 1})
        assert response.status_code == 200, response.content
        assert response.json()["lines"][0]["picked"] == 1 and response.json()["status"] == "picking"
        assert response.json() == api_get(f"/api/v1/orders/{order.pk}", key).json()

    def test_the_store_picks_what_an_associate_holds(self, api_post, key, store, order):
        claimed(order, staff(store))
        body = api_post(_line_url(order, "pick"), key, {"qty": 2}).json()
        assert body["lines"][0]["picked"] == 2

    def test_not_found_shrinks_the_order(self, api_post, key, order):
        claimed(order, TILL)
        body = api_post(_line_url(order, "not-found"), key, {"qty": 1}).json()
        assert body["lines"][0]["not_found"] == 1 and body["total"] == "10.00"


class TestReadyForPickup:
    def test_stages_and_tells_the_shopper(self, api_post, key, store):
        from shelfcall.orders.actions import ShopperContact

        order = submit(make_showcase(store), contact=ShopperContact(name="Kim", email="kim@example.com"))
        picked(order, TILL)
        desk = make_drop_zone(store)
        response = api_post(_url(order, "ready-for-pickup"), key, {"drop_zone_id": desk.pk, "location": "shelf B"})
        body = response.json()
        assert response.status_code == 200 and body["status"] == "ready"
        assert body["staged_location"] == "Customer Service desk — shelf B" and body["drop_zone_id"] == desk.pk
        assert OutboxMessage.objects.filter(order=order, purpose="ready").exists()

    def test_moves_a_ready_order(self, api_post, key, order):
        staged(order, TILL)
        assert api_post(_url(order, "ready-for-pickup"), key, {"location": "Locker 4"}).json()["staged_location"] == (
            "Locker 4"
        )
        assert order.events.filter(type=EventType.RESTAGED).count() == 1

    def test_needs_a_place(self, api_post, key, order):
        picked(order, TILL)
        assert _error(api_post(_url(order, "ready-for-pickup"), key, {})) == (422, "location_required", "location")

    def test_a_drop_zone_of_another_store_is_refused_by_name(self, api_post, key, order):
        picked(order, TILL)
        elsewhere = make_drop_zone(make_store())
        response = api_post(_url(order, "ready-for-pickup"), key, {"drop_zone_id": elsewhere.pk})
        assert _error(response) == (422, "invalid", "drop_zone_id")

    def test_open_units_are_a_conflict(self, api_post, key, order):
        claimed(order, TILL)
        response = api_post(_url(order, "ready-for-pickup"), key, {"location": "desk"})
        assert _error(response) == (409, "not_fully_picked", None)

    @pytest.mark.parametrize("drop_zone", ["inactive", "unknown", "past any id"])
    def test_a_drop_zone_that_is_no_choice_is_refused_by_name(self, api_post, key, store, order, drop_zone):
        picked(order, TILL)
        desk = make_drop_zone(store)
        DropZone.objects.filter(pk=desk.pk).update(active=False)
        drop_zone_id = {"inactive": desk.pk, "unknown": desk.pk + 1, "past any id": 2**63}[drop_zone]
        response = api_post(_url(order, "ready-for-pickup"), key, {"drop_zone_id": drop_zone_id})
        assert _error(response) == (422, "invalid", "drop_zone_id")
        order.refresh_from_db()
        assert order.status == OrderStatus.PICKING

    def test_an_organization_key_stages_at_the_order_s_store_s_drop_zone(self, api_post, make_key, store, order):
        key = make_key(store, Scope.ORDERS_READ, Scope.ORDERS_WRITE, whole_organization=True)
        picked(order, TILL)
        elsewhere, desk = make_drop_zone(make_store(organization=store.organization)), make_drop_zone(store, "Desk")
        response = api_post(_url(order, "ready-for-pickup"), key, {"drop_zone_id": elsewhere.pk})
        assert _error(response) == (422, "invalid", "drop_zone_id")
        body = api_post(_url(order, "ready-for-pickup"), key, {"drop_zone_id": desk.pk}).json()
        assert (body["status"], body["drop_zone_id"], body["staged_location"]) == ("ready", desk.pk, "Desk")
        assert [line["id"] for line in body["lines"]] == list(order.lines.values_list("pk", flat=True))

    def test_an_order_out_of_the_key_s_reach_is_not_found_before_its_drop_zone(self, api_post, key, store):
        other = make_store()
        elsewhere = submit(make_showcase(other))
        picked(elsewhere, TILL)
        response = api_post(_url(elsewhere, "ready-for-pickup"), key, {"drop_zone_id": make_drop_zone(other).pk})
        assert _error(response) == (404, "not_found", None)


class TestHandOff:
    def test_hands_off_with_a_rejection(self, api_get, api_post, key, order):
        staged(order, TILL)
        actions.mark_paid(order.pk, by=TILL)
        line = order.lines.get()
        body = {"pickup_code": order.barcode_value, "rejections": [{"line_id": line.pk, "qty": 1, "reason": "damaged"}]}
        response = api_post(_url(order, "hand-off"), key, body)
        assert response.status_code == 200 and response.json()["status"] == "completed"
        assert response.json()["lines"][0]["rejected"] == 1 and response.json()["refund_due"] == "10.00"
        assert response.json() == api_get(f"/api/v1/orders/{order.pk}", key).json(), "the order as it is now"

    def test_an_order_taken_here_for_another_store_is_handed_off(self, api_post, key, store):
        sister = make_store(organization=store.organization)
        product = make_product(sister, price="10.00")
        order = submit(make_showcase(sister, products=[product]), {product: 1})
        Order.objects.filter(pk=order.pk).update(origin_store=store)
        staged(order, TILL)
        actions.mark_paid(order.pk, by=TILL)
        assert api_post(_url(order, "hand-off"), key, {}).json()["status"] == "completed"

    def test_another_stores_order_is_not_found_and_stays_ready(self, api_post, make_key, order):
        staged(order, TILL)
        actions.mark_paid(order.pk, by=TILL)
        stranger = make_key(make_store(), Scope.ORDERS_READ, Scope.ORDERS_WRITE)
        refused = api_post(_url(order, "hand-off"), stranger, {})
        missing = api_post(f"/api/v1/orders/{order.pk + 1000}/hand-off", stranger, {})
        assert (refused.status_code, refused.json()) == (missing.status_code, missing.json())
        assert _error(refused) == (404, "not_found", None)
        order.refresh_from_db()
        assert order.status == OrderStatus.READY

    def test_unpaid_is_refused_where_the_store_wants_payment_first(self, api_post, key, order):
        staged(order, TILL)
        assert _error(api_post(_url(order, "hand-off"), key, {})) == (409, "payment_required", None)

    def test_the_pickup_code_is_checked(self, api_post, key, order):
        staged(order, TILL)
        actions.mark_paid(order.pk, by=TILL)
        response = api_post(_url(order, "hand-off"), key, {"pickup_code": "SC1"})
        assert _error(response) == (422, "pickup_code_mismatch", "pickup_code")

    def test_the_id_check_is_required_where_the_store_requires_it(self, api_post, key, store, order):
        store.require_id_check = True
        store.save()
        staged(order, TILL)
        actions.mark_paid(order.pk, by=TILL)
        assert _error(api_post(_url(order, "hand-off"), key, {})) == (422, "id_check_required", "id_checked")
        assert api_post(_url(order, "hand-off"), key, {"id_checked": True}).json()["status"] == "completed"

    def test_a_rejection_names_its_line(self, api_post, key, order):
        staged(order, TILL)
        actions.mark_paid(order.pk, by=TILL)
        rejection = {"line_id": 999999, "qty": 1, "reason": "damaged"}
        response = api_post(_url(order, "hand-off"), key, {"rejections": [rejection]})
        assert _error(response) == (422, "invalid", "rejections.0.line_id")
        response = api_post(_url(order, "hand-off"), key, {"rejections": [rejection | {"reason": "meh"}]})
        assert _error(response)[::2] == (422, "rejections.0.reason")

    def test_a_rejections_unknown_line_is_named_before_the_orders_state_is_checked(self, api_post, key, order):
        rejection = {"line_id": 999999, "qty": 1, "reason": "damaged"}
        response = api_post(_url(order, "hand-off"), key, {"rejections": [rejection]})
        assert _error(response) == (422, "invalid", "rejections.0.line_id"), "not yet ready: named first all the same"


class TestCancel:
    def test_cancels_with_the_reason(self, api_post, key, order):
        response = api_post(_url(order, "cancel"), key, {"reason": "Webshop order withdrawn"})
        assert response.status_code == 200 and response.json()["status"] == "cancelled"
        assert order.events.get(type=EventType.CANCELLED).payload["reason"] == "Webshop order withdrawn"

    @pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "a\x00b"}, {"reason": "x" * 201}])
    def test_a_reason_is_required(self, api_post, key, order, body):
        assert _error(api_post(_url(order, "cancel"), key, body))[::2] == (422, "reason")

    def test_a_completed_order_is_a_conflict(self, api_post, key, order):
        staged(order, TILL)
        actions.mark_paid(order.pk, by=TILL)
        actions.hand_off_order(order.pk, by=TILL)
        assert _error(api_post(_url(order, "cancel"), key, {"reason": "late"})) == (409, "wrong_status", None)


def test_allowed_actions_for_the_store_system(api_get, key, order):
    response = api_get(_url(order, "allowed-actions"), key)
    assert response.json() == {
        "order_id": order.pk,
        "status": "submitted",
        "actions": ["cancel", "claim", "pay", "reassign", "set_sub_status"],
    }
    staged(order, TILL)
    assert api_get(_url(order, "allowed-actions"), key).json()["actions"] == [
        "cancel",
        "hand_off",
        "pay",
        "restage",
        "set_sub_status",
    ]


# Each action: how to bring the order to where the action applies, its path and its body.
ACTIONS = {
    "claim": (lambda order: None, lambda order: _url(order, "claim"), None),
    "pick": (lambda order: claimed(order, TILL), lambda order: _line_url(order, "pick"), {"qty": 1}),
    "not-found": (lambda order: claimed(order, TILL), lambda order: _line_url(order, "not-found"), {"qty": 1}),
    "ready-for-pickup": (
        lambda order: picked(order, TILL),
        lambda order: _url(order, "ready-for-pickup"),
        {"location": "desk"},
    ),
    "hand-off": (
        lambda order: (staged(order, TILL), actions.mark_paid(order.pk, by=TILL)),
        lambda order: _url(order, "hand-off"),
        {},
    ),
    "cancel": (lambda order: None, lambda order: _url(order, "cancel"), {"reason": "gone"}),
}


@pytest.mark.parametrize("action", list(ACTIONS))
def test_a_retry_gets_the_first_answer(api_post, key, order, action):
    prepare, url_for, body = ACTIONS[action]
    prepare(order)
    first = api_post(url_for(order), key, body, idempotency_key=f"retry-{action}")
    assert first.status_code == 200, first.content
    events = order.events.count()
    retry = api_post(url_for(order), key, body, idempotency_key=f"retry-{action}")
    assert (retry.status_code, retry.content) == (first.status_code, first.content)
    assert retry["Idempotent-Replayed"] == "true" and order.events.count() == events, "done once"


# Not found, hand-off and cancel also write the reservation journal (one INSERT for all the lines).
# Pinned with equality: lower a count when a change saves statements, never raise it quietly.
STATEMENTS = {"claim": 6, "pick": 6, "not-found": 15, "ready-for-pickup": 7, "hand-off": 10, "cancel": 14}


@pytest.mark.parametrize("action", list(ACTIONS))
def test_each_action_takes_a_few_statements_whatever_the_lines(api_post, key, store, action, count_statements):
    products = [make_product(store) for _ in range(6)]
    order = submit(make_showcase(store, products=products), dict.fromkeys(products, 1))
    prepare, url_for, body = ACTIONS[action]
    prepare(order)
    url = url_for(order)
    # The key (and its last use), the idempotency claim and its keeping: 4. The rest is the order found
    # (the hand-off's own locked read of it, with its lines, is the look-up; a claim's and a pick's UPDATE
    # return it) and the action's own (hand-off and cancel settle or release each line's stock).
    with count_statements(STATEMENTS[action]) as statements:
        assert api_post(url, key, body, idempotency_key=f"count-{action}").status_code == 200
    assert len(statements) == STATEMENTS[action], "fewer statements now? lower STATEMENTS"


def test_allowed_actions_take_three_statements(api_get, key, order, count_statements):
    api_get("/api/v1/stores", key)  # the key's last use is written once a minute: not in the count
    with count_statements(3):  # the key, the order, its lines
        assert api_get(_url(order, "allowed-actions"), key).status_code == 200


class TestSameRefusalAsTheWorkspace:
    """For the same order in the same state, the API refuses with the code (and words) the workspace's
    associate gets from the very same action."""

    def _workspace_refusal(self, store, order, path: str, data: dict) -> str:
        supervisor = make_user(store, name="Sam", role=Role.SUPERVISOR)
        response = signed_in(supervisor).post(f"/w/orders/{order.pk}/{path}", data, follow=True)
        return [str(m) for m in response.context["messages"]][-1]

    @pytest.mark.parametrize(
        ("situation", "api_action", "workspace_action", "data"),
        [
            ("cancelled", "claim", "claim", {}),
            ("submitted", "ready-for-pickup", "stage", {"note": "desk"}),
            ("ready", "cancel-after-hand-off", "cancel", {"reason": "late"}),
        ],
    )
    def test_same_code_and_message(self, api_post, key, store, order, situation, api_action, workspace_action, data):
        supervisor_actor = Actor.staff(make_user(store, name="Jo", role=Role.SUPERVISOR), Role.SUPERVISOR)
        if situation == "cancelled":
            actions.cancel_order(order.pk, by=TILL, reason="gone")
            call = lambda: actions.claim_order(order.pk, by=supervisor_actor)  # noqa: E731
            api = api_post(_url(order, "claim"), key)
        elif situation == "submitted":
            call = lambda: actions.stage_order(order.pk, by=supervisor_actor, note="desk")  # noqa: E731
            api = api_post(_url(order, "ready-for-pickup"), key, {"location": "desk"})
        else:
            staged(order, TILL)
            actions.mark_paid(order.pk, by=TILL)
            actions.hand_off_order(order.pk, by=TILL)
            call = lambda: actions.cancel_order(order.pk, by=supervisor_actor, reason="late")  # noqa: E731
            api = api_post(_url(order, "cancel"), key, data)
        with pytest.raises(Exception) as refused:
            call()
        assert (api.status_code, api.json()["error"]["code"]) == (refused.value.status, refused.value.code)
        assert api.json()["error"]["message"] == self._workspace_refusal(store, order, workspace_action, data)

    def test_a_person_holding_the_order_is_the_same_conflict(self, api_post, key, store, order):
        claimed(order, staff(store, "Alex"))
        api = api_post(_url(order, "claim"), key)
        with pytest.raises(Exception) as refused:
            actions.claim_order(order.pk, by=staff(store, "Ben"))
        assert (api.status_code, api.json()["error"]["code"]) == (refused.value.status, refused.value.code)
        assert refused.value.code == "already_claimed"

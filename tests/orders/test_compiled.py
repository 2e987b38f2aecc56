"""Hot-path queries compiled once: they return what the ORM would, bind each call's own arguments."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import F

from shelfcall.core import clock
from shelfcall.orders.compiled import CompiledGet, CompiledInsert, CompiledList, CompiledSet, CompiledUpdate, maker
from shelfcall.orders.models import Order, OrderEvent, OrderLine
from tests.factories import make_product, make_showcase, make_store, staff, submit

pytestmark = pytest.mark.django_db

ORDER_WITH_STORE = CompiledGet(
    lambda order_id: Order.objects.select_related("store", "assignee").filter(pk=order_id), int
)
LINES_OF_STORE = CompiledList(
    lambda store_id: (
        OrderLine.objects.select_related("order")
        .filter(order__store_id=store_id)
        .annotate(doubled=F("requested_qty") * 2)
        .order_by("pk")
    ),
    int,
)
INSERT_EVENT = CompiledInsert(OrderEvent)
RENAME = CompiledUpdate(
    lambda order_id, name: (Order.objects.filter(pk=order_id, status="submitted"), {"shopper_name": name}),
    int,
    str,
    returning="shopper_name",
)


@pytest.fixture
def orders():
    store = make_store()
    showcase = make_showcase(store, products=[make_product(store, on_hand=10)])
    return [submit(showcase) for _ in range(2)]


def test_a_compiled_read_gives_the_orm_s_object_and_its_related_ones(orders, django_assert_num_queries):
    first, second = orders
    with django_assert_num_queries(2):
        read = [ORDER_WITH_STORE.first(order.pk) for order in (first, second)]
    with django_assert_num_queries(0):  # the store came with it
        assert [(o.pk, o.number, o.store.name, o.assignee) for o in read] == [
            (o.pk, o.number, o.store.name, None) for o in (first, second)
        ]
    assert read[0].created_at == Order.objects.get(pk=first.pk).created_at
    assert read[0].total_amount == first.total_amount and read[0]._state.db == "default"


def test_a_compiled_list_gives_the_orm_s_objects_with_their_related_ones_and_annotations(
    orders, django_assert_num_queries
):
    store_id = orders[0].store_id
    expected = list(
        OrderLine.objects.select_related("order")
        .filter(order__store_id=store_id)
        .annotate(doubled=F("requested_qty") * 2)
        .order_by("pk")
    )
    with django_assert_num_queries(1):
        lines = LINES_OF_STORE.all(store_id)
    with django_assert_num_queries(0):
        assert [(line.pk, line.unit_price, line.order.number, line.doubled) for line in lines] == [
            (line.pk, line.unit_price, line.order.number, line.doubled) for line in expected
        ]
    assert len(lines) == 2 and LINES_OF_STORE.all(store_id + 1000) == []


def test_a_compiled_read_of_no_row_is_none(orders):
    assert ORDER_WITH_STORE.first(orders[-1].pk + 1000) is None


def test_a_compiled_update_binds_each_call_s_arguments_and_returns_what_it_wrote(orders):
    first, second = orders
    assert RENAME.run(first.pk, "Kim") == ["Kim"]
    assert RENAME.run(second.pk, "Lee") == ["Lee"]
    assert dict(Order.objects.values_list("pk", "shopper_name")) == {first.pk: "Kim", second.pk: "Lee"}


def test_a_compiled_update_returns_nothing_for_the_rows_its_condition_left_out(orders):
    from shelfcall.orders import actions

    actions.claim_order(orders[0].pk, by=staff(orders[0].store))
    assert RENAME.run(orders[0].pk, "Kim") == []


def test_an_argument_that_does_not_reach_the_statement_is_refused_at_compile_time(orders):
    ignores_its_argument = CompiledGet(lambda line_id: OrderLine.objects.filter(pk=1), int)
    with pytest.raises(AssertionError, match="do not reach the statement"):
        ignores_its_argument.first(1)


def test_a_compiled_insert_writes_the_row_and_sets_what_the_database_returns(orders, django_assert_num_queries):
    first, second = orders
    made = [
        OrderEvent(order=order, type="note", created_at=clock.now(), actor_kind="system", payload={"n": n})
        for n, order in enumerate((first, second))
    ]
    with django_assert_num_queries(2):
        for event in made:
            assert INSERT_EVENT.create(event) is event
    assert made[0].pk and made[1].pk > made[0].pk and not made[0]._state.adding
    stored = OrderEvent.objects.get(pk=made[1].pk)
    assert (stored.order_id, stored.payload, stored.created_at) == (second.pk, {"n": 1}, made[1].created_at)
    # the db_default column comes back from the INSERT, as bulk_create sets it
    assert made[1].xact_id == stored.xact_id and (stored.xact_id is not None) == (connection.vendor == "postgresql")


def test_a_compiled_insert_refuses_a_value_where_the_database_sets_one(orders):
    event = OrderEvent(order=orders[0], type="note", created_at=clock.now(), actor_kind="system", xact_id=7)
    with pytest.raises(ValueError, match="xact_id"):
        INSERT_EVENT.create(event)


INSERT_LINES = CompiledInsert(OrderLine)


def _lines(order, count):
    product = order.lines.first().product
    return [
        OrderLine(order=order, product=product, sku=f"X{n}", name=f"Line {n}", unit_price=1, requested_qty=n + 1)
        for n in range(count)
    ]


def test_a_compiled_insert_of_several_rows_is_one_statement_that_sets_each_row_s_id(orders, django_assert_num_queries):
    made = _lines(orders[0], 3)
    with django_assert_num_queries(1):
        assert INSERT_LINES.create_many(made) == made
    stored = {line.pk: line for line in OrderLine.objects.filter(pk__in=[line.pk for line in made])}
    # each row's id is its own: the rows come back in the order they were given
    assert [(stored[line.pk].sku, stored[line.pk].requested_qty) for line in made] == [("X0", 1), ("X1", 2), ("X2", 3)]
    # the db_default columns are the database's (a parameter on SQLite, DEFAULT on PostgreSQL)
    assert {(line.substitution, line.proposed_qty) for line in stored.values()} == {("", 0)}
    assert not made[0]._state.adding and INSERT_LINES.create_many([]) == []


def test_a_compiled_insert_past_its_batch_size_is_bulk_create_s(orders):
    made = _lines(orders[1], CompiledInsert.MAX_ROWS + 1)
    INSERT_LINES.create_many(made)
    assert OrderLine.objects.filter(order=orders[1], sku__startswith="X").count() == CompiledInsert.MAX_ROWS + 1
    assert len({line.pk for line in made}) == len(made)


SET_CLAIM = CompiledSet(
    lambda order_id: Order.objects.filter(pk=order_id, status="submitted"),
    int,
    fields=("status", "assignee", "claimed_at", "expires_at", "total_amount"),
)


def test_a_compiled_set_writes_any_field_s_value_as_update_would(orders, django_assert_num_queries):
    first, second = orders
    picker, moment = staff(first.store).user, clock.now()
    with django_assert_num_queries(1):
        assert SET_CLAIM.run([first.pk], ["picking", picker, moment, None, Decimal("12.34")]) == [first.pk]
    stored = Order.objects.get(pk=first.pk)
    assert (stored.status, stored.assignee_id, stored.claimed_at, stored.expires_at, stored.total_amount) == (
        "picking",
        picker.pk,
        moment,
        None,
        Decimal("12.34"),
    )
    # the condition still decides: the first is picked now; the second is untouched by the first's call
    assert SET_CLAIM.run([first.pk], ["picking", None, moment, None, Decimal(1)]) == []
    assert Order.objects.get(pk=second.pk).status == "submitted"


def test_an_instance_made_from_a_row_is_the_one_from_db_makes(orders):
    fields = Order._meta.concrete_fields
    attnames = [f.attname for f in fields]
    values = list(Order.objects.filter(pk=orders[0].pk).values_list(*attnames).get())
    made, expected = maker(Order)("default", attnames, values), Order.from_db("default", attnames, values)
    assert type(made) is Order and vars(made).keys() == vars(expected).keys()
    assert [getattr(made, name) for name in attnames] == [getattr(expected, name) for name in attnames]
    assert (made._state.adding, made._state.db) == (False, "default") and made.store == expected.store


def test_a_model_whose_making_has_a_receiver_is_made_by_from_db():
    from django.db.models import signals

    def receiver(**kwargs):
        pass

    maker.cache_clear()
    signals.post_init.connect(receiver, sender=OrderEvent)
    try:
        assert maker(OrderEvent) == OrderEvent.from_db
    finally:
        signals.post_init.disconnect(receiver, sender=OrderEvent)
        maker.cache_clear()
    assert maker(OrderEvent) != OrderEvent.from_db

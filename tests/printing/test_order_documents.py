"""Pick lists and receipt copies, read back as a person and a scanner would: their text (order numbers,
lines, totals, the language) and every barcode decoded to the order's barcode value."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shelfcall.orders import actions
from shelfcall.orders.actions import ShopperContact
from shelfcall.orders.models import Order, OrderLine
from shelfcall.printing.orders import orders_for_printing, pick_list_pdf, pick_rows, receipts_pdf
from shelfcall.stores.models import Store
from tests.factories import TILL, claimed, make_product, make_showcase, make_store, staged, submit
from tests.printing.conftest import LONG_NAME
from tests.support.pdf import codes_on_pages, page_texts, page_words

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """Two stores of one organization: three orders at Lyon (one half picked), one at Nantes."""
    lyon = make_store(name="Lyon Part-Dieu", address="17 rue du Docteur Bouchut\n69003 Lyon")
    nantes = make_store(name="Nantes Atlantis", organization=lyon.organization, currency="EUR")
    drill = make_product(lyon, name="Cordless drill", sku="DRILL-18V", price="89.90", location_hint="Aisle 4")
    saw = make_product(lyon, name="Jigsaw", sku="SAW-1", price="59.00", location_hint="Aisle 2")
    glue = make_product(lyon, name=LONG_NAME, sku="LONG-1", price="4.50")
    case = make_showcase(lyon, products=[drill, saw, glue])
    first = submit(case, {drill: 1, saw: 2}, contact=ShopperContact(name="Camille"))
    second = submit(case, {drill: 1, glue: 3}, contact=ShopperContact(name="Léa"))
    third = submit(case, {saw: 1})
    claimed(third, TILL)
    actions.pick_line(third.pk, third.lines.get().pk, by=TILL)  # nothing left to pick on it
    lamp = make_product(nantes, name="Desk lamp", sku="LAMP-2", price="25.00", location_hint="Lighting")
    far = submit(make_showcase(nantes, products=[lamp]), {lamp: 2})
    return {"orders": [first, second, third, far], "lyon": lyon, "nantes": nantes}


def test_the_orders_are_read_in_three_statements_whatever_their_number(world):
    with CaptureQueriesContext(connection) as captured:
        orders = orders_for_printing(order.pk for order in world["orders"])
        pick_list_pdf(orders)
        receipts_pdf(orders)
    assert len(captured.captured_queries) == 3


def test_a_pick_list_groups_by_store_then_by_location(world):
    orders = orders_for_printing(order.pk for order in world["orders"])
    rows = pick_rows([order for order in orders if order.store == world["lyon"]])
    assert [(row.location, row.line.sku, row.order.number) for row in rows] == [
        ("Aisle 2", "SAW-1", world["orders"][0].number),
        ("Aisle 4", "DRILL-18V", world["orders"][0].number),
        ("Aisle 4", "DRILL-18V", world["orders"][1].number),
        ("", "LONG-1", world["orders"][1].number),  # no location: last
    ]
    pages = page_texts(pick_list_pdf(orders))
    lyon, nantes = pages[0], pages[-1]
    assert "Pick list · Lyon Part-Dieu" in lyon and "Pick list · Nantes Atlantis" in nantes
    assert lyon.index("Aisle 2") < lyon.index("Aisle 4") < lyon.index("No location given")
    assert "Jigsaw" in lyon and "Desk lamp" not in lyon and "Desk lamp" in nantes
    assert "Perceuse-visseuse" in lyon and "…" in lyon, "a long name is cut, never run off the page"
    assert not [word for page in page_words(pick_list_pdf(orders)) for word in page.overflowing()]


def test_every_order_on_a_pick_list_has_a_barcode_that_scans_to_it(world):
    orders = orders_for_printing(order.pk for order in world["orders"])
    scanned = [code.text for page in codes_on_pages(pick_list_pdf(orders)) for code in page]
    assert scanned == [order.barcode_value for order in orders]


def test_each_stores_pick_list_is_in_the_language_its_staff_read(world):
    Store.objects.filter(pk=world["lyon"].pk).update(language="fr")
    orders = orders_for_printing([world["orders"][0].pk, world["orders"][3].pk])
    lyon, nantes = page_texts(pick_list_pdf(orders))
    assert "Pick list · Nantes Atlantis" in nantes
    assert "Liste de préparation" in lyon and "Commandes de cette liste" in lyon


def test_a_receipt_per_order_with_its_lines_totals_and_payments_in_its_stores_language(world):
    first, second = world["orders"][:2]
    actions.record_payment(first.pk, amount=Decimal("50.00"), method="card", by=TILL, reference="T-42")
    english = page_texts(receipts_pdf(orders_for_printing([first.pk])))[0]
    Store.objects.filter(pk=world["lyon"].pk).update(language="fr")
    pdf = receipts_pdf(orders_for_printing([first.pk, second.pk]))
    french = page_texts(pdf)[1]
    assert f"Receipt copy · Order {first.number}" in english
    assert "17 rue du Docteur Bouchut" in english and "Camille" in english
    assert "€207.90" in english and "€50.00" in english and "€157.90" in english, "total, paid, still to pay"
    assert "T-42" in english
    assert f"Copie du reçu · Commande {second.number}" in french
    assert "103,40 €" in french.replace("\u202f", " ").replace("\xa0", " ")
    scanned = [code.text for page in codes_on_pages(pdf) for code in page]
    assert scanned == [first.barcode_value, second.barcode_value]


def test_a_receipt_names_what_was_not_supplied(world):
    order = world["orders"][0]
    alex_holds = staged_after_short_pick(order)
    text = page_texts(receipts_pdf(orders_for_printing([alex_holds.pk])))[0]
    assert "Jigsaw (1 not supplied)" in text


def staged_after_short_pick(order: Order) -> Order:
    claimed(order, TILL)
    saw = order.lines.get(sku="SAW-1")
    actions.mark_line_not_found(order.pk, saw.pk, by=TILL, qty=1)
    for line in OrderLine.objects.filter(order=order):  # as they are now, not as the order was made
        if line.open_qty:
            actions.pick_line(order.pk, line.pk, by=TILL, qty=line.open_qty)
    return actions.stage_order(order.pk, by=TILL, note="Desk")


def test_nothing_selected_prints_a_page_saying_so():
    assert "Nothing to print." in page_texts(pick_list_pdf([]))[0]
    assert "Nothing to print." in page_texts(receipts_pdf([]))[0]


def test_staged_orders_are_printed_too():
    store = make_store()
    product = make_product(store, location_hint="Back room")
    order = staged(submit(make_showcase(store, products=[product])), TILL)
    receipt = page_texts(receipts_pdf(orders_for_printing([order.pk])))[0]
    assert f"Order {order.number}" in receipt
    assert (
        "Everything on these orders is picked already." in page_texts(pick_list_pdf(orders_for_printing([order.pk])))[0]
    )

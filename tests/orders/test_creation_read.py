"""What a new order reads before it writes: one statement, giving what the ORM's own queries would."""

import pytest

from shelfcall.catalog.models import Product, StockLevel
from shelfcall.orders import actions
from shelfcall.orders.creation_read import SameOrder, read_for_import, read_for_showcase
from shelfcall.orders.events import SYSTEM
from shelfcall.orders.models import Order, OrderSource
from shelfcall.stores.models import Store
from tests.factories import make_product, make_showcase, make_store, submit

pytestmark = pytest.mark.django_db


def _columns(obj) -> list:
    return [getattr(obj, field.attname) for field in type(obj)._meta.concrete_fields]


def _as_orm_reads(objects) -> list[list]:
    """Each object as the ORM reads its row."""
    return [_columns(type(obj).objects.get(pk=obj.pk)) for obj in objects]


@pytest.fixture
def store():
    # Columns JSON must carry back as they were: a JSON column, decimals, booleans.
    return make_store(
        shopper_texts={"fr": {"help_text": "Demandez à l'accueil."}},
        latitude="48.856600",
        longitude="2.352200",
        require_shopper_contact=True,
    )


KIM = actions.ShopperContact(name="Kim", phone="+33 6 12 34 56 78")


def _pos_order(store: Store, product: Product, external_id: str) -> Order:
    return actions.create_order(
        store,
        [actions.CartLine(product.pk, 1)],
        source=OrderSource.POS,
        by=SYSTEM,
        contact=KIM,
        external_id=external_id,
    ).order


def test_an_import_reads_its_stores_products_stock_and_order_in_one_statement(store, django_assert_num_queries):
    other_store = make_store(organization=store.organization)
    by_sku = [make_product(store, on_hand=n) for n in (3, 4, 5)]  # three SKUs: padded to four
    inactive = make_product(store, active=False)
    by_barcode, by_id = make_product(store), make_product(store)
    make_product(make_store(), sku=by_sku[0].sku)  # another organization's product of the same SKU
    made = _pos_order(store, by_id, "till-7")
    with django_assert_num_queries(1):
        read = read_for_import(
            store.organization_id,
            (other_store.pk, store.pk),
            skus=[product.sku for product in [*by_sku, inactive]],
            barcodes=[by_barcode.upc],
            ids=[by_id.pk],
            same=SameOrder.external("pos", "till-7"),
        )
    named = [*by_sku, inactive, by_barcode, by_id]
    assert sorted(map(_columns, read.products)) == sorted(_as_orm_reads(named))
    assert [_columns(read.levels[product.pk]) for product in named] == _as_orm_reads(
        StockLevel.objects.get(store=store, product=product) for product in named
    )
    assert [_columns(read.stores[pk]) for pk in (store.pk, other_store.pk)] == _as_orm_reads([store, other_store])
    assert read.existing is not None and _columns(read.existing) == _as_orm_reads([made])[0]


def test_no_order_is_the_same_one_by_a_blank_external_id_or_another_source(store):
    product = make_product(store)
    _pos_order(store, product, "")
    _pos_order(store, product, "till-8")
    for same in (SameOrder.external("pos", ""), SameOrder.external("online", "till-8")):
        read = read_for_import(store.organization_id, (store.pk, store.pk), ids=[product.pk], same=same)
        assert read.existing is None, same


def test_a_showcase_reads_only_its_active_offers_and_the_same_submission(store, django_assert_num_queries):
    offered, sold_elsewhere, withdrawn, inactive = (make_product(store) for _ in range(4))
    showcase = make_showcase(store, products=[offered, withdrawn, inactive])
    make_showcase(store, products=[sold_elsewhere])
    showcase.items.filter(product=withdrawn).update(active=False)
    Product.objects.filter(pk=inactive.pk).update(active=False)
    made = submit(showcase, {offered: 1}, key="cart-1", device_id="phone-1", contact=KIM)
    ids = [offered.pk, sold_elsewhere.pk, withdrawn.pk, inactive.pk]
    with django_assert_num_queries(1):
        read = read_for_showcase(showcase, ids, same=SameOrder.submission("phone-1", "cart-1"))
    assert [product.pk for product in read.products] == [offered.pk]
    assert read.existing is not None and read.existing.pk == made.pk
    another_phone = read_for_showcase(showcase, ids, same=SameOrder.submission("phone-2", "cart-1"))
    assert another_phone.existing is None and another_phone.stores == {}

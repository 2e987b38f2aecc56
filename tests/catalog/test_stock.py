"""Stock counts are written through catalog/stock.py only, and never touch what open orders hold."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from shelfcall.catalog import stock
from shelfcall.catalog.admin import ProductAdmin
from shelfcall.catalog.models import Product, StockLevel
from shelfcall.stores.models import Membership, Role, Store
from tests.factories import make_product, make_showcase, make_store, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def store() -> Store:
    return make_store(name="Alpha")


@pytest.fixture
def product(store) -> Product:
    return make_product(store, name="Shaver", sku="SHV", on_hand=5)


def _hold(store: Store, product: Product, qty: int) -> None:
    submit(make_showcase(store, products=[product]), {product: qty}, contact=None)


def _level(store: Store, product: Product) -> StockLevel:
    return StockLevel.objects.get(store=store, product=product)


# The module


def test_setting_a_count_keeps_what_orders_hold_and_reports_oversold(store, product):
    _hold(store, product, 3)
    count = stock.set_on_hand(store.pk, product.pk, 2)
    assert (count.on_hand, count.reserved, count.oversold) == (2, 3, True)
    level = _level(store, product)
    assert (level.on_hand, level.reserved, level.available) == (2, 3, 0)
    assert not stock.set_on_hand(store.pk, product.pk, 3).oversold


def test_setting_a_count_creates_the_level_in_one_statement(store, product, django_assert_num_queries):
    sister = make_store(organization=store.organization)
    with django_assert_num_queries(1):
        count = stock.set_on_hand(sister.pk, product.pk, 4)
    assert (count.on_hand, count.reserved, count.level_id) == (4, 0, _level(sister, product).pk)


@pytest.mark.parametrize("on_hand", [-1, stock.MAX_ON_HAND + 1])
def test_a_count_out_of_range_is_refused_naming_the_field(store, product, on_hand):
    with pytest.raises(stock.InvalidCount) as refused:
        stock.set_on_hand(store.pk, product.pk, on_hand)
    assert refused.value.field == "on_hand" and str(on_hand) in refused.value.message
    assert _level(store, product).on_hand == 5


# The admin


@pytest.fixture
def client(store) -> Client:
    user = get_user_model().objects.create_user("alice", password="x", is_staff=True)
    user.user_permissions.set(Permission.objects.all())
    Membership.objects.create(user=user, organization=store.organization, store=store, role=Role.STORE_ADMIN)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def sister(client, store) -> Store:
    """A second store of the organization that the signed-in store admin also runs."""
    sister = make_store(organization=store.organization, name="Beta")
    Membership.objects.create(
        user=get_user_model().objects.get(username="alice"),
        organization=store.organization,
        store=sister,
        role=Role.STORE_ADMIN,
    )
    return sister


def _url(product: Product) -> str:
    return f"/admin/catalog/product/{product.pk}/change/"


def _stock_form(level: StockLevel, on_hand: int, **extra: object) -> dict:
    return {
        "stock_levels-TOTAL_FORMS": "1",
        "stock_levels-INITIAL_FORMS": "1",
        "stock_levels-0-id": level.pk,
        "stock_levels-0-product": level.product_id,
        "stock_levels-0-store": level.store_id,
        "stock_levels-0-on_hand": str(on_hand),
    } | extra


def test_the_admin_shows_reserved_and_available_read_only(client, store, product):
    _hold(store, product, 2)
    page = client.get(_url(product))
    formset = page.context["inline_admin_formsets"][0].formset
    assert "reserved" not in formset.forms[0].fields
    html = page.content.decode()
    assert re.search(r'<td class="field-reserved">\s*<p>2</p>', html)
    assert re.search(r'<td class="field-available">\s*<p>3</p>', html)


def test_an_order_holding_stock_between_loading_and_saving_keeps_its_units(client, store, product):
    """The race: the page is loaded, an order holds units, the count is posted."""
    level = _level(store, product)
    assert client.get(_url(product)).status_code == 200
    _hold(store, product, 2)
    forged = {"stock_levels-0-reserved": "0"}  # not a field of the form: ignored
    assert client.post(_url(product), _stock_form(level, 9, **forged)).status_code == 302
    level.refresh_from_db()
    assert (level.on_hand, level.reserved) == (9, 2)


def test_units_held_while_the_admin_saves_are_not_overwritten(client, store, product, monkeypatch):
    """The narrowest window: the admin has loaded the rows of its POST, and an order holds units before the
    rows are saved. A whole-row save would write back the `reserved` it read."""
    level = _level(store, product)
    save_product = ProductAdmin.save_model

    def hold_then_save(admin, request, obj, form, change):
        _hold(store, product, 2)
        save_product(admin, request, obj, form, change)

    monkeypatch.setattr(ProductAdmin, "save_model", hold_then_save)
    assert client.post(_url(product), _stock_form(level, 9)).status_code == 302
    level.refresh_from_db()
    assert (level.on_hand, level.reserved) == (9, 2)


def test_the_admins_write_sets_on_hand_only(client, store, product):
    level = _level(store, product)
    with CaptureQueriesContext(connection) as queries:
        assert client.post(_url(product), _stock_form(level, 9)).status_code == 302
    writes = [q["sql"] for q in queries if StockLevel._meta.db_table in q["sql"] and "SELECT" not in q["sql"][:6]]
    assert len(writes) == 1 and "DO UPDATE SET on_hand = excluded.on_hand RETURNING" in writes[0]


def test_a_count_below_what_orders_hold_is_reported_naming_the_product(client, store, product):
    _hold(store, product, 3)
    level = _level(store, product)
    page = client.post(_url(product), _stock_form(level, 1), follow=True)
    warnings = [str(message) for message in page.context["messages"]]
    assert any("Shaver (SHV) in Alpha" in text and "1 on hand" in text and "3 units" in text for text in warnings)
    level.refresh_from_db()
    assert (level.on_hand, level.reserved, level.available) == (1, 3, 0)


def test_a_new_row_creates_the_level_and_a_negative_count_is_refused(client, store, product, sister):
    level = _level(store, product)
    new_row = {"stock_levels-1-product": product.pk, "stock_levels-1-store": sister.pk}
    form = _stock_form(level, 5, **{"stock_levels-TOTAL_FORMS": "2"}) | new_row
    page = client.post(_url(product), form | {"stock_levels-1-on_hand": "-1"})
    assert page.status_code == 200 and "on_hand" in page.context["inline_admin_formsets"][0].formset.errors[1]
    assert not StockLevel.objects.filter(store=sister).exists()
    assert client.post(_url(product), form | {"stock_levels-1-on_hand": "4"}).status_code == 302
    assert (_level(sister, product).on_hand, _level(sister, product).reserved) == (4, 0)


def test_a_level_cannot_move_to_another_store(client, store, product, sister):
    _hold(store, product, 1)
    level = _level(store, product)
    page = client.post(_url(product), _stock_form(level, 5, **{"stock_levels-0-store": sister.pk}))
    assert page.status_code == 200 and "store" in page.context["inline_admin_formsets"][0].formset.errors[0]
    level.refresh_from_db()
    assert (level.store_id, level.reserved) == (store.pk, 1)

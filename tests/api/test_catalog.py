"""The catalogue over the API: bulk upserts (whole or nothing), basket availability, the products list."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Model

from shelfcall.api.scopes import Scope
from shelfcall.catalog.imports import MAX_ROWS
from shelfcall.catalog.models import Product, StockLevel
from tests.factories import make_product, make_showcase, make_store, stock_of, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def erp_key(store, make_key):
    return make_key(store, Scope.CATALOG_WRITE, whole_organization=True, name="ERP")


def _row(sku: str, **fields) -> dict:
    return {"sku": sku, "name": f"Product {sku}", "price": "10.00"} | fields


def _error(response) -> dict:
    return response.json()["error"]


def _problems(response) -> list[tuple[int, str | None, str]]:
    return [(row["index"], row["field"], row["code"]) for row in _error(response)["rows"]]


# Products


def test_products_are_created_then_updated_by_sku(api_post, erp_key, store):
    kept = make_product(store, sku="KEEP", image_url="https://img/keep.png")
    rows = [_row("A-1", size="M", colour="Red", upc="4006381333931"), _row("KEEP", price="12.50", currency="EUR")]
    response = api_post("/api/v1/products/bulk", erp_key, {"products": rows})
    assert response.status_code == 200, response.content
    assert response.json() == {"created": 1, "updated": 1}
    created = Product.objects.get(organization=store.organization, sku="A-1")
    assert (created.variant, created.upc, created.price, created.active) == (
        "M · Red",
        "4006381333931",
        Decimal("10.00"),
        True,
    )
    kept.refresh_from_db()
    assert kept.price == Decimal("12.50") and kept.image_url == "https://img/keep.png", "left out: kept"

    response = api_post("/api/v1/products/bulk", erp_key, {"products": [_row("A-1", name="Renamed", active=False)]})
    assert response.json() == {"created": 0, "updated": 1}
    created.refresh_from_db()
    assert (created.name, created.active, created.size) == ("Renamed", False, "M")


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"price": 10.5}, "price", "invalid"),
        ({"price": "10.505"}, "price", "invalid"),
        ({"price": "-1.00"}, "price", "invalid"),
        ({"price": "1e3"}, "price", "invalid"),
        ({"price": "010.00"}, "price", "invalid"),
        ({"price": "NaN"}, "price", "invalid"),
        ({"price": "123456789.00"}, "price", "invalid"),
        ({"currency": "USD"}, "currency", "currency_mismatch"),
        ({"name": ""}, "name", "invalid"),
        ({"upc": "ABC"}, "upc", "invalid"),
        ({"active": "yes"}, "active", "invalid"),
        ({"variant": "Red"}, "variant", "unknown_field"),
    ],
)
def test_a_bad_product_row_refuses_the_whole_call(api_post, erp_key, store, fields, field, code):
    rows = [_row("GOOD-1"), _row("GOOD-2"), _row("GOOD-3"), _row("BAD") | fields]
    response = api_post("/api/v1/products/bulk", erp_key, {"products": rows})
    assert response.status_code == 422, response.content
    error = _error(response)
    assert (error["code"], error["field"]) == ("invalid_rows", "products")
    assert _problems(response) == [(3, field, code)]
    assert f"products.3.{field}" in error["message"]
    assert not Product.objects.exists(), "nothing written"


def test_a_nul_character_in_a_row_is_refused_before_the_call_is_read(api_post, erp_key):
    # core/middleware.py refuses it for every endpoint alike, naming the row's field by its dotted path.
    rows = [_row("GOOD-1"), _row("GOOD-2"), _row("GOOD-3"), _row("BAD", name="a\x00b")]
    response = api_post("/api/v1/products/bulk", erp_key, {"products": rows})
    assert response.status_code == 422, response.content
    assert (_error(response)["code"], _error(response)["field"]) == ("invalid", "products.3.name")
    assert not Product.objects.exists(), "nothing written"


def test_every_row_problem_is_reported_together(api_post, erp_key):
    rows = [_row("A"), {"sku": "B"}, _row("A"), "not an object", _row("C", price="1.999")]
    response = api_post("/api/v1/products/bulk", erp_key, {"products": rows})
    assert _problems(response) == [
        (1, "name", "invalid"),
        (1, "price", "invalid"),
        (2, "sku", "duplicate"),
        (3, None, "invalid"),
        (4, "price", "invalid"),
    ]
    assert not Product.objects.exists()


def test_a_call_over_the_limit_or_empty_is_refused(api_post, erp_key):
    too_many = [_row(f"SKU-{n}") for n in range(MAX_ROWS + 1)]
    for rows in (too_many, []):
        response = api_post("/api/v1/products/bulk", erp_key, {"products": rows})
        assert response.status_code == 422 and _error(response)["field"] == "products"
    assert not Product.objects.exists()


def test_products_take_an_organization_key(api_post, make_key, store):
    store_key = make_key(store, Scope.CATALOG_WRITE)
    response = api_post("/api/v1/products/bulk", store_key, {"products": [_row("A")]})
    assert response.status_code == 403 and _error(response)["code"] == "organization_key_required"
    assert not Product.objects.exists()


def test_an_organization_with_stores_in_several_currencies_sends_no_currency(api_post, erp_key, store):
    make_store(organization=store.organization, currency="CHF")
    response = api_post("/api/v1/products/bulk", erp_key, {"products": [_row("A", currency="EUR")]})
    assert _problems(response) == [(0, "currency", "currency_mismatch")]
    assert api_post("/api/v1/products/bulk", erp_key, {"products": [_row("A")]}).status_code == 200


def test_thousands_of_products_in_a_handful_of_statements(api_post, erp_key, store, django_assert_max_num_queries):
    make_product(store, sku="P-00001")
    rows = [_row(f"P-{n:05d}", upc=f"{n:013d}", colour="Blue") for n in range(2000)]
    # The key and its last use; the stores' currencies; how many exist; the inserts.
    with django_assert_max_num_queries(8 + _batches(Product, len(rows))):
        response = api_post("/api/v1/products/bulk", erp_key, {"products": rows})
    assert response.json() == {"created": 1999, "updated": 1}
    assert Product.objects.filter(organization=store.organization).count() == 2000


def _batches(model: type[Model], count: int) -> int:
    """INSERT statements for `count` rows: one on PostgreSQL, several on SQLite (999 parameters a statement)."""
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    return -(-count // connection.ops.bulk_batch_size(fields, [None] * count))


def test_a_retry_with_the_same_idempotency_key_is_applied_once(api_post, erp_key):
    body = {"products": [_row("A")]}
    first = api_post("/api/v1/products/bulk", erp_key, body, **{"Idempotency-Key": "erp-1"})
    again = api_post("/api/v1/products/bulk", erp_key, body, **{"Idempotency-Key": "erp-1"})
    assert first.json() == again.json() == {"created": 1, "updated": 0}
    assert again.headers["Idempotent-Replayed"] == "true"


# Stock


def test_stock_levels_are_created_and_updated(api_post, erp_key, store):
    sister = make_store(organization=store.organization)
    shaver, brush = make_product(store, sku="SHV", on_hand=5), make_product(store, sku="BR", on_hand=1)
    levels = [
        {"sku": "SHV", "store": store.pk, "on_hand": 7},
        {"sku": "SHV", "store": sister.pk, "on_hand": 3},
        {"sku": "BR", "store": store.pk, "on_hand": 0},
    ]
    response = api_post("/api/v1/stock/bulk", erp_key, {"levels": levels})
    assert response.status_code == 200, response.content
    assert response.json() == {"created": 1, "updated": 2, "oversold": []}
    assert [stock_of(shaver, store).on_hand, stock_of(shaver, sister).on_hand, stock_of(brush, store).on_hand] == [
        7,
        3,
        0,
    ]


def test_a_count_below_what_orders_hold_is_taken_and_reported(api_post, erp_key, store):
    product = make_product(store, sku="SHV", on_hand=5)
    submit(make_showcase(store, products=[product]), {product: 2})
    response = api_post("/api/v1/stock/bulk", erp_key, {"levels": [{"sku": "SHV", "store": store.pk, "on_hand": 1}]})
    assert response.json()["oversold"] == [{"sku": "SHV", "store_id": store.pk, "on_hand": 1, "reserved": 2}]
    level = stock_of(product, store)
    assert (level.on_hand, level.reserved, level.available) == (1, 2, 0), "held units stay held; none available"


def test_a_store_key_writes_its_own_store_only(api_post, make_key, store):
    sister, stranger = make_store(organization=store.organization), make_store()
    product = make_product(store, sku="SHV", on_hand=5)
    theirs = make_product(stranger, sku="SHV", on_hand=5)
    key = make_key(store, Scope.CATALOG_WRITE)
    levels = [{"sku": "SHV", "on_hand": 9}, {"sku": "SHV", "store": sister.pk, "on_hand": 9}]
    levels.append({"sku": "SHV", "store": stranger.pk, "on_hand": 9})
    response = api_post("/api/v1/stock/bulk", key, {"levels": levels})
    assert response.status_code == 422
    assert _problems(response) == [(1, "store", "unknown_store"), (2, "store", "unknown_store")]
    assert stock_of(product, store).on_hand == 5 and stock_of(theirs, stranger).on_hand == 5, "nothing written"
    assert not StockLevel.objects.filter(store=sister).exists()
    assert api_post("/api/v1/stock/bulk", key, {"levels": levels[:1]}).status_code == 200
    assert stock_of(product, store).on_hand == 9


def test_bad_stock_rows_refuse_the_whole_call(api_post, erp_key, store):
    stranger = make_store()
    make_product(store, sku="SHV", on_hand=5)
    make_product(stranger, sku="THEIRS", on_hand=5)
    levels = [
        {"sku": "SHV", "store": store.pk, "on_hand": 1},
        {"sku": "SHV", "on_hand": 1},
        {"sku": "NOPE", "store": store.pk, "on_hand": 1},
        {"sku": "THEIRS", "store": store.pk, "on_hand": 1},
        {"sku": "SHV", "store": store.pk, "on_hand": -1},
        {"sku": "SHV", "store": store.pk, "on_hand": "3"},
        {"sku": "SHV", "store": store.pk, "on_hand": 2},
        {"sku": "SHV", "store": stranger.pk, "on_hand": 1},
    ]
    response = api_post("/api/v1/stock/bulk", erp_key, {"levels": levels})
    assert _error(response)["field"] == "levels"
    assert _problems(response) == [
        (1, "store", "missing"),
        (2, "sku", "unknown_sku"),
        (3, "sku", "unknown_sku"),
        (4, "on_hand", "invalid"),
        (5, "on_hand", "invalid"),
        (6, "sku", "duplicate"),
        (7, "store", "unknown_store"),
    ]
    assert StockLevel.objects.get(store=store).on_hand == 5


def test_thousands_of_levels_in_a_handful_of_statements(api_post, erp_key, store, django_assert_max_num_queries):
    sister = make_store(organization=store.organization)
    products = Product.objects.bulk_create(
        [Product(organization=store.organization, sku=f"P-{n:05d}", name="P", price=1) for n in range(1000)]
    )
    StockLevel.objects.bulk_create([StockLevel(store=store, product=product, on_hand=1) for product in products])
    levels = [{"sku": p.sku, "store": s.pk, "on_hand": 4} for p in products for s in (store, sister)]
    with django_assert_max_num_queries(9 + _batches(StockLevel, len(levels))):
        response = api_post("/api/v1/stock/bulk", erp_key, {"levels": levels})
    assert response.json() == {"created": 1000, "updated": 1000, "oversold": []}
    assert set(StockLevel.objects.values_list("on_hand", flat=True)) == {4}


# Availability


@pytest.fixture
def chain(store):
    """Three stores of one organization: two with coordinates (Paris, Lyon), one without."""
    from shelfcall.stores.models import Store

    Store.objects.filter(pk=store.pk).update(name="Paris", latitude="48.856613", longitude="2.352222")
    lyon = make_store(organization=store.organization, name="Lyon", latitude="45.764043", longitude="4.835659")
    annex = make_store(organization=store.organization, name="Annex")
    shaver, brush = make_product(store, sku="SHV", on_hand=1), make_product(store, sku="BR", on_hand=5)
    for product, on_hand in [(shaver, 3), (brush, 1)]:
        StockLevel.objects.create(store=lyon, product=product, on_hand=on_hand)
    return {"paris": store, "lyon": lyon, "annex": annex, "shaver": shaver}


def _fills(response) -> list[tuple[str, str, list[int]]]:
    assert response.status_code == 200, response.content
    return [
        (found["store"]["name"], found["fill"], [line["available"] for line in found["lines"]])
        for found in response.json()["data"]
    ]


BASKET = {"lines": [{"sku": "SHV", "qty": 2}, {"sku": "BR", "qty": 1}]}


def test_availability_by_name_without_a_location(api_post, make_key, chain):
    key = make_key(chain["paris"], Scope.ORDERS_READ, whole_organization=True)
    assert _fills(api_post("/api/v1/availability", key, BASKET)) == [
        ("Annex", "none", [0, 0]),
        ("Lyon", "full", [3, 1]),
        ("Paris", "partial", [1, 5]),
    ]


def test_availability_nearest_first(api_post, make_key, chain):
    key = make_key(chain["paris"], Scope.ORDERS_READ, whole_organization=True)
    near_lyon = BASKET | {"near": {"lat": 45.75, "lng": 4.85}}
    response = api_post("/api/v1/availability", key, near_lyon)
    assert [name for name, _fill, _lines in _fills(response)] == ["Lyon", "Paris", "Annex"]
    distances = [found["distance_km"] for found in response.json()["data"]]
    assert distances[0] < 3 and 380 < distances[1] < 400 and distances[2] is None
    near_paris = BASKET | {"near": {"lat": 48.85, "lng": 2.35}}
    assert [name for name, _f, _l in _fills(api_post("/api/v1/availability", key, near_paris))] == [
        "Paris",
        "Lyon",
        "Annex",
    ]


def test_availability_counts_what_orders_hold_and_skips_inactive_products(api_post, make_key, chain):
    paris, shaver = chain["paris"], chain["shaver"]
    StockLevel.objects.filter(store=paris, product=shaver).update(on_hand=3)
    submit(make_showcase(paris, products=[shaver]), {shaver: 2})
    Product.objects.filter(sku="BR").update(active=False)
    key = make_key(paris, Scope.ORDERS_READ)
    assert _fills(api_post("/api/v1/availability", key, BASKET)) == [("Paris", "partial", [1, 0])], (
        "a store key: one store"
    )


def test_an_unknown_or_repeated_sku_in_the_basket_is_named(api_post, make_key, chain):
    theirs = make_store()
    make_product(theirs, sku="THEIRS")
    key = make_key(chain["paris"], Scope.ORDERS_READ)
    lines = [{"sku": "SHV", "qty": 1}, {"sku": "NOPE", "qty": 1}, {"sku": "THEIRS", "qty": 1}, {"sku": "SHV", "qty": 1}]
    response = api_post("/api/v1/availability", key, {"lines": lines})
    assert response.status_code == 422 and _error(response)["field"] == "lines"
    assert _problems(response) == [(1, "sku", "unknown_sku"), (2, "sku", "unknown_sku"), (3, "sku", "duplicate")]
    assert "lines.1.sku" in _error(response)["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"lines": []}, "lines"),
        ({"lines": [{"sku": "SHV", "qty": 0}]}, "lines.0.qty"),
        ({"lines": [{"sku": "SHV", "qty": 1}], "near": {"lat": 91, "lng": 0}}, "near.lat"),
    ],
)
def test_a_malformed_basket_is_refused_by_name(api_post, make_key, chain, body, field):
    response = api_post("/api/v1/availability", make_key(chain["paris"]), body)
    assert response.status_code == 422 and _error(response)["field"] == field


def test_availability_in_constant_statements(api_post, make_key, chain, django_assert_max_num_queries):
    key = make_key(chain["paris"], Scope.ORDERS_READ, whole_organization=True)
    products = Product.objects.bulk_create(
        [Product(organization=chain["paris"].organization, sku=f"X-{n}", name="X", price=1) for n in range(60)]
    )
    lines = [{"sku": product.sku, "qty": 1} for product in products]
    # key lookup, last used; then stores, products, levels.
    with django_assert_max_num_queries(5):
        assert len(_fills(api_post("/api/v1/availability", key, {"lines": lines}))) == 3


# Products list


def test_products_list_with_stock_per_store_and_paging(api_get, make_key, chain):
    paris, lyon = chain["paris"], chain["lyon"]
    make_product(lyon, sku="ONLY-LYON", on_hand=2)
    key = make_key(paris, Scope.ORDERS_READ, whole_organization=True)
    seen, cursor = [], None
    while True:
        page = api_get("/api/v1/products", key, limit=2, **({"cursor": cursor} if cursor else {})).json()
        seen += page["data"]
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    assert [product["sku"] for product in seen] == ["SHV", "BR", "ONLY-LYON"]
    assert [(s["store_id"], s["available"], s["availability"]) for s in seen[1]["stock"]] == [
        (paris.pk, 5, "in_stock"),
        (lyon.pk, 1, "few_left"),
    ]
    only_paris = api_get("/api/v1/products", make_key(paris), sku=["SHV", "ONLY-LYON"]).json()["data"]
    assert [(p["sku"], [s["store_id"] for s in p["stock"]]) for p in only_paris] == [
        ("SHV", [paris.pk]),
        ("ONLY-LYON", []),
    ]
    stocked_in_lyon = api_get("/api/v1/products", key, store=lyon.pk).json()["data"]
    assert [product["sku"] for product in stocked_in_lyon] == ["SHV", "BR", "ONLY-LYON"]
    assert api_get("/api/v1/products", key, store=make_store().pk).json()["data"] == [], "another organization's store"


def test_products_list_in_constant_statements(api_get, make_key, chain, django_assert_max_num_queries):
    for n in range(30):
        make_product(chain["lyon"], sku=f"MORE-{n}")
    key = make_key(chain["paris"], whole_organization=True)
    with django_assert_max_num_queries(4):
        response = api_get("/api/v1/products", key)
    assert len(response.json()["data"]) == 32


def test_products_list_refuses_a_forged_cursor(api_get, make_key, chain):
    response = api_get("/api/v1/products", make_key(chain["paris"]), cursor="forged")
    assert response.status_code == 422 and _error(response)["field"] == "cursor"


# Showcases


def test_showcases_with_what_they_offer(api_get, make_key, chain, django_assert_max_num_queries):
    paris, lyon, shaver = chain["paris"], chain["lyon"], chain["shaver"]
    brush = Product.objects.get(sku="BR")
    here = make_showcase(paris, products=[shaver, brush], code="HERE0001")
    make_showcase(lyon, products=[shaver, brush], code="THERE001")
    make_showcase(make_store(), code="THEIRS01")
    Product.objects.filter(pk=brush.pk).update(active=False)
    key = make_key(paris, whole_organization=True)
    with django_assert_max_num_queries(4):
        response = api_get("/api/v1/showcases", key)
    found = [(s["code"], [(i["sku"], i["available"]) for i in s["items"]]) for s in response.json()["data"]]
    assert found == [("HERE0001", [("SHV", 1)]), ("THERE001", [("SHV", 3)])], "inactive products are not offered"
    assert [s["id"] for s in api_get("/api/v1/showcases", key, store=paris.pk).json()["data"]] == [here.pk]
    assert [s["id"] for s in api_get("/api/v1/showcases", make_key(paris)).json()["data"]] == [here.pk]

import pytest
from django.conf import settings

from shelfcall.catalog.models import Product, Showcase
from shelfcall.stores.models import Store
from tests.factories import make_product, make_showcase, make_store, make_user, signed_in

# As long as a product's name may be (200 characters).
LONG_NAME = ("Perceuse-visseuse sans fil 18 V avec deux batteries, chargeur rapide et coffret de rangement, " * 3)[:200]


def showcase_named(name: str, store: Store, products: list[Product] | None = None, **fields) -> Showcase:
    showcase = make_showcase(store, products=products, **fields)
    showcase.name = name
    showcase.save(update_fields=["name"])
    return showcase


@pytest.fixture
def store():
    return make_store(name="Hardware Hall", brand_colour="#0B5CAD", logo_url=f"{settings.STATIC_URL}demo/logo.svg")


@pytest.fixture
def products(store):
    return [
        make_product(store, name="Cordless drill", sku="DRILL-18V", size="18 V", colour="Red"),
        make_product(store, name="무선 드릴 세트", sku="KR-DRILL-1"),
        make_product(store, name=LONG_NAME, sku="LONG-1"),
    ]


@pytest.fixture
def showcase(store, products):
    return showcase_named("Power tools", store, products, location_hint="Aisle 12")


@pytest.fixture
def associate(store):
    return make_user(store, name="Ana")


@pytest.fixture
def staff_client(associate):
    return signed_in(associate)


@pytest.fixture(autouse=True)
def _quick_passwords(fast_passwords):
    """Every test here makes staff."""

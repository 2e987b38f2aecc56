"""One organization with two stores (A and B, each with a showcase and stock of one shared product),
another organization's store, and a member of each role."""

from dataclasses import dataclass

import pytest

from shelfcall.catalog.models import Product, Showcase, StockLevel
from shelfcall.orders.actions import ShopperContact
from shelfcall.orders.models import Order
from shelfcall.stores.models import Role, Store
from tests.factories import make_org_member, make_product, make_showcase, make_store, make_user, submit


@dataclass
class World:
    a: Store
    b: Store
    elsewhere: Store
    product: Product
    showcase_a: Showcase
    showcase_b: Showcase
    showcase_elsewhere: Showcase
    users: dict[str, object]

    def order_a(self, qty: int = 1, **contact: str) -> Order:
        return submit(self.showcase_a, {self.product: qty}, contact=ShopperContact(**({"name": "Kim"} | contact)))

    def order_b(self, qty: int = 1, **contact: str) -> Order:
        return submit(self.showcase_b, {self.product: qty}, contact=ShopperContact(**({"name": "Lou"} | contact)))


@pytest.fixture
def world(db) -> World:
    a = make_store(name="Alpha")
    b = make_store(name="Bravo", organization=a.organization)
    elsewhere = make_store(name="Zulu")
    product = make_product(a, on_hand=1000, name="Shaver")
    StockLevel.objects.create(store=b, product=product, on_hand=100)
    other_product = make_product(elsewhere, on_hand=10, name="Kettle")
    users = {
        "org_admin": make_org_member(a.organization, name="Oda", role=Role.ORG_ADMIN),
        "customer_service": make_org_member(a.organization, name="Cy"),
        "store_admin": make_user(a, name="Sam", role=Role.STORE_ADMIN),
        "supervisor": make_user(a, name="Sue", role=Role.SUPERVISOR),
        "associate": make_user(a, name="Ali", role=Role.ASSOCIATE),
        "stranger": make_org_member(elsewhere.organization, name="Zed", role=Role.ORG_ADMIN),
    }
    return World(
        a,
        b,
        elsewhere,
        product,
        make_showcase(a, products=[product]),
        make_showcase(b, products=[product]),
        make_showcase(elsewhere, products=[other_product]),
        users,
    )

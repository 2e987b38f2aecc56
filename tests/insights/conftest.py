import pytest

from shelfcall.orders.events import Actor
from shelfcall.stores.models import Role
from tests.factories import make_drop_zone, make_product, make_showcase, make_store, make_user


@pytest.fixture
def store(db):
    return make_store(name="Rivoli", timezone="Europe/Paris", pick_target_minutes=10, allow_pay_at_pickup=True)


@pytest.fixture
def showcase(store):
    return make_showcase(store, products=[make_product(store, on_hand=100_000, name="Shaver")])


@pytest.fixture
def associate(store) -> Actor:
    return Actor.staff(make_user(store, name="Ana"), Role.ASSOCIATE)


@pytest.fixture
def desk(store):
    return make_drop_zone(store)

import pytest

from shelfcall.notify.models import Channel
from shelfcall.stores.models import DropZone, Membership, Role
from tests.factories import make_drop_zone, make_product, make_showcase, make_store, make_user


@pytest.fixture
def store(db):
    return make_store(name="Hardware Hall")


@pytest.fixture
def other_store(store):
    """Another store of the same organization."""
    return make_store(name="Hardware Hall South", organization=store.organization)


@pytest.fixture
def showcase(store):
    return make_showcase(store, products=[make_product(store, sku="DRILL-1", name="Cordless drill")])


@pytest.fixture
def drop_zone(store) -> DropZone:
    return make_drop_zone(store)


@pytest.fixture
def channel(store) -> Channel:
    return Channel.objects.create(store=store, name="Desk mail", kind="email", target="desk@example.com")


@pytest.fixture
def org_admin(store):
    user = make_user(store, name="Olga", role=Role.ORG_ADMIN)
    Membership.objects.filter(user=user).update(store=None)
    return user


@pytest.fixture
def store_admin(store):
    return make_user(store, name="Sara", role=Role.STORE_ADMIN)


@pytest.fixture(autouse=True)
def _quick_passwords(fast_passwords):
    """These tests make several people each."""

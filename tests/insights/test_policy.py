"""stores.policy.stores_granting, which the insights page asks: the stores where a user holds a permission."""

import pytest
from django.contrib.auth.models import AnonymousUser

from shelfcall.stores import policy
from shelfcall.stores.models import Membership, Role
from tests.factories import make_store, make_user

pytestmark = pytest.mark.django_db


def test_stores_where_the_user_may_supervise():
    store = make_store(name="A")
    sister = make_store(name="B", organization=store.organization)
    make_store(name="Elsewhere")
    supervisor = make_user(store, role=Role.SUPERVISOR)
    Membership.objects.create(user=supervisor, organization=store.organization, store=sister, role=Role.ASSOCIATE)
    assert list(policy.stores_granting(supervisor, policy.Perm.SUPERVISE)) == [store]
    assert list(policy.stores_granting(supervisor, policy.Perm.WORK_ORDERS)) == [store, sister]

    everywhere = make_user(sister, role=Role.ASSOCIATE)
    Membership.objects.create(user=everywhere, organization=store.organization, role=Role.SUPERVISOR)
    assert list(policy.stores_granting(everywhere, policy.Perm.SUPERVISE)) == [store, sister]


def test_nobody_signed_in_or_deactivated_holds_anything():
    store = make_store()
    admin = make_user(store, role=Role.STORE_ADMIN)
    admin.is_active = False
    assert not policy.stores_granting(admin, policy.Perm.SUPERVISE).exists()
    assert not policy.stores_granting(AnonymousUser(), policy.Perm.SUPERVISE).exists()

import pytest
from django.contrib.auth.models import AnonymousUser

from shelfcall.stores import policy
from shelfcall.stores.models import Membership, Role
from tests.factories import make_store, make_user

pytestmark = pytest.mark.django_db


def test_roles_grant_what_they_should():
    store = make_store()
    associate = make_user(store, role=Role.ASSOCIATE)
    supervisor = make_user(store, name="Sam", role=Role.SUPERVISOR)
    assert policy.can(associate, policy.Perm.WORK_ORDERS, store)
    assert not policy.can(associate, policy.Perm.SUPERVISE, store)
    assert policy.can(supervisor, policy.Perm.SUPERVISE, store)
    assert not policy.can(supervisor, policy.Perm.ADMINISTER, store)


def test_strangers_and_other_stores_get_nothing():
    store, elsewhere = make_store(), make_store()
    outsider = make_user(elsewhere)
    assert policy.role_in(outsider, store) is None
    assert not policy.can(AnonymousUser(), policy.Perm.WORK_ORDERS, store)
    assert list(policy.stores_for(outsider)) == [elsewhere]


def test_organization_role_reaches_every_store_of_the_organization():
    store = make_store()
    sister = make_store(organization=store.organization)
    admin = make_user(store, role=Role.ASSOCIATE)
    Membership.objects.create(user=admin, organization=store.organization, store=None, role=Role.ORG_ADMIN)
    assert policy.role_in(admin, store) == Role.ORG_ADMIN
    assert set(policy.stores_for(admin)) == {store, sister}

import pytest

from shelfcall.demo.seed import seed_demo
from tests.factories import submit

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/stores/store/",
        "/admin/catalog/showcase/",
        "/admin/catalog/product/",
        "/admin/orders/order/",
        "/admin/stores/membership/",
    ],
)
def test_admin_pages_open(admin_client, url):
    seed_demo()
    assert admin_client.get(url).status_code == 200


def test_order_is_read_only_in_admin(admin_client):
    demo = seed_demo()
    order = submit(demo.showcases[0])
    page = admin_client.get(f"/admin/orders/order/{order.pk}/change/")
    assert page.status_code == 200 and "order.created" in page.content.decode()
    assert admin_client.post(f"/admin/orders/order/{order.pk}/delete/").status_code == 403


def test_demo_seed_is_idempotent():
    first, again = seed_demo(), seed_demo()
    assert first.store.pk == again.store.pk and len(again.showcases) == 2


def test_every_admin_and_inline_is_split_by_store():
    """A new ModelAdmin that forgot the scoping would show every store's rows to every staff member."""
    from django.contrib import admin

    from shelfcall.stores.scoped_admin import ScopedInlineMixin, ScopedModelAdmin

    for model, model_admin in admin.site._registry.items():
        assert isinstance(model_admin, ScopedModelAdmin), model
        assert all(issubclass(inline, ScopedInlineMixin) for inline in model_admin.inlines), model

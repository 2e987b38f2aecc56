"""Item 6: what open (or past) orders use is never deleted from under them, in the setup pages or the admin."""

import pytest
from django.contrib.auth import get_user_model

from shelfcall.catalog.models import Product, Showcase
from shelfcall.notify.models import Channel
from shelfcall.orders.models import Order, OrderEvent, OrderLine
from shelfcall.stores.models import DropZone, Store, Team
from tests.factories import TILL, make_product, make_showcase, make_store, signed_in, staff, staged, submit
from tests.notify.factories import make_channel

pytestmark = pytest.mark.django_db


def messages_of(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


@pytest.fixture
def order(showcase):
    return submit(showcase)


def _history(order: Order) -> tuple:
    order.refresh_from_db()
    return order.showcase_id, order.team_id, order.drop_zone_id, order.lines.count(), order.events.count()


class TestSetupPages:
    @pytest.mark.parametrize("section", ["showcases", "teams"])
    def test_a_showcase_or_team_an_open_order_uses_is_refused_with_the_reason(self, store, store_admin, order, section):
        row = order.showcase if section == "showcases" else order.team
        before = _history(order)
        response = signed_in(store_admin).post(f"/setup/stores/{store.pk}/{section}/{row.pk}/delete", follow=True)
        assert "1 orders (1 still open) use it" in messages_of(response)
        assert type(row).objects.filter(pk=row.pk).exists() and _history(order) == before

    def test_a_team_a_showcase_routes_to_names_the_showcases(self, store, store_admin, showcase):
        response = signed_in(store_admin).post(f"/setup/stores/{store.pk}/teams/{showcase.team_id}/delete", follow=True)
        assert "still in use (showcases)" in messages_of(response)

    def test_a_drop_zone_where_an_order_waits_is_refused_and_can_be_archived(
        self, store, store_admin, order, drop_zone
    ):
        staged(order, staff(store), drop_zone)
        client = signed_in(store_admin)
        response = client.post(f"/setup/stores/{store.pk}/drop-zones/{drop_zone.pk}/delete", follow=True)
        assert "still open" in messages_of(response) and "Archive it instead" in messages_of(response)
        client.post(f"/setup/stores/{store.pk}/drop-zones/{drop_zone.pk}/delete", {"archive": "1"})
        drop_zone.refresh_from_db()
        assert not drop_zone.active and Order.objects.get(pk=order.pk).drop_zone_id == drop_zone.pk

    def test_a_showcase_only_past_orders_used_is_kept_for_their_history_and_archived(self, store, store_admin, order):
        from shelfcall.orders import actions

        actions.cancel_order(order.pk, by=TILL)
        client = signed_in(store_admin)
        response = client.post(f"/setup/stores/{store.pk}/showcases/{order.showcase_id}/delete", follow=True)
        assert "(0 still open)" in messages_of(response)
        client.post(f"/setup/stores/{store.pk}/showcases/{order.showcase_id}/delete", {"archive": "1"})
        assert not Showcase.objects.get(pk=order.showcase_id).active
        assert OrderEvent.objects.filter(order=order).count() == 2

    def test_what_nothing_uses_is_deleted(self, store, store_admin):
        showcase = make_showcase(store)
        team, zone = showcase.team, DropZone.objects.create(store=store, name="Cage")
        client = signed_in(store_admin)
        client.post(f"/setup/stores/{store.pk}/showcases/{showcase.pk}/delete")
        client.post(f"/setup/stores/{store.pk}/teams/{team.pk}/delete")
        client.post(f"/setup/stores/{store.pk}/drop-zones/{zone.pk}/delete")
        assert not Showcase.objects.filter(pk=showcase.pk).exists()
        assert not Team.objects.filter(pk=team.pk).exists() and not DropZone.objects.filter(pk=zone.pk).exists()

    def test_a_store_with_orders_is_refused_an_empty_one_is_deleted(self, store, org_admin, order):
        client = signed_in(org_admin)
        response = client.post(f"/setup/stores/{store.pk}/delete", follow=True)
        assert "use it" in messages_of(response) and Store.objects.filter(pk=store.pk).exists()
        empty = make_store(name="Pop-up", organization=store.organization)
        client.post(f"/setup/stores/{empty.pk}/delete")
        assert not Store.objects.filter(pk=empty.pk).exists()


class TestAdmin:
    @pytest.fixture
    def superuser(self):
        return get_user_model().objects.create_superuser("root", password="x")

    @pytest.mark.parametrize(
        ("path", "row"),
        [
            ("catalog/showcase", lambda o: o.showcase),
            ("catalog/product", lambda o: o.lines.first().product),
            ("stores/store", lambda o: o.store),
        ],
    )
    def test_the_admin_refuses_with_the_protected_orders(self, superuser, order, path, row):
        target = row(order)
        before = _history(order)
        response = signed_in(superuser).post(f"/admin/{path}/{target.pk}/delete/", {"post": "yes"})
        assert response.status_code == 200 and "Cannot delete" in response.content.decode()
        assert type(target).objects.filter(pk=target.pk).exists() and _history(order) == before

    @pytest.mark.parametrize("inline", ["TeamInline", "DropZoneInline"])
    def test_the_stores_inlines_refuse_a_team_or_drop_zone_an_order_uses(
        self, superuser, store, order, drop_zone, inline
    ):
        """Teams and drop zones are edited (and deleted) as inlines of their store in the admin."""
        from django.contrib import admin
        from django.test import RequestFactory

        staged(order, staff(store), drop_zone)
        request = RequestFactory().post("/")
        request.user = superuser
        model_admin = admin.site._registry[Store]
        (inline_admin,) = [i for i in model_admin.get_inline_instances(request, store) if type(i).__name__ == inline]
        row = order.team if inline == "TeamInline" else drop_zone
        formset_class = inline_admin.get_formset(request, store)
        prefix = formset_class.get_default_prefix()
        rows = list(formset_class.model.objects.filter(store=store).order_by("pk"))
        data = {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": str(len(rows))}
        for n, each in enumerate(rows):
            data |= {f"{prefix}-{n}-id": str(each.pk), f"{prefix}-{n}-name": each.name, f"{prefix}-{n}-kind": "desk"}
            if each.pk == row.pk:
                data[f"{prefix}-{n}-DELETE"] = "on"
        formset = formset_class(
            data, instance=store, prefix=prefix, queryset=formset_class.model.objects.filter(store=store).order_by("pk")
        )
        assert not formset.is_valid()
        assert "protected" in str(formset.errors) + str(formset.non_form_errors()), formset.non_form_errors()
        assert type(row).objects.filter(pk=row.pk).exists()

    def test_a_product_no_order_used_goes_with_its_stock(self, superuser, store):
        product = make_product(store)
        signed_in(superuser).post(f"/admin/catalog/product/{product.pk}/delete/", {"post": "yes"})
        assert not Product.objects.filter(pk=product.pk).exists() and not OrderLine.objects.exists()


class TestATeamsAlertChannels:
    """They exist only for the team's orders: deleting the team says which go with it, and asks first."""

    @pytest.fixture
    def team_with_channels(self, store):
        team = Team.objects.create(store=store, name="Shavers")
        for name in ("Shavers Teams", "Floor mail"):
            make_channel(store, "https://example.com/hook", name=name, team=team)
        return team

    def test_the_page_names_them_and_deleting_needs_the_confirmation(self, store, store_admin, team_with_channels):
        admin = signed_in(store_admin)
        path = f"/setup/stores/{store.pk}/teams/{team_with_channels.pk}"
        page = admin.get(path).content.decode()
        assert "Floor mail" in page and "Shavers Teams" in page and 'name="confirm"' in page
        refused = admin.post(f"{path}/delete", follow=True)
        assert "also deletes its alert channels: Floor mail, Shavers Teams" in messages_of(refused)
        assert Team.objects.filter(pk=team_with_channels.pk).exists() and Channel.objects.count() == 2
        done = admin.post(f"{path}/delete", {"confirm": "1"}, follow=True)
        assert "is deleted" in messages_of(done)
        assert not Team.objects.filter(pk=team_with_channels.pk).exists() and not Channel.objects.exists()

    def test_the_stores_own_channels_stay(self, store, store_admin, team_with_channels):
        make_channel(store, "https://example.com/hook", name="Store desk")
        signed_in(store_admin).post(f"/setup/stores/{store.pk}/teams/{team_with_channels.pk}/delete", {"confirm": "1"})
        assert list(Channel.objects.values_list("name", flat=True)) == ["Store desk"]

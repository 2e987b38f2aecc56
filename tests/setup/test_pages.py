from datetime import time

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.utils import translation

from shelfcall.catalog.models import Showcase, ShowcaseItem
from shelfcall.notify.models import Channel, CollectionPolicy, OutboxMessage
from shelfcall.stores import policy
from shelfcall.stores.models import DropZone, Membership, OpeningPeriod, Organization, Role, Store, Team
from tests.factories import make_product, make_store, make_user, signed_in

pytestmark = pytest.mark.django_db


def page(response) -> str:
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


class TestChecklist:
    def test_a_new_store_lacks_everything_with_a_link_to_fix_each(self, store, store_admin):
        html = page(signed_in(store_admin).get(f"/setup/stores/{store.pk}/"))
        for missing, link in [
            ("No opening hours", f"/setup/stores/{store.pk}/edit#hours"),
            ("No drop zone", f"/setup/stores/{store.pk}/drop-zones"),
            ("No showcase", f"/setup/stores/{store.pk}/showcases"),
            ("No products in stock", "/setup/catalogue/"),
            ("No channel for alerts", f"/setup/stores/{store.pk}/channels"),
            ("No staff", f"/setup/stores/{store.pk}/staff"),
        ]:
            assert missing in html and f'href="{link}"' in html
        assert "6 things are missing" in html

    def test_a_ready_store_has_nothing_left(self, store, store_admin, showcase, drop_zone, channel):
        make_user(store, name="Ana")
        OpeningPeriod.objects.create(store=store, weekday=0, opens=time(9), closes=time(18))
        html = page(signed_in(store_admin).get(f"/setup/stores/{store.pk}/"))
        assert "Everything is set up" in html

    def test_an_archived_showcase_or_an_empty_shelf_does_not_count(self, store, store_admin, showcase):
        Showcase.objects.update(active=False)
        store.stock_levels.update(on_hand=0)
        html = page(signed_in(store_admin).get(f"/setup/stores/{store.pk}/"))
        assert "No showcase" in html and "No products in stock" in html and "Add a showcase" in html

    def test_one_store_opens_its_checklist_several_list_theirs(self, store, other_store, org_admin, store_admin):
        assert signed_in(store_admin).get("/setup/")["Location"] == f"/setup/stores/{store.pk}/"
        html = page(signed_in(org_admin).get("/setup/"))
        assert "Hardware Hall South" in html and "Add a store" in html


class TestStoreDetails:
    def _form(self, store: Store, **changes) -> dict:
        data = {
            "name": store.name,
            "slug": store.slug,
            "timezone": "Asia/Seoul",
            "currency": "KRW",
            "address": "1 Main St",
            "latitude": "37.5",
            "longitude": "127.0",
            "brand_colour": "#112233",
            "opening_hours": "Closed on public holidays",
            "help_text": "Ask at the desk.",
            "pickup_instructions": "Pay at any till.",
            "help_text_fr": "Demandez à l'accueil.",
            "d0_0_opens": "09:00",
            "d0_0_closes": "12:00",
            "d0_1_opens": "14:00",
            "d0_1_closes": "19:00",
            "d5_0_opens": "22:00",
            "d5_0_closes": "02:00",
        }
        return data | changes

    def test_saves_time_zone_address_coordinates_branding_hours_and_texts(self, store, store_admin):
        response = signed_in(store_admin).post(f"/setup/stores/{store.pk}/edit", self._form(store))
        assert response.status_code == 302
        store.refresh_from_db()
        assert (store.timezone, store.currency, store.brand_colour) == ("Asia/Seoul", "KRW", "#112233")
        assert str(store.latitude) == "37.500000"
        assert store.shopper_texts == {"fr": {"help_text": "Demandez à l'accueil."}}
        periods = [(p.weekday, p.opens, p.closes) for p in store.opening_periods.all()]
        assert periods == [(0, time(9), time(12)), (0, time(14), time(19)), (5, time(22), time(2))]
        with translation.override("fr"):
            assert store.shopper_help_text == "Demandez à l'accueil."
        with translation.override("es"):
            assert store.shopper_help_text == "Ask at the desk."

    def test_the_stores_language_is_kept_and_a_form_without_it_keeps_the_one_it_had(self, store, store_admin):
        client = signed_in(store_admin)
        client.post(f"/setup/stores/{store.pk}/edit", self._form(store, language="ko"))
        store.refresh_from_db()
        assert store.language == "ko"
        client.post(f"/setup/stores/{store.pk}/edit", self._form(store))
        store.refresh_from_db()
        assert store.language == "ko"
        refused = client.post(f"/setup/stores/{store.pk}/edit", self._form(store, language="de"))
        assert refused.status_code == 400 and Store.objects.get(pk=store.pk).language == "ko"

    def test_a_day_of_three_periods_keeps_them_all(self, store, store_admin):
        for opens, closes in [(time(8), time(10)), (time(11), time(13)), (time(15), time(19))]:
            OpeningPeriod.objects.create(store=store, weekday=2, opens=opens, closes=closes)
        client = signed_in(store_admin)
        form = client.get(f"/setup/stores/{store.pk}/edit").context["hours"]
        data = {
            name: field.value().strftime("%H:%M")
            for name, field in ((n, form[n]) for n in form.fields)
            if field.value()
        }
        client.post(f"/setup/stores/{store.pk}/edit", self._form(store, d0_0_opens="", d0_0_closes="", **data))
        assert store.opening_periods.filter(weekday=2).count() == 3

    def test_the_form_shows_what_is_saved(self, store, store_admin):
        client = signed_in(store_admin)
        client.post(f"/setup/stores/{store.pk}/edit", self._form(store))
        html = page(client.get(f"/setup/stores/{store.pk}/edit"))
        assert 'value="14:00"' in html and "Demandez" in html and 'value="Asia/Seoul" selected' in html

    @pytest.mark.parametrize(
        ("changes", "field", "says"),
        [
            ({"d0_0_closes": ""}, "d0_0_closes", "give both the opening and the closing time"),
            ({"d0_1_opens": "09:00"}, "d0_1_opens", "two periods open at the same time"),
            ({"timezone": "Mars/Olympus"}, "timezone", "Select a valid choice"),
            ({"longitude": ""}, "longitude", "Give both the latitude and the longitude"),
            ({"brand_colour": "red"}, "brand_colour", "#1F4E79"),
        ],
    )
    def test_bad_input_names_the_field_and_saves_nothing(self, store, store_admin, changes, field, says):
        response = signed_in(store_admin).post(f"/setup/stores/{store.pk}/edit", self._form(store, **changes))
        assert response.status_code == 400
        errors = {**response.context["form"].errors, **response.context["hours"].errors}
        assert says in " ".join(errors[field])
        assert not store.opening_periods.exists() and Store.objects.get(pk=store.pk).timezone == "Europe/Paris"

    def test_an_org_admin_adds_a_store_and_a_store_admin_cannot(self, store, org_admin, store_admin):
        data = {"organization": store.organization_id, "name": "Hall North", "slug": "north", "timezone": "UTC"}
        data |= {"currency": "EUR", "brand_colour": "#1F4E79"}
        assert signed_in(store_admin).post("/setup/stores/new", data).status_code == 403
        response = signed_in(org_admin).post("/setup/stores/new", data)
        new = Store.objects.get(slug="north")
        assert response["Location"] == f"/setup/stores/{new.pk}/"
        other = Organization.objects.create(name="Other", slug="other")
        refused = signed_in(org_admin).post("/setup/stores/new", data | {"organization": other.pk, "slug": "x"})
        assert refused.status_code == 400 and not Store.objects.filter(slug="x").exists()


class TestSettings:
    def _form(self, **changes) -> dict:
        data = {
            "require_shopper_contact": "on",
            "max_line_qty": "4",
            "max_order_qty": "8",
            "max_open_orders_per_device": "3",
            "max_units_per_device": "30",
            "max_units_per_address": "500",
            "low_stock_threshold": "3",
            "allow_pay_at_pickup": "on",
            "require_id_check": "on",
            "unclaimed_expiry_minutes": "45",
            "pick_target_minutes": "10",
            "collection-remind_after_minutes": "30",
            "collection-warn_before_minutes": "60",
            "collection-expire_after_minutes": "1440",
            "levels-TOTAL_FORMS": "2",
            "levels-INITIAL_FORMS": "0",
        }
        return data | changes

    def test_escalation_levels_tell_the_stores_channels(self, store, store_admin, channel):
        from shelfcall.notify.models import EscalationPolicy

        client = signed_in(store_admin)
        levels = {"levels-0-after_minutes": "10", "levels-0-channel": channel.pk}
        levels |= {"levels-1-after_minutes": "30", "levels-1-channel": channel.pk, "levels-1-cancel_and_release": "on"}
        assert client.post(f"/setup/stores/{store.pk}/settings", self._form(**levels)).status_code == 302
        policy_row = EscalationPolicy.objects.get(store=store, team=None)
        assert [(lv.after_minutes, lv.cancel_and_release) for lv in policy_row.levels.all()] == [
            (10, False),
            (30, True),
        ]
        early = {**levels, "levels-1-cancel_and_release": "", "levels-0-cancel_and_release": "on"}
        refused = client.post(f"/setup/stores/{store.pk}/settings", self._form(**early))
        assert refused.status_code == 400 and "Only the last level" in str(refused.context["levels"].non_form_errors())
        other = Channel.objects.create(store=make_store(), name="Theirs", kind="email", target="x@example.com")
        foreign = client.post(
            f"/setup/stores/{store.pk}/settings", self._form(**{**levels, "levels-0-channel": other.pk})
        )
        assert foreign.status_code == 400 and "channel" in foreign.context["levels"].forms[0].errors

    def test_the_id_check_and_every_setting_is_on_screen_and_saved(self, store, store_admin):
        client = signed_in(store_admin)
        html = page(client.get(f"/setup/stores/{store.pk}/settings"))
        assert 'name="require_id_check"' in html and "check id at hand-off" in html.lower()
        assert client.post(f"/setup/stores/{store.pk}/settings", self._form()).status_code == 302
        store.refresh_from_db()
        assert store.require_id_check and store.allow_pay_at_pickup and store.require_shopper_contact
        assert (store.max_line_qty, store.max_order_qty, store.unclaimed_expiry_minutes) == (4, 8, 45)
        policy_row = CollectionPolicy.objects.get(store=store)
        assert (policy_row.remind_after_minutes, policy_row.expire_after_minutes) == (30, 1440)

    @pytest.mark.parametrize(
        ("changes", "form", "field", "says"),
        [
            ({"max_units_per_device": "5"}, "form", "max_units_per_device", "maximum quantity per order (8)"),
            ({"unclaimed_expiry_minutes": "0"}, "form", "unclaimed_expiry_minutes", "greater than or equal to 1"),
            ({"collection-warn_before_minutes": "2000"}, "collection_form", "warn_before_minutes", "1440"),
        ],
    )
    def test_bad_input_names_the_field_and_saves_nothing(self, store, store_admin, changes, form, field, says):
        response = signed_in(store_admin).post(f"/setup/stores/{store.pk}/settings", self._form(**changes))
        assert response.status_code == 400
        assert says in " ".join(response.context[form].errors[field])
        store.refresh_from_db()
        assert not store.require_id_check and not CollectionPolicy.objects.filter(store=store).exists()

    def test_no_level_makes_no_escalation_policy(self, store, store_admin):
        from shelfcall.notify.models import EscalationPolicy

        signed_in(store_admin).post(f"/setup/stores/{store.pk}/settings", self._form())
        assert not EscalationPolicy.objects.exists()


class TestSections:
    def test_teams_and_drop_zones_lockers_get_a_zone_per_slot(self, store, store_admin):
        client = signed_in(store_admin)
        client.post(f"/setup/stores/{store.pk}/teams", {"name": "Power tools"})
        assert Team.objects.filter(store=store, name="Power tools").exists()
        client.post(f"/setup/stores/{store.pk}/drop-zones", {"name": "Desk", "kind": "desk", "active": "on"})
        client.post(
            f"/setup/stores/{store.pk}/drop-zones", {"name": "Locker", "kind": "locker", "slots": "3", "active": "on"}
        )
        names = sorted(DropZone.objects.filter(store=store).values_list("name", flat=True))
        assert names == ["Desk", "Locker 1", "Locker 2", "Locker 3"]
        assert "Locker 2" in page(client.get(f"/setup/stores/{store.pk}/drop-zones"))

    def test_a_showcase_routes_to_a_team_of_this_store_and_lists_products_in_order(
        self, store, other_store, store_admin
    ):
        client = signed_in(store_admin)
        team = Team.objects.create(store=store, name="Tools")
        foreign = Team.objects.create(store=other_store, name="Theirs")
        refused = client.post(f"/setup/stores/{store.pk}/showcases", {"name": "Case", "team": foreign.pk})
        assert refused.status_code == 400 and "team" in refused.context["form"].errors
        client.post(f"/setup/stores/{store.pk}/showcases", {"name": "Case", "team": team.pk, "active": "on"})
        case = Showcase.objects.get(store=store)
        a, b = make_product(store, sku="A-1"), make_product(store, sku="B-2")
        url = f"/setup/stores/{store.pk}/showcases/{case.pk}/products"
        client.post(url, {"skus": "B-2\nA-1\n"})
        assert [i.product.sku for i in case.items.order_by("position")] == ["B-2", "A-1"]
        code_of_a = ShowcaseItem.objects.get(showcase=case, product=a).code
        client.post(url, {"skus": "B-2"})
        client.post(url, {"skus": "A-1\nB-2"})
        assert ShowcaseItem.objects.get(showcase=case, product=a).code == code_of_a  # its printed QR still works
        assert [i.product_id for i in case.items.filter(active=True).order_by("position")] == [a.pk, b.pk]

    @pytest.mark.parametrize(
        ("skus", "says"), [("NOPE-9", "No product has the SKU NOPE-9"), ("A-1\nA-1", "A-1 is listed twice")]
    )
    def test_bad_products_are_named_and_nothing_changes(self, store, store_admin, showcase, skus, says):
        make_product(store, sku="A-1")
        before = list(showcase.items.values_list("product_id", "position", "active"))
        response = signed_in(store_admin).post(
            f"/setup/stores/{store.pk}/showcases/{showcase.pk}/products", {"skus": skus}
        )
        assert response.status_code == 400 and says in " ".join(response.context["products_form"].errors["skus"])
        assert list(showcase.items.values_list("product_id", "position", "active")) == before

    def test_a_channel_is_checked_and_sends_a_test_through_the_outbox(self, store, store_admin):
        client = signed_in(store_admin)
        bad = client.post(
            f"/setup/stores/{store.pk}/channels", {"name": "Desk", "kind": "email", "target": "nope", "events": "[]"}
        )
        assert bad.status_code == 400 and "email address" in " ".join(bad.context["form"].errors["target"])
        client.post(
            f"/setup/stores/{store.pk}/channels",
            {
                "name": "Desk",
                "kind": "email",
                "target": "desk@example.com",
                "events": '["order.created"]',
                "active": "on",
            },
        )
        channel = Channel.objects.get(store=store)
        assert channel.organization_id == store.organization_id and channel.events == ["order.created"]
        response = client.post(f"/setup/stores/{store.pk}/channels/{channel.pk}/test", follow=True)
        assert OutboxMessage.objects.filter(channel=channel, purpose="test").count() == 1
        assert "is queued" in " ".join(messages_of(response)) and "Waiting" in page(response)


class TestStaff:
    def _add(self, client: Client, store: Store, **data):
        form = {"first_name": "Ana", "email": "ana@example.com", "how": "invite", "role": "associate"} | data
        return client.post(f"/setup/stores/{store.pk}/staff", form)

    def test_an_invitation_email_lets_them_choose_a_password_once(
        self, store, store_admin, showcase, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            response = self._add(signed_in(store_admin), store, teams=[showcase.team_id])
        assert response.status_code == 302
        ana = get_user_model().objects.get(username="ana@example.com")
        assert not ana.has_usable_password()
        membership = Membership.objects.get(user=ana)
        assert (membership.store_id, membership.role, list(membership.teams.all())) == (
            store.pk,
            "associate",
            [showcase.team],
        )
        (invitation,) = mail.outbox
        link = next(word for word in invitation.body.split() if "/welcome/" in word)
        client = Client()
        form_page = client.get(link, follow=True)
        assert form_page.status_code == 200 and "Choose your password" in page(form_page)
        done = client.post(
            form_page.redirect_chain[-1][0], {"new_password1": "a long secret 42", "new_password2": "a long secret 42"}
        )
        assert done["Location"] == "/w/login"
        assert Client().login(username="ana@example.com", password="a long secret 42")
        assert "no longer works" in page(Client().get(link, follow=True))

    def test_a_one_time_password_is_shown_once(self, store, store_admin):
        response = self._add(signed_in(store_admin), store, how="create", email="", username="jo")
        assert response.status_code == 200 and response["Cache-Control"] == "no-store"
        password = response.context["added"].one_time_password
        assert password in page(response) and Client().login(username="jo", password=password)

    def test_a_store_admin_cannot_make_an_org_admin(self, store, store_admin):
        response = self._add(signed_in(store_admin), store, role="org_admin")
        assert response.status_code == 400 and "role" in response.context["form"].errors
        assert not get_user_model().objects.filter(username="ana@example.com").exists()

    @pytest.mark.parametrize(
        ("data", "field"), [({"how": "invite", "email": ""}, "email"), ({"username": "sara1"}, "username")]
    )
    def test_bad_input_names_the_field(self, store, store_admin, data, field):
        make_user(store, name="Sara")  # username sara<n>: taken by the second one below
        taken = get_user_model().objects.exclude(pk=store_admin.pk).last().username
        data = {**data, "username": taken} if field == "username" else data
        response = self._add(signed_in(store_admin), store, **data)
        assert response.status_code == 400 and field in response.context["form"].errors

    def test_roles_teams_and_pins(self, store, store_admin, showcase):
        ana = make_user(store, name="Ana")
        membership = Membership.objects.get(user=ana)
        client = signed_in(store_admin)
        url = f"/setup/stores/{store.pk}/staff/{membership.pk}"
        client.post(url, {"role": "supervisor", "teams": [showcase.team_id]})
        membership.refresh_from_db()
        assert membership.role == "supervisor" and list(membership.teams.all()) == [showcase.team]
        guessable = client.post(url, {"pin": "123456"})
        assert guessable.status_code == 400 and "first anyone would try" in str(guessable.context["pin_form"].errors)
        client.post(url, {"pin": "402718"})
        from django.contrib.auth.hashers import check_password

        assert check_password("402718", ana.staff_pin.pin_hash)
        assert "402718" not in page(client.get(f"/setup/stores/{store.pk}/staff"))

    def test_an_org_admin_membership_is_not_changed_by_a_store_admin(self, store, store_admin, org_admin):
        membership = Membership.objects.get(user=org_admin)
        client = signed_in(store_admin)
        assert client.get(f"/setup/stores/{store.pk}/staff/{membership.pk}").status_code == 404
        assert client.post(f"/setup/stores/{store.pk}/staff/{membership.pk}/remove").status_code == 404
        assert Membership.objects.filter(pk=membership.pk).exists()

    def test_removing_someone_keeps_their_account(self, store, store_admin):
        ana = make_user(store, name="Ana")
        membership = Membership.objects.get(user=ana)
        signed_in(store_admin).post(f"/setup/stores/{store.pk}/staff/{membership.pk}/remove")
        assert (
            not Membership.objects.filter(pk=membership.pk).exists()
            and get_user_model().objects.filter(pk=ana.pk).exists()
        )
        own = Membership.objects.get(user=store_admin)
        signed_in(store_admin).post(f"/setup/stores/{store.pk}/staff/{own.pk}/remove")
        assert Membership.objects.filter(pk=own.pk).exists()


def test_the_roles_table_is_the_policy_module(store_admin, monkeypatch):
    html = page(signed_in(store_admin).get("/setup/roles"))
    for role in policy.role_grants():
        assert f'<th scope="row">{role.label}</th>' in html
    assert "Administer: store settings" in html
    shrunk = {Role.ASSOCIATE: frozenset(), Role.STORE_ADMIN: frozenset(policy.Perm)}
    monkeypatch.setattr(policy, "_GRANTS", shrunk)
    html = page(signed_in(store_admin).get("/setup/roles"))
    assert "Supervisor" not in html and html.count(">yes<") == len(policy.Perm)

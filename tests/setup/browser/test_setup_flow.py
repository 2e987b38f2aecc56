"""From an empty database to a first shopper order, through `shelfcall setup` and the setup pages, on a
tablet; every setup page axe-clean (no serious or critical violation)."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from shelfcall import cli
from shelfcall.catalog.models import Showcase
from shelfcall.orders.models import Order
from shelfcall.stores.models import Store
from tests.e2e.conftest import PHONE, TABLET
from tests.factories import make_product

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "a long secret 42"


def serious_violations(page: Page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{page.url}: {v['id']} ({v['impact']}): {v['help']}; " + ", ".join(" ".join(n["target"]) for n in v["nodes"])
        for v in results.response["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


def fits_the_screen(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def first_store(monkeypatch) -> Store:
    monkeypatch.setattr(cli, "_setup_django", lambda: None)
    monkeypatch.setenv("SHELFCALL_SETUP_PASSWORD", PASSWORD)
    flags = ["--organization", "Hardware Hall Ltd", "--store", "Hall Lyon", "--timezone", "Europe/Paris"]
    with pytest.raises(SystemExit) as ended:
        cli.main(["setup", *flags, "--username", "olga", "--email", "olga@example.com", "--no-migrate"])
    assert ended.value.code == 0
    return Store.objects.get()


def test_from_an_empty_database_to_a_first_order_on_a_tablet(open_page, monkeypatch):
    store = first_store(monkeypatch)
    tablet = open_page(TABLET)
    checked: list[str] = []

    def check(page: Page) -> None:
        checked.extend(serious_violations(page))
        assert fits_the_screen(page), f"{page.url} scrolls sideways on a tablet"

    tablet.goto("/setup/")
    tablet.get_by_label("User name").fill("olga")
    tablet.get_by_label("Password").fill(PASSWORD)
    tablet.get_by_role("button", name=re.compile("Sign in", re.I)).click()
    expect(tablet.get_by_role("heading", name="Hall Lyon")).to_be_visible()
    expect(tablet.get_by_text("6 things are missing")).to_be_visible()
    check(tablet)

    tablet.get_by_role("link", name="Set the opening hours").click()
    tablet.get_by_label("Monday opens 1").fill("09:00")
    tablet.get_by_label("Monday closes 1").fill("19:00")
    tablet.get_by_label("Help text (French)").fill("Sonnez au rayon 5.")
    check(tablet)
    tablet.get_by_role("button", name="Save", exact=True).click()
    expect(tablet.get_by_text("5 things are missing")).to_be_visible()

    tablet.get_by_role("link", name="Add a drop zone").click()
    tablet.get_by_label("Name").fill("Lockers")
    tablet.get_by_label("Kind").select_option("locker")
    tablet.get_by_label("Slots").fill("4")
    check(tablet)
    tablet.get_by_role("button", name="Add a drop zone").click()
    expect(tablet.get_by_role("link", name="Lockers 4")).to_be_visible()

    tablet.get_by_role("navigation", name="This store").get_by_role("link", name="Teams").click()
    tablet.get_by_label("Name").fill("Power tools")
    tablet.get_by_role("button", name="Add a team").click()
    check(tablet)

    make_product(store, sku="DRILL-18", name="Cordless drill", on_hand=5)  # the catalogue import's part
    tablet.get_by_role("navigation", name="This store").get_by_role("link", name="Showcases").click()
    tablet.get_by_label("Name").fill("Power tools case")
    tablet.get_by_label("Team it routes to").select_option(label="Power tools")
    tablet.get_by_role("button", name="Add a showcase").click()
    tablet.get_by_role("link", name="Power tools case").click()
    tablet.get_by_label("Products, one SKU a line, in order").fill("DRILL-18")
    tablet.get_by_role("button", name="Save the products").click()
    expect(tablet.get_by_text("The showcase lists 1 products.")).to_be_visible()
    check(tablet)

    tablet.get_by_role("navigation", name="This store").get_by_role("link", name="Alert channels").click()
    tablet.get_by_label("Name").fill("Desk mail")
    tablet.get_by_label("Kind").select_option("email")
    tablet.get_by_label("Address").fill("desk@example.com")
    tablet.get_by_label("Events").fill('["order.created"]')
    tablet.get_by_role("button", name="Add an alert channel").click()
    tablet.get_by_role("link", name="Desk mail").click()
    tablet.get_by_role("button", name="Send a test message").click()
    expect(tablet.get_by_text("A test message to Desk mail is queued")).to_be_visible()
    check(tablet)

    tablet.get_by_role("navigation", name="This store").get_by_role("link", name="Staff").click()
    tablet.get_by_label("First name").fill("Ana")
    tablet.get_by_label("Username").fill("ana")
    tablet.get_by_label("Give them a one-time password now").check()
    tablet.get_by_label("Role").select_option("associate")
    check(tablet)
    tablet.get_by_role("button", name="Add", exact=True).click()
    expect(tablet.get_by_text("One-time password")).to_be_visible()
    check(tablet)

    tablet.get_by_role("navigation", name="This store").get_by_role("link", name="Settings").click()
    tablet.get_by_label("Check ID at hand-off").check()
    check(tablet)
    tablet.get_by_role("button", name="Save", exact=True).click()
    expect(tablet.get_by_text("Everything is set up")).to_be_visible()
    tablet.goto("/setup/roles")
    check(tablet)
    assert Store.objects.get().require_id_check

    phone = open_page(PHONE)
    phone.goto(f"/s/{Showcase.objects.get().code}")
    phone.get_by_role("button", name=re.compile(r"^Add to cart")).click()
    phone.get_by_role("link", name=re.compile("cart", re.I)).first.click()
    phone.get_by_label("First name").fill("Kim")
    phone.get_by_role("button", name="Send request").click()
    expect(phone.get_by_role("heading", name=re.compile(r"^Order \d+"))).to_be_visible()
    order = Order.objects.get()
    assert (order.store_id, order.team.name) == (store.pk, "Power tools")
    assert not checked, "\n".join(checked)


def test_every_setup_page_is_axe_clean_and_fits_a_tablet(open_page, monkeypatch):
    """The pages the flow above does not pass through, with rows in them: the list of stores, a new
    store, each section's list and edit pages, a person's page, and the invitation's page."""
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from shelfcall.notify.models import Channel
    from shelfcall.stores.models import DropZone, Membership
    from tests.factories import make_showcase, make_store, make_user

    store = first_store(monkeypatch)
    make_store(name="Hall Lille", organization=store.organization)
    showcase = make_showcase(store, products=[make_product(store)])
    zone = DropZone.objects.create(store=store, name="Desk")
    channel = Channel.objects.create(store=store, name="Hook", kind="email", target="hook@example.com")
    ana = make_user(store, name="Ana")
    admin = store.organization.memberships.get(role="org_admin").user
    tablet = open_page(TABLET, user=admin)
    base = f"/setup/stores/{store.pk}"
    pages = ["/setup/", "/setup/stores/new", f"{base}/teams/{showcase.team_id}", f"{base}/drop-zones/{zone.pk}"]
    pages += [
        f"{base}/showcases",
        f"{base}/channels/{channel.pk}",
        f"{base}/staff/{Membership.objects.get(user=ana).pk}",
    ]
    problems: list[str] = []
    for path in pages:
        tablet.goto(path)
        problems += serious_violations(tablet)
        assert fits_the_screen(tablet), path
    stranger = open_page(TABLET)
    token = default_token_generator.make_token(ana)
    stranger.goto(f"/welcome/{urlsafe_base64_encode(force_bytes(ana.pk))}/{token}")
    expect(stranger.get_by_role("heading", name="Choose your password")).to_be_visible()
    problems += serious_violations(stranger)
    assert not problems, "\n".join(problems)

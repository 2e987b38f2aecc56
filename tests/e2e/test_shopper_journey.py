"""The shopper's journey in a real browser on a phone: showcase, cart, request, live status, cancel."""

import re
import time

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.db import connection
from playwright.sync_api import Page, expect

from shelfcall.catalog.models import Product, ShowcaseItem
from shelfcall.orders import actions
from shelfcall.orders.models import Order, OrderStatus
from tests.factories import TILL, make_drop_zone, make_product, make_showcase, make_store, staff, stock_of, submit

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LIVE_TIMEOUT = 5_000  # ms for a change made by an associate to show on an open status page
HELP_TEXT = "Ring the bell at aisle 5."


@pytest.fixture
def store():
    return make_store(name="Hardware Hall", help_text=HELP_TEXT)


@pytest.fixture
def products(store):
    return {
        "drill": make_product(store, name="Cordless drill", price="99.00", on_hand=9, colour="Yellow", size="18 V"),
        "saw": make_product(store, name="Jigsaw", price="45.50", on_hand=2),
        "router": make_product(store, name="Router", price="120.00", on_hand=0),
    }


@pytest.fixture
def showcase(store, products):
    return make_showcase(store, products=list(products.values()), code="TOOLS234")


def product_card(page: Page, product):
    return page.locator(f"#p{product.pk}")


def add_to_cart(page: Page, product) -> None:
    product_card(page, product).get_by_role("button", name=re.compile(r"^Add to cart")).click()
    expect(page.get_by_role("status").filter(has_text=f"{product.name} added to your cart.")).to_be_visible()


def wait_for_live_updates(page: Page, timeout: float = 5.0) -> None:
    """On PostgreSQL the page hears of changes through the process's LISTEN connection, which the first
    live stream opens: a change committed after the stream's first read but before LISTEN is up would
    only show at the stream's next heartbeat (15 s). On SQLite the hub is fed in-process after each
    commit, so there is nothing to wait for.
    """
    if connection.vendor != "postgresql":
        return
    from shelfcall.live import pg_listener

    deadline = time.monotonic() + timeout
    while not pg_listener.listening.is_set():
        assert time.monotonic() < deadline, "the status page's live stream never started listening"
        page.wait_for_timeout(20)


def serious_violations(page: Page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']}; nodes: "
        + ", ".join(" ".join(node["target"]) for node in violation["nodes"])
        for violation in results.response["violations"]
        if violation["impact"] in {"serious", "critical"}
    ]


def test_whole_journey_on_a_phone(phone: Page, store, products, showcase):
    drill, saw, router = products["drill"], products["saw"], products["router"]
    alex = staff(store, "Alex")
    desk = make_drop_zone(store)

    phone.goto("/s/TOOLS234")
    expect(phone.locator("header .brand-name")).to_have_text("Hardware Hall")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Case A")
    expect(product_card(phone, drill)).to_contain_text("€99.00")
    expect(product_card(phone, drill)).to_contain_text("18 V · Yellow")
    expect(product_card(phone, drill).locator(".stock")).to_have_text("In stock")
    expect(product_card(phone, saw)).to_contain_text("€45.50")
    expect(product_card(phone, saw).locator(".stock")).to_have_text("Only 2 left")
    expect(product_card(phone, router).locator(".stock")).to_have_text("Out of stock")
    expect(product_card(phone, router).get_by_role("button", name="Out of stock")).to_be_disabled()
    expect(product_card(phone, router).get_by_role("button", name=re.compile("Add to cart"))).to_have_count(0)
    expect(phone.locator(".cart-bar")).to_have_count(0)

    add_to_cart(phone, drill)
    add_to_cart(phone, saw)
    expect(product_card(phone, drill).get_by_role("button", name=re.compile("Add to cart"))).to_contain_text("(1)")
    cart_bar = phone.get_by_role("link", name="View cart: 2 items")
    expect(cart_bar).to_be_visible()
    cart_bar.click()

    expect(phone).to_have_url(re.compile(r"/s/TOOLS234/cart$"))
    expect(phone.get_by_role("heading", name="Your cart")).to_be_visible()
    drill_line, saw_line = phone.locator(f"#line-{drill.pk}"), phone.locator(f"#line-{saw.pk}")
    expect(phone.locator(".cart-line")).to_have_count(2)
    drill_line.get_by_label("Quantity").fill("2")
    drill_line.get_by_role("button", name="Update").click()
    expect(drill_line.get_by_label("Quantity")).to_have_value("2")
    expect(drill_line).to_contain_text("€99.00 × 2 = €198.00")
    saw_line.get_by_role("button", name="Remove").click()
    expect(saw_line).to_have_count(0)
    expect(phone.locator(".cart-line")).to_have_count(1)
    expect(phone.locator("p.total")).to_contain_text("€198.00")

    phone.get_by_label("First name").fill("Kim")
    phone.get_by_role("button", name="Send request").click()
    expect(phone).to_have_url(re.compile(r"/o/[\w-]+$"))

    order = Order.objects.get(store=store)
    assert phone.url.endswith(f"/o/{order.public_token}")
    assert order.shopper_name == "Kim" and order.status == OrderStatus.SUBMITTED
    assert [(line.name, line.requested_qty) for line in order.lines.all()] == [("Cordless drill", 2)]
    assert stock_of(drill, store).reserved == 2 and stock_of(saw, store).reserved == 0
    status_url = phone.url

    panel = phone.locator("#status-panel")
    expect(panel.get_by_role("heading", level=1)).to_have_text(f"Order {order.number}")
    expect(panel).to_contain_text("Your request is in.")
    expect(panel.locator("figure.barcode svg")).to_be_visible()
    expect(panel.locator(".barcode-number")).to_have_text(f"SC{order.number}")
    expect(panel.locator(".order-lines")).to_contain_text("2 × Cordless drill")

    phone.evaluate("window.__marker = 1")
    wait_for_live_updates(phone)

    actions.claim_order(order.pk, by=alex)
    expect(panel).to_contain_text("Being picked by Alex", timeout=LIVE_TIMEOUT)
    expect(panel.locator("[aria-current=step]")).to_contain_text("Being picked by Alex")

    for line in order.lines.all():
        actions.pick_line(order.pk, line.pk, by=alex, qty=line.requested_qty)
    expect(panel.locator(".order-lines")).to_contain_text("2 of 2 picked", timeout=LIVE_TIMEOUT)

    actions.stage_order(order.pk, by=alex, drop_zone=desk)
    expect(panel).to_contain_text("Ready at Customer Service desk", timeout=LIVE_TIMEOUT)
    expect(panel.locator("figure.barcode svg")).to_be_visible()
    expect(panel.locator(".barcode-number")).to_have_text(f"SC{order.number}")

    actions.mark_paid(order.pk, by=TILL)
    expect(panel.locator(".progress li.step-done", has_text="Paid")).to_have_count(1, timeout=LIVE_TIMEOUT)
    expect(panel.locator(".next-step")).to_have_text("Paid and ready. Collect your order at Customer Service desk.")

    actions.hand_off_order(order.pk, by=alex)
    expect(panel.locator(".progress li.step-done", has_text="Collected")).to_have_count(1, timeout=LIVE_TIMEOUT)
    expect(panel.locator(".next-step")).to_have_text("Collected. Thank you for shopping with us!")
    expect(panel.locator("figure.barcode")).to_have_count(0)  # a closed order has nothing left to scan

    assert phone.url == status_url
    assert phone.evaluate("window.__marker") == 1, "the status page reloaded instead of updating in place"
    assert stock_of(drill, store).on_hand == 7 and stock_of(drill, store).reserved == 0


def test_cancel_from_the_status_page(phone: Page, store, products, showcase):
    drill = products["drill"]
    order = submit(showcase, {drill: 2})
    assert stock_of(drill, store).reserved == 2

    phone.goto(f"/o/{order.public_token}")
    phone.get_by_role("link", name="Cancel request").click()

    expect(phone).to_have_url(re.compile(rf"/o/{re.escape(order.public_token)}/cancel$"))
    expect(phone.get_by_role("heading", level=1)).to_have_text(f"Cancel order {order.number}?")
    phone.get_by_role("button", name="Yes, cancel my request").click()

    expect(phone).to_have_url(re.compile(rf"/o/{re.escape(order.public_token)}$"))
    expect(phone.locator(".message").get_by_text("Your request is cancelled.")).to_have_text(
        "Your request is cancelled. Nothing was charged."
    )
    expect(phone.locator(".next-step")).to_contain_text("This request was cancelled.")
    expect(phone.get_by_role("link", name="Cancel request")).to_have_count(0)
    expect(phone.locator("figure.barcode")).to_have_count(0)
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert stock_of(drill, store).reserved == 0 and stock_of(drill, store).on_hand == 9


def test_product_qr_opens_the_cart_with_that_product(phone: Page, products, showcase):
    saw = products["saw"]
    item = ShowcaseItem.objects.get(showcase=showcase, product=saw)

    phone.goto(f"/p/{item.code}")

    expect(phone).to_have_url(re.compile(r"/s/TOOLS234/cart$"))
    lines = phone.locator(".cart-line")
    expect(lines).to_have_count(1)
    expect(lines).to_contain_text("Jigsaw")
    expect(lines.get_by_label("Quantity")).to_have_value("1")
    expect(phone.get_by_role("button", name="Send request")).to_be_enabled()

    phone.goto(f"/p/{item.code}")  # scanning it again does not add a second unit
    expect(phone.locator(".cart-line")).to_have_count(1)
    expect(phone.locator(".cart-line").get_by_label("Quantity")).to_have_value("1")


def test_unknown_showcase_code_is_a_friendly_404(phone: Page, showcase):
    response = phone.goto("/s/NOPE2345")

    assert response is not None and response.status == 404
    expect(phone.get_by_role("heading", level=1)).to_have_text("This code doesn't work here")
    expect(phone.locator(".help-text")).to_have_text(HELP_TEXT)
    expect(phone.locator("header .brand-name")).to_have_text("Hardware Hall")


def test_switched_off_showcase_shows_its_store_help(phone: Page, showcase):
    other_store = make_store(name="Garden Centre", help_text="Ask at the checkout near the plants.")
    make_showcase(other_store, code="PLANTS23", active=False)

    response = phone.goto("/s/PLANTS23")

    assert response is not None and response.status == 404
    expect(phone.locator(".help-text")).to_have_text("Ask at the checkout near the plants.")
    expect(phone.locator("header .brand-name")).to_have_text("Garden Centre")


def _showcase_with_cart_bar(page: Page, showcase, products) -> None:
    page.goto("/s/TOOLS234")
    add_to_cart(page, products["drill"])
    expect(page.locator(".cart-bar")).to_be_visible()


def _cart(page: Page, showcase, products) -> None:
    page.goto(f"/p/{ShowcaseItem.objects.get(showcase=showcase, product=products['drill']).code}")
    expect(page.locator(".cart-line")).to_have_count(1)
    expect(page.get_by_label("First name")).to_be_visible()


def _cart_with_a_problem(page: Page, showcase, products) -> None:
    _cart(page, showcase, products)
    Product.objects.filter(pk=products["drill"].pk).update(price="89.00")
    page.reload()
    expect(page.get_by_role("alert")).to_contain_text("The price changed.")
    expect(page.get_by_role("button", name="Send request")).to_be_disabled()


def _status(page: Page, showcase, products) -> None:
    order = submit(showcase, {products["drill"]: 1})
    page.goto(f"/o/{order.public_token}")
    expect(page.locator("figure.barcode svg")).to_be_visible()


def _cancel(page: Page, showcase, products) -> None:
    order = submit(showcase, {products["drill"]: 1})
    page.goto(f"/o/{order.public_token}/cancel")
    expect(page.get_by_role("button", name="Yes, cancel my request")).to_be_visible()


def _unknown_code(page: Page, showcase, products) -> None:
    assert page.goto("/s/NOPE2345").status == 404


def _sign(page: Page, showcase, products) -> None:
    page.goto("/s/TOOLS234/sign")
    expect(page.locator(".qr svg")).to_be_visible()


@pytest.mark.parametrize(
    "open_page",
    [_showcase_with_cart_bar, _cart, _cart_with_a_problem, _status, _cancel, _unknown_code, _sign],
    ids=["showcase", "cart", "cart-problem", "status", "cancel", "unknown-code", "sign"],
)
def test_no_serious_accessibility_violations(phone: Page, showcase, products, open_page):
    open_page(phone, showcase, products)

    violations = serious_violations(phone)

    assert not violations, f"axe on {phone.url}:\n" + "\n".join(violations)


def test_add_to_cart_with_the_keyboard_only(phone: Page, products, showcase):
    drill = products["drill"]
    phone.goto("/s/TOOLS234")

    phone.keyboard.press("Tab")
    expect(phone.get_by_role("link", name="Skip to content")).to_be_focused()
    phone.keyboard.press("Enter")
    phone.keyboard.press("Tab")
    add_drill = product_card(phone, drill).get_by_role("button", name=re.compile(r"^Add to cart"))
    expect(add_drill).to_be_focused()
    expect(add_drill).to_have_accessible_name(re.compile(r"^Add to cart\s*: Cordless drill, 18 V · Yellow$"))
    phone.keyboard.press("Enter")

    expect(phone.get_by_role("status")).to_have_text("Cordless drill added to your cart.")
    expect(add_drill).to_contain_text("(1)")
    expect(phone.get_by_role("link", name="View cart: 1 item")).to_be_visible()

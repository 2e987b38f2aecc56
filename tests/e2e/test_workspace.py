"""The associate workspace in real browsers: queue, order page, till, hand-off, beside the shopper's phone."""

import base64
import re
from dataclasses import dataclass

import pytest
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import AbstractBaseUser
from playwright.sync_api import Locator, Page, expect

from shelfcall.catalog.models import Product, Showcase
from shelfcall.orders import actions
from shelfcall.orders.events import Actor
from shelfcall.orders.models import Order, OrderStatus, PaymentStatus
from shelfcall.shopper.codes import barcode_svg
from shelfcall.stores.models import DropZone, Membership, Role, StaffPin, Store
from tests.e2e.conftest import PHONE, TABLET, watch_offline
from tests.e2e.test_shopper_journey import add_to_cart, serious_violations, wait_for_live_updates
from tests.factories import (
    TILL,
    claimed,
    make_drop_zone,
    make_product,
    make_showcase,
    make_store,
    make_user,
    staged,
    stock_of,
    submit,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_passwords")]

LIVE_TIMEOUT = 5_000  # ms for a change made elsewhere to show on an open page
UPC = "4006381333931"
NARROW_PHONE = PHONE | {"viewport": {"width": 360, "height": 740}}


@dataclass
class Shop:
    store: Store
    drill: Product
    showcase: Showcase
    desk: DropZone
    alex: AbstractBaseUser
    ben: AbstractBaseUser


@pytest.fixture
def shop() -> Shop:
    store = make_store(name="Hardware Hall")
    drill = make_product(store, name="Cordless drill", price="99.00", on_hand=9, upc=UPC, location_hint="Aisle 5")
    return Shop(
        store=store,
        drill=drill,
        showcase=make_showcase(store, products=[drill], code="TOOLS234"),
        desk=make_drop_zone(store),
        alex=make_user(store, name="Alex"),
        ben=make_user(store, name="Ben"),
    )


def claimed_by_alex(shop: Shop, order: Order) -> Order:
    return claimed(order, Actor.staff(shop.alex))


def staged_by_alex(shop: Shop, order: Order) -> Order:
    return staged(order, Actor.staff(shop.alex), shop.desk)


def queue_entry(page: Page, order: Order) -> Locator:
    return page.locator("#queue .queue-item").filter(has_text=f"#{order.number}")


def message(page: Page, text: str) -> Locator:
    return page.locator(".messages .message").filter(has_text=text)


def scan(page: Page, code: str) -> None:
    """What a keyboard-wedge scanner does: it types into the focused field, then presses Enter."""
    expect(page.get_by_label("Scan or type the barcode or SKU")).to_be_focused()
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def tab_to(page: Page, target: Locator, *, limit: int = 60) -> None:
    """Press Tab until `target` has the focus, as someone without a mouse would."""
    target.wait_for()
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    pytest.fail(f"{target} never got the focus after {limit} Tab presses on {page.url}")


def status_step(page: Page, text: str) -> Locator:
    return page.locator("#status-panel .progress li.step-done", has_text=text)


def test_two_associates_and_a_shopper_through_a_whole_order(open_page, shop: Shop):
    alex = open_page(TABLET, user=shop.alex)
    ben = open_page(PHONE, user=shop.ben)
    shopper = open_page(PHONE)
    for page in (alex, ben):
        page.goto("/w/")
        expect(page.locator("#queue")).to_contain_text("No orders here.")
        page.evaluate("window.__marker = 1")
    wait_for_live_updates(ben)

    shopper.goto("/s/TOOLS234")
    add_to_cart(shopper, shop.drill)
    shopper.get_by_role("link", name="View cart: 1 item").click()
    shopper.get_by_label("First name").fill("Kim")
    shopper.get_by_role("button", name="Send request").click()
    expect(shopper).to_have_url(re.compile(r"/o/[\w-]+$"))
    order = Order.objects.get(store=shop.store)
    panel = shopper.locator("#status-panel")
    expect(panel).to_contain_text("Your request is in.")

    for page in (alex, ben):  # no reload: the queue hears of the order through its live stream
        expect(queue_entry(page, order)).to_contain_text("Kim · 1 item", timeout=LIVE_TIMEOUT)
        expect(queue_entry(page, order).locator(".queue-state")).to_have_text("Sent")
        assert page.evaluate("window.__marker") == 1, "the queue reloaded instead of updating in place"

    # Ben opens the order in a second tab whose live connection is down: the page goes stale.
    ben_order = ben.context.new_page()
    ben_order.route("**/orders/*/stream*", lambda route: route.abort())
    ben_order.goto(f"/w/orders/{order.pk}")
    expect(ben_order.get_by_role("button", name="Picking", exact=True)).to_be_visible()

    queue_entry(alex, order).get_by_role("link").click()
    expect(alex).to_have_url(re.compile(rf"/w/orders/{order.pk}$"))
    expect(alex.get_by_role("heading", level=1)).to_contain_text(f"Order {order.number}")
    alex.get_by_role("button", name="Picking", exact=True).click()
    expect(message(alex, "You are picking this order.")).to_be_visible()
    expect(alex.locator(".order-status")).to_contain_text("Picking — Alex")

    expect(queue_entry(ben, order)).to_contain_text("Picking — Alex", timeout=LIVE_TIMEOUT)
    expect(panel).to_contain_text("Being picked by Alex", timeout=LIVE_TIMEOUT)

    ben_order.get_by_role("button", name="Picking", exact=True).click()
    expect(ben_order.get_by_role("alert")).to_have_text(f"Alex is already picking order {order.number}.")
    expect(ben_order.locator(".order-status")).to_contain_text("Picking — Alex")
    expect(ben_order.get_by_role("button", name="Picking", exact=True)).to_have_count(0)
    expect(ben_order.get_by_label("Scan or type the barcode or SKU")).to_have_count(0)

    scan(alex, "9999999999994")
    expect(alex.get_by_role("alert")).to_have_text(
        "9999999999994 is not in this order. Check the item, or type its SKU."
    )
    expect(alex.locator(".hint", has_text="units done")).to_have_text("0 of 1 units done")
    scan(alex, UPC)
    expect(message(alex, "Picked Cordless drill (1 of 1).")).to_be_visible()
    expect(alex.locator(".hint", has_text="units done")).to_have_text("1 of 1 units done")
    expect(panel.locator(".order-lines")).to_contain_text("1 of 1 picked", timeout=LIVE_TIMEOUT)

    stage_form = alex.get_by_role("group", name="1x for Customer: where did you drop it?")
    stage_form.get_by_role("radio", name="Customer Service desk").check()
    alex.get_by_role("button", name="1x for Customer").click()
    expect(message(alex, "Dropped at Customer Service desk.")).to_be_visible()
    expect(alex.locator(".order-status")).to_contain_text("Ready at Customer Service desk")
    expect(panel).to_contain_text("Ready at Customer Service desk", timeout=LIVE_TIMEOUT)
    expect(queue_entry(ben, order)).to_contain_text("Ready at Customer Service desk", timeout=LIVE_TIMEOUT)

    alex.get_by_role("navigation", name="Workspace").get_by_role("link", name="Till").click()
    expect(alex.get_by_label("Scan the shopper's barcode or type the order number")).to_be_focused()
    alex.keyboard.type(str(order.number))
    alex.keyboard.press("Enter")
    till_order = alex.locator(".till-order")
    expect(till_order.get_by_role("heading", level=2)).to_have_text(f"Order {order.number} · Kim")
    expect(till_order.locator(".ws-lines")).to_have_text("1 × Cordless drill · €99.00")
    expect(till_order.locator(".total")).to_have_text("Total: €99.00")
    till_order.get_by_role("button", name="Mark Paid").click()
    expect(message(alex, "Marked paid.")).to_be_visible()
    expect(alex.locator(".till-order")).to_contain_text("Paid")
    expect(alex.get_by_role("button", name="Mark Paid")).to_have_count(0)
    expect(status_step(shopper, "Paid")).to_have_count(1, timeout=LIVE_TIMEOUT)

    alex.get_by_role("navigation", name="Workspace").get_by_role("link", name="Hand off").click()
    expect(alex.get_by_label("Scan the shopper's barcode or type the order number")).to_be_focused()
    alex.keyboard.type(f"SC{order.number}")
    alex.keyboard.press("Enter")
    expect(alex).to_have_url(re.compile(rf"/w/orders/{order.pk}/handoff$"))
    expect(alex.get_by_role("heading", level=1)).to_have_text(f"Hand off order {order.number}")
    alex.get_by_label("Scan the shopper's barcode or type the order number").fill(f"SC{order.number}")
    alex.get_by_role("button", name="Review hand-off").click()
    expect(alex.get_by_role("heading", level=1)).to_have_text(f"Hand over order {order.number}?")
    expect(alex.locator(".ws-lines")).to_have_text("1 × Cordless drill handed over")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.READY  # the review changes nothing yet
    alex.get_by_role("button", name="Mark Picked Up").click()
    expect(alex).to_have_url(re.compile(rf"/w/orders/{order.pk}$"))
    expect(message(alex, f"Order {order.number} handed over. Thank you!")).to_be_visible()
    expect(alex.locator(".order-status")).to_contain_text("Collected · Paid")

    expect(status_step(shopper, "Collected")).to_have_count(1, timeout=LIVE_TIMEOUT)
    expect(panel.locator(".next-step")).to_have_text("Collected. Thank you for shopping with us!")
    assert ben.evaluate("window.__marker") == 1, "Ben's queue reloaded instead of updating in place"
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED and order.payment_status == PaymentStatus.PAID
    assert stock_of(shop.drill, shop.store).on_hand == 8 and stock_of(shop.drill, shop.store).reserved == 0


def test_an_order_from_queue_to_till_with_the_keyboard_only(open_page, shop: Shop):
    locker = make_drop_zone(shop.store, "Locker wall")
    order = submit(shop.showcase, {shop.drill: 1})
    page = open_page(TABLET, user=shop.alex)
    page.goto("/w/")

    link = queue_entry(page, order).get_by_role("link")
    tab_to(page, link)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/w/orders/{order.pk}$"))

    tab_to(page, page.get_by_role("button", name="Picking", exact=True))
    page.keyboard.press("Enter")
    expect(message(page, "You are picking this order.")).to_be_visible()

    scan(page, UPC)  # the scan field has the focus on arrival
    expect(message(page, "Picked Cordless drill (1 of 1).")).to_be_visible()

    stage_form = page.get_by_role("group", name="1x for Customer: where did you drop it?")
    desk_radio = stage_form.get_by_role("radio", name="Customer Service desk")
    locker_radio = stage_form.get_by_role("radio", name="Locker wall")
    tab_to(page, desk_radio)
    page.keyboard.press("ArrowDown")
    expect(locker_radio).to_be_checked()
    expect(locker_radio).to_be_focused()
    tab_to(page, page.get_by_role("button", name="1x for Customer"))
    page.keyboard.press("Enter")
    expect(message(page, "Dropped at Locker wall.")).to_be_visible()
    order.refresh_from_db()
    assert order.status == OrderStatus.READY and order.drop_zone == locker

    tab_to(page, page.get_by_role("navigation", name="Workspace").get_by_role("link", name="Till"))
    page.keyboard.press("Enter")
    expect(page.get_by_label("Scan the shopper's barcode or type the order number")).to_be_focused()
    page.keyboard.type(f"SC{order.number}")
    page.keyboard.press("Enter")
    tab_to(page, page.get_by_label("Payment reference (optional)"))
    page.keyboard.type("POS-42")
    tab_to(page, page.get_by_role("button", name="Mark Paid"))
    page.keyboard.press("Space")
    expect(message(page, "Marked paid.")).to_be_visible()
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.PAID and order.payments.get().reference == "POS-42"


def test_shopper_check_in_shows_live_in_the_queue(open_page, shop: Shop):
    order = submit(shop.showcase, {shop.drill: 1})
    alex = open_page(TABLET, user=shop.alex)
    alex.goto("/w/")
    alex.get_by_role("navigation", name="Filter orders").get_by_role("link", name="Shopper waiting").click()
    expect(alex).to_have_url(re.compile(r"\?filter=waiting$"))
    expect(alex.locator("#queue")).to_contain_text("No orders here.")
    alex.evaluate("window.__marker = 1")
    wait_for_live_updates(alex)

    shopper = open_page(PHONE)
    shopper.goto(f"/o/{order.public_token}")
    arrival = shopper.get_by_role("region", name="Here to collect?")
    arrival.get_by_text("I'm outside (curbside)").click()
    arrival.get_by_label("Parking spot and car").fill("Bay 3, red Clio")
    arrival.get_by_role("button", name="I'm outside", exact=True).click()
    expect(shopper.get_by_role("status").filter(has_text="Thanks!")).to_have_text("Thanks! The team knows you're here.")
    expect(shopper.get_by_role("region", name="We know you're here")).to_contain_text(
        "Outside: Bay 3, red Clio. We'll bring it out."
    )

    expect(queue_entry(alex, order).locator(".badge.waiting")).to_contain_text(
        "Waiting curbside: Bay 3, red Clio", timeout=LIVE_TIMEOUT
    )
    assert alex.evaluate("window.__marker") == 1, "the queue reloaded instead of updating in place"
    queue_entry(alex, order).get_by_role("link").click()
    expect(alex.locator(".facts")).to_contain_text("Curbside: Bay 3, red Clio")


def test_shopper_typing_is_not_lost_to_a_live_update(open_page, shop: Shop):
    """An associate claims the order while the shopper types where they parked: the text stays."""
    order = submit(shop.showcase, {shop.drill: 1})
    shopper = open_page(PHONE)
    shopper.goto(f"/o/{order.public_token}")
    wait_for_live_updates(shopper)
    arrival = shopper.get_by_role("region", name="Here to collect?")
    arrival.get_by_text("I'm outside (curbside)").click()
    note = arrival.get_by_label("Parking spot and car")
    note.fill("Bay 3, red")
    actions.claim_order(order.pk, by=Actor.staff(shop.alex))
    expect(shopper.locator("#status-panel[data-pending]")).to_have_count(1, timeout=LIVE_TIMEOUT)  # it waits
    expect(note).to_have_value("Bay 3, red")
    expect(note).to_be_focused()
    note.blur()
    expect(shopper.locator("#status-panel")).to_contain_text("Being picked by Alex", timeout=LIVE_TIMEOUT)
    expect(shopper.locator("#status-note")).to_contain_text("being picked")


def page_overflow(page: Page) -> str:
    """Why the page scrolls sideways at its width (empty if it does not)."""
    return page.evaluate(
        """() => {
          const width = document.documentElement.clientWidth;
          if (document.documentElement.scrollWidth <= width) return "";
          const wide = [...document.querySelectorAll("body *")]
            .filter(el => el.getBoundingClientRect().right > width + 0.5)
            .map(el => el.tagName.toLowerCase() + (el.className ? "." + el.className : "")
              + " right=" + Math.round(el.getBoundingClientRect().right));
          return document.documentElement.scrollWidth + "px > " + width + "px: " + wide.slice(0, 8).join(", ");
        }"""
    )


def assert_fits(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, page_overflow(page)


def assert_tall_enough(button: Locator) -> None:
    box = button.bounding_box()
    assert box is not None and box["height"] >= 44, f"{button} is {box and box['height']} px tall"


def test_a_shared_tablet_switches_by_pin_and_the_pin_session_stays_in_the_workspace(open_page, shop: Shop):
    StaffPin.objects.create(user=shop.ben, pin_hash=make_password("246813"))
    page = open_page(TABLET, user=shop.alex)
    page.goto("/w/switch")
    page.get_by_role("radio", name="Ben").check()
    page.get_by_label("PIN").fill("2468")  # four digits: the browser itself asks for more
    page.get_by_role("button", name="Switch").click()
    expect(page).to_have_url(re.compile(r"/w/switch$"))
    page.get_by_label("PIN").fill("246813")
    page.get_by_role("button", name="Switch").click()
    expect(message(page, "Hello Ben!")).to_be_visible()
    page.goto("/w/pin")
    expect(message(page, "You switched in with a PIN")).to_be_visible()


def test_queue_and_order_page_fit_a_360_px_phone(open_page, shop: Shop):
    from shelfcall.orders.actions import ShopperContact

    contact = ShopperContact(name="Maximilienne", phone="+33 6 12 34 56 78", email="maximilienne.dupont@example.com")
    order = submit(shop.showcase, {shop.drill: 2}, contact=contact)
    other = submit(shop.showcase, {shop.drill: 1})
    actions.claim_order(other.pk, by=Actor.staff(shop.ben))
    page = open_page(NARROW_PHONE, user=shop.alex)

    page.goto("/w/")
    expect(page.locator("#queue .queue-item")).to_have_count(2)
    assert_fits(page)

    queue_entry(page, order).get_by_role("link").click()
    picking = page.get_by_role("button", name="Picking", exact=True)
    assert_tall_enough(picking)
    assert_fits(page)
    picking.click()
    scan(page, UPC)
    expect(message(page, "Picked Cordless drill (1 of 2).")).to_be_visible()
    scan(page, shop.drill.sku.lower())  # a typed SKU, in any case
    expect(message(page, "Picked Cordless drill (2 of 2).")).to_be_visible()
    expect(page.locator(".hint", has_text="units done")).to_have_text("2 of 2 units done")
    assert_tall_enough(page.get_by_role("button", name="Mark Paid"))
    stage = page.get_by_role("button", name="1x for Customer")
    assert_tall_enough(stage)
    assert_tall_enough(page.get_by_role("radio", name="Customer Service desk").locator("xpath=.."))
    assert_fits(page)
    page.get_by_role("radio", name="Customer Service desk").check()
    stage.click()
    expect(message(page, "Dropped at Customer Service desk.")).to_be_visible()
    assert_tall_enough(page.get_by_role("button", name="Mark Paid"))
    assert_fits(page)


def test_camera_scanning_polyfill_reads_a_code_128_offline(open_page, live_server_url, shop: Shop):
    order = claimed_by_alex(shop, submit(shop.showcase, {shop.drill: 1}))
    page = open_page(TABLET, user=shop.alex)
    outside, problems = watch_offline(page, live_server_url)
    # Use our polyfill even on a Chromium that has a native detector: that is what is tested here.
    page.add_init_script("delete window.BarcodeDetector")
    page.goto(f"/w/orders/{order.pk}")
    expect(page.get_by_label("Scan or type the barcode or SKU")).to_be_visible()
    image = "data:image/svg+xml;base64," + base64.b64encode(barcode_svg("SC1001").encode()).decode()

    with page.expect_response(re.compile(r"/static/vendor/barcode-detector/zxing_reader\.wasm$")) as wasm:
        found = page.evaluate(
            """async (src) => {
              const Detector = await window.shelfcallBarcodeDetector();
              const image = new Image(600, 200);
              image.src = src;
              await image.decode();
              const formats = await Detector.getSupportedFormats();
              const codes = await new Detector({ formats: ["code_128"] }).detect(image);
              return {
                polyfill: typeof window.BarcodeDetectionAPI === "object",
                supportsCode128: formats.includes("code_128"),
                codes: codes.map(code => ({ format: code.format, rawValue: code.rawValue })),
              };
            }""",
            image,
        )

    assert wasm.value.ok
    assert found == {
        "polyfill": True,
        "supportsCode128": True,
        "codes": [{"format": "code_128", "rawValue": "SC1001"}],
    }
    assert outside == [], "the scanner reached outside the store's server"
    assert problems == [], "errors in the page (a Content-Security-Policy refusal shows here)"


# Accessibility: every workspace screen, with its folded parts (<details>) opened so axe sees them too.


def _login(open_page, shop: Shop) -> Page:
    page = open_page(TABLET)
    page.goto("/w/login")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to the workspace")
    return page


def _stores(open_page, shop: Shop) -> Page:
    garden = make_store(name="Garden Centre")
    Membership.objects.create(user=shop.alex, organization=garden.organization, store=garden, role=Role.ASSOCIATE)
    page = open_page(TABLET, user=shop.alex)
    page.goto("/w/")
    expect(page).to_have_url(re.compile(r"/w/stores\?next="))
    expect(page.locator(".choices button")).to_have_count(2)
    return page


def _queue(open_page, shop: Shop) -> Page:
    submit(shop.showcase, {shop.drill: 2})
    taken = submit(shop.showcase, {shop.drill: 1})
    actions.claim_order(taken.pk, by=Actor.staff(shop.ben))
    ready = staged_by_alex(shop, submit(shop.showcase, {shop.drill: 1}))
    actions.check_in(ready.pk, mode="curbside", note="Bay 3, red Clio")
    page = open_page(TABLET, user=shop.alex)
    page.goto("/w/")
    expect(page.locator("#queue .queue-item")).to_have_count(3)
    return page


def _queue_empty(open_page, shop: Shop) -> Page:
    page = open_page(TABLET, user=shop.alex)
    page.goto("/w/")
    expect(page.locator("#queue .empty")).to_be_visible()
    return page


def _order_page(shop: Shop, order: Order, open_page) -> Page:
    page = open_page(TABLET, user=shop.alex)
    page.goto(f"/w/orders/{order.pk}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Order {order.number}")
    return page


def _order_submitted(open_page, shop: Shop) -> Page:
    page = _order_page(shop, submit(shop.showcase, {shop.drill: 2}), open_page)
    expect(page.get_by_role("button", name="Picking", exact=True)).to_be_visible()
    return page


def _order_picking(open_page, shop: Shop) -> Page:
    order = claimed_by_alex(shop, submit(shop.showcase, {shop.drill: 2}))
    actions.pick_line(order.pk, order.lines.get().pk, by=Actor.staff(shop.alex))
    page = _order_page(shop, order, open_page)
    expect(page.get_by_label("Scan or type the barcode or SKU")).to_be_visible()
    return page


def _order_picking_seen_by_a_supervisor(open_page, shop: Shop) -> Page:
    order = claimed_by_alex(shop, submit(shop.showcase, {shop.drill: 1}))
    page = open_page(TABLET, user=make_user(shop.store, name="Sam", role=Role.SUPERVISOR))
    page.goto(f"/w/orders/{order.pk}")
    expect(page.get_by_label("Give this order to")).to_be_attached()
    expect(page.get_by_role("button", name="Put back in the queue")).to_be_visible()
    return page


def _order_picked(open_page, shop: Shop) -> Page:
    order = claimed_by_alex(shop, submit(shop.showcase, {shop.drill: 1}))
    actions.pick_line(order.pk, order.lines.get().pk, by=Actor.staff(shop.alex))
    page = _order_page(shop, order, open_page)
    expect(page.get_by_role("button", name="1x for Customer")).to_be_visible()
    return page


def _order_ready(open_page, shop: Shop) -> Page:
    page = _order_page(shop, staged_by_alex(shop, submit(shop.showcase, {shop.drill: 1})), open_page)
    expect(page.get_by_role("link", name="Hand off")).to_have_count(2)  # the page's and the menu's
    return page


def _till_empty(open_page, shop: Shop) -> Page:
    page = open_page(TABLET, user=shop.alex)
    page.goto("/w/till")
    expect(page.get_by_role("heading", level=1)).to_have_text("Till")
    return page


def _till_order(open_page, shop: Shop) -> Page:
    order = submit(shop.showcase, {shop.drill: 1})
    page = open_page(TABLET, user=shop.alex)
    page.goto(f"/w/till?code=SC{order.number}")
    expect(page.get_by_role("button", name="Mark Paid")).to_be_visible()
    return page


def _till_unknown(open_page, shop: Shop) -> Page:
    page = open_page(TABLET, user=shop.alex)
    page.goto("/w/till?code=4242")
    expect(page.get_by_role("alert")).to_contain_text("No order 4242 in this store.")
    return page


def _handoff_find(open_page, shop: Shop) -> Page:
    page = open_page(TABLET, user=shop.alex)
    page.goto("/w/handoff")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hand off an order")
    return page


def _handoff_form(open_page, shop: Shop) -> Page:
    order = staged_by_alex(shop, submit(shop.showcase, {shop.drill: 1}))
    actions.mark_paid(order.pk, by=TILL)
    page = open_page(TABLET, user=shop.alex)
    page.goto(f"/w/orders/{order.pk}/handoff")
    expect(page.get_by_role("button", name="Review hand-off")).to_be_visible()
    return page


def _handoff_form_with_errors(open_page, shop: Shop) -> Page:
    page = _handoff_form(open_page, shop)
    page.get_by_label("Scan the shopper's barcode or type the order number").fill("SC9")
    page.get_by_label("Turned down").fill("1")
    page.get_by_role("button", name="Review hand-off").click()
    expect(page.get_by_role("alert").filter(has_text="Choose why this item was turned down.")).to_be_visible()
    return page


def _handoff_confirm(open_page, shop: Shop) -> Page:
    page = _handoff_form(open_page, shop)
    order = Order.objects.get(store=shop.store)
    page.get_by_label("Scan the shopper's barcode or type the order number").fill(str(order.number))
    page.get_by_role("button", name="Review hand-off").click()
    expect(page.get_by_role("button", name="Mark Picked Up")).to_be_visible()
    return page


def _refunds(open_page, shop: Shop) -> Page:
    supervisor = make_user(shop.store, name="Sam", role=Role.SUPERVISOR)
    order = submit(shop.showcase, {shop.drill: 1})
    actions.mark_paid(order.pk, by=TILL)
    actions.cancel_order(order.pk, by=Actor.staff(shop.alex), reason="Shopper left")
    page = open_page(TABLET, user=supervisor)
    page.goto("/w/refunds")
    expect(page.locator(".refund")).to_contain_text("€99.00")
    return page


def _multi_pick(open_page, shop: Shop) -> Page:
    first, second = submit(shop.showcase, {shop.drill: 1}), submit(shop.showcase, {shop.drill: 2})
    page = open_page(TABLET, user=shop.alex)
    page.goto(f"/w/pick?order={first.pk}&order={second.pk}")
    page.get_by_role("button", name="Start picking 2 orders").click()
    expect(page.get_by_role("heading", level=2)).to_have_text("3 × Cordless drill")
    return page


def _switch_user(open_page, shop: Shop) -> Page:
    StaffPin.objects.create(user=shop.ben, pin_hash=make_password("246813"))
    page = open_page(TABLET, user=shop.alex)
    page.goto("/w/switch")
    expect(page.get_by_role("radio", name="Ben")).to_be_visible()
    return page


def _my_pin(open_page, shop: Shop) -> Page:
    page = open_page(TABLET, user=shop.alex)
    page.goto("/w/pin")
    expect(page.get_by_label("The same PIN again")).to_be_visible()
    return page


def _bag_label(open_page, shop: Shop) -> Page:
    order = staged_by_alex(shop, submit(shop.showcase, {shop.drill: 1}))
    page = open_page(TABLET, user=shop.alex)
    page.goto(f"/w/orders/{order.pk}/label")
    expect(page.locator(".label-number")).to_have_text(f"#{order.number}")
    return page


def _shopper_status_with_arrival(open_page, shop: Shop) -> Page:
    order = claimed_by_alex(shop, submit(shop.showcase, {shop.drill: 1}))
    page = open_page(PHONE)
    page.goto(f"/o/{order.public_token}")
    expect(page.get_by_role("region", name="Here to collect?")).to_be_visible()
    return page


def _shopper_status_checked_in(open_page, shop: Shop) -> Page:
    order = submit(shop.showcase, {shop.drill: 1})
    actions.check_in(order.pk, mode="curbside", note="Bay 3, red Clio")
    page = open_page(PHONE)
    page.goto(f"/o/{order.public_token}")
    expect(page.get_by_role("region", name="We know you're here")).to_be_visible()
    return page


SCREENS = {
    "login": _login,
    "store-chooser": _stores,
    "queue": _queue,
    "queue-empty": _queue_empty,
    "order-submitted": _order_submitted,
    "order-picking-mine": _order_picking,
    "order-picking-supervisor": _order_picking_seen_by_a_supervisor,
    "order-picked": _order_picked,
    "order-ready": _order_ready,
    "till-empty": _till_empty,
    "till-order": _till_order,
    "till-unknown-code": _till_unknown,
    "handoff-find": _handoff_find,
    "handoff-form": _handoff_form,
    "handoff-form-errors": _handoff_form_with_errors,
    "handoff-confirm": _handoff_confirm,
    "refunds": _refunds,
    "multi-pick": _multi_pick,
    "switch-user": _switch_user,
    "my-pin": _my_pin,
    "bag-label": _bag_label,
    "shopper-status-arrival": _shopper_status_with_arrival,
    "shopper-status-checked-in": _shopper_status_checked_in,
}


@pytest.mark.parametrize("open_screen", SCREENS.values(), ids=SCREENS.keys())
def test_no_serious_accessibility_violations(open_page, shop: Shop, open_screen):
    page = open_screen(open_page, shop)
    page.locator("details").evaluate_all("all => all.forEach(details => { details.open = true; })")

    violations = serious_violations(page)

    assert not violations, f"axe on {page.url}:\n" + "\n".join(violations)

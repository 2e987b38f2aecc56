"""The QR sign's preview as staff see it on a store tablet: the links to the PDFs, the choice of
languages with the keyboard, no serious accessibility violation; a PDF link answers a PDF."""

import pytest
from playwright.sync_api import Page, expect

from shelfcall.stores.models import Role
from tests.e2e.conftest import TABLET
from tests.e2e.test_shopper_journey import serious_violations
from tests.factories import make_product, make_showcase, make_store, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def showcase():
    store = make_store(name="Hardware Hall")
    return make_showcase(store, products=[make_product(store, name="Cordless drill")], code="SIGN2345")


@pytest.fixture
def tablet(open_page, showcase, fast_passwords) -> Page:
    return open_page(TABLET, user=make_user(showcase.store, role=Role.SUPERVISOR), store=showcase.store)


def test_staff_choose_languages_with_the_keyboard_and_get_the_pdfs(tablet: Page, showcase):
    tablet.goto("/s/SIGN2345/sign")
    downloads = tablet.get_by_role("region", name="Signs to print (PDF)")
    expect(downloads).to_be_visible()
    for language in ["English", "Español"]:
        box = downloads.get_by_role("checkbox", name=language)
        box.focus()
        tablet.keyboard.press("Space")
        expect(box).not_to_be_checked()
    downloads.get_by_role("button", name="Use these languages").press("Enter")
    tablet.wait_for_url("**/s/SIGN2345/sign?lang=fr&lang=ko")
    link = downloads.get_by_role("link", name="Shelf label (100 × 62 mm)").first
    assert link.get_attribute("href") == "/s/SIGN2345/sign.pdf?size=label&lang=fr&lang=ko"
    pdf = tablet.request.get(link.get_attribute("href"))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")
    assert not serious_violations(tablet), serious_violations(tablet)


def test_shoppers_see_no_links(open_page, showcase):
    page = open_page()
    page.goto("/s/SIGN2345/sign")
    expect(page.locator(".qr svg")).to_be_visible()
    expect(page.get_by_role("region", name="Signs to print (PDF)")).to_have_count(0)

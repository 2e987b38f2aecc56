"""The sign PDFs as a person and a phone meet them: every QR code read back from the printed page
opens the right page, the instructions are in the chosen languages, nothing runs off the page."""

from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from shelfcall.catalog.models import Showcase, ShowcaseItem
from shelfcall.printing import fonts
from shelfcall.printing.pages import PAGE_SIZES
from shelfcall.shopper.cart import Cart
from shelfcall.stores.models import Store
from tests.factories import make_product, make_showcase, make_store, make_user, signed_in
from tests.printing.conftest import LONG_NAME, showcase_named
from tests.support.pdf import Code, codes_on_pages, page_texts, page_words

pytestmark = pytest.mark.django_db

SCAN = {
    "en": "Scan the code with your phone's camera.",
    "fr": "Scannez le code avec l'appareil photo de votre téléphone.",
    "ko": "휴대폰 카메라로 코드를 스캔하세요.",
    "es": "Escanea el código con la cámara de tu móvil.",
}
SHOWCASE_HEADING = {
    "en": "Need something from this case?",
    "fr": "Un article de cette vitrine vous intéresse ?",
    "ko": "이 진열장의 상품이 필요하세요?",
    "es": "¿Quieres algo de esta vitrina?",
}


def pdf_of(client: Client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    return response.content


def flat(text: str) -> str:
    """Page text with its line breaks as spaces: wrapped sentences read whole."""
    return " ".join(text.split())


def qr_urls(pdf: bytes) -> list[str]:
    """The one QR code of each page."""
    pages = codes_on_pages(pdf)
    assert all([code.kind for code in page].count("QRCode") == 1 for page in pages), pages
    return [next(code.text for code in page if code.kind == "QRCode") for page in pages]


def opens_showcase(url: str, showcase: Showcase) -> None:
    page = Client().get(urlsplit(url).path)
    assert page.status_code == 200 and showcase.name in page.content.decode()


def opens_cart_with(url: str, item: ShowcaseItem) -> None:
    """A product's QR puts exactly that product in the showcase's cart."""
    shopper = Client()
    page = shopper.get(urlsplit(url).path, follow=True)
    assert page.redirect_chain[-1][0] == f"/s/{item.showcase.code}/cart"
    assert set(Cart(shopper.session, item.showcase.code).lines) == {str(item.product_id)}
    assert item.product.name[:20] in page.content.decode()


@pytest.mark.parametrize("size", list(PAGE_SIZES))
def test_every_page_of_a_store_pdf_reads_right_in_each_size(staff_client, store, showcase, size):
    """The QR code of every page opens its page, a product's barcode reads its SKU, the short address,
    the store, the names and the instructions in each language are there, and no word leaves the page
    (the longest name shrinks, and on a label is cut with an ellipsis)."""
    pdf = pdf_of(staff_client, f"/stores/{store.pk}/signs.pdf?size={size}&lang=fr&lang=ko&lang=es")
    items = list(showcase.items.select_related("product", "showcase"))
    pages = codes_on_pages(pdf)
    assert pages[0] == [Code("QRCode", f"http://testserver/s/{showcase.code}")]
    opens_showcase(pages[0][0].text, showcase)
    assert len(pages) == 1 + len(items)
    for item, codes in zip(items, pages[1:], strict=True):
        assert sorted(codes, key=lambda code: code.kind) == [
            Code("Code128", item.product.sku),
            Code("QRCode", f"http://testserver/p/{item.code}"),
        ]
        opens_cart_with(f"http://testserver/p/{item.code}", item)
    texts = page_texts(pdf)
    for text, path in zip(texts, [f"s/{showcase.code}", *(f"p/{item.code}" for item in items)], strict=True):
        assert f"testserver/{path}" in text and "Hardware Hall" in text  # the short address, to type
        assert all(SCAN[language] in flat(text) for language in ["fr", "ko", "es"])
    assert "Power tools" in texts[0] and "Cordless drill" in texts[1] and "무선 드릴 세트" in texts[2]
    # The longest name fits a sheet in smaller letters; a label cuts it.
    assert ("…" in texts[3]) is (size == "label") and (LONG_NAME.strip() in flat(texts[3])) is (size != "label")
    assert all(page.overflowing(margin=4) == [] for page in page_words(pdf))


@pytest.mark.parametrize("size", ["a4", "label"])
def test_a_store_without_a_logo_prints_its_name(showcase, store, size):
    store.logo_url = ""
    store.save()
    pdf = pdf_of(signed_in(make_user(store)), f"/s/{showcase.code}/sign.pdf?size={size}")
    assert "Hardware Hall" in page_texts(pdf)[0] and qr_urls(pdf) == [f"http://testserver/s/{showcase.code}"]


def test_the_showcase_sign_alone(staff_client, showcase):
    pdf = pdf_of(staff_client, f"/s/{showcase.code}/sign.pdf?size=letter")
    assert qr_urls(pdf) == [f"http://testserver/s/{showcase.code}"]


def test_a_product_sign_alone(staff_client, showcase):
    item = showcase.items.select_related("product", "showcase").first()
    [codes] = codes_on_pages(pdf_of(staff_client, f"/p/{item.code}/sign.pdf?size=label&lang=ko"))
    assert set(codes) == {Code("QRCode", f"http://testserver/p/{item.code}"), Code("Code128", item.product.sku)}
    opens_cart_with(f"http://testserver/p/{item.code}", item)


class TestLanguages:
    @pytest.mark.parametrize("language", ["fr", "ko", "es"])
    def test_one_language(self, staff_client, showcase, language):
        text = flat(page_texts(pdf_of(staff_client, f"/s/{showcase.code}/sign.pdf?lang={language}"))[0])
        assert SHOWCASE_HEADING[language] in text and SCAN[language] in text
        assert all(SCAN[other] not in text for other in SCAN if other != language)

    def test_without_a_choice_every_language_with_the_stores_first(self, showcase, associate):
        Store.objects.filter(pk=showcase.store_id).update(language="ko")
        client = signed_in(associate)
        client.cookies["django_language"] = "es"  # the reader's own does not matter: the shoppers' store does
        text = flat(page_texts(pdf_of(client, f"/s/{showcase.code}/sign.pdf"))[0])
        assert all(SCAN[language] in text for language in SCAN)
        assert text.index(SHOWCASE_HEADING["ko"]) < text.index(SHOWCASE_HEADING["en"])

    def test_an_unknown_language_is_refused_by_name(self, staff_client, showcase):
        response = staff_client.get(f"/s/{showcase.code}/sign.pdf?lang=fr&lang=xx")
        assert response.status_code == 400
        assert response.content.decode().startswith("lang: Unknown language 'xx': use one of en, fr, ko, es")


class TestBadInput:
    @pytest.mark.parametrize("size", ["A3", "", "../a4"])
    def test_an_unknown_size_is_refused_by_name(self, staff_client, showcase, store, size):
        for url in [f"/s/{showcase.code}/sign.pdf", f"/stores/{store.pk}/signs.pdf"]:
            response = staff_client.get(f"{url}?size={size}")
            assert response.status_code == 400
            assert response.content.decode() == f"size: Unknown page size {size!r}: use one of a4, letter, label."

    def test_a_missing_font_package_is_named(self, staff_client, showcase, monkeypatch, tmp_path):
        monkeypatch.setattr(fonts, "FONT_ROOT", tmp_path)
        response = staff_client.get(f"/s/{showcase.code}/sign.pdf")
        assert response.status_code == 503
        assert "apt-get install fonts-dejavu-core" in response.content.decode()

    def test_unknown_codes_and_stores(self, staff_client):
        for url in ["/s/NOPE2345/sign.pdf", "/p/NOPE2345/sign.pdf", "/stores/999999/signs.pdf"]:
            assert staff_client.get(url).status_code == 404

    def test_a_showcase_with_no_products_prints_its_own_sign(self, store, associate):
        empty = showcase_named("Empty case", store, [])
        pdf = pdf_of(signed_in(associate), f"/stores/{store.pk}/signs.pdf")
        assert qr_urls(pdf) == [f"http://testserver/s/{empty.code}"]

    def test_a_store_with_no_showcase_switched_on_says_so(self, store, associate):
        make_showcase(store, active=False)
        response = signed_in(associate).get(f"/stores/{store.pk}/signs.pdf")
        assert response.status_code == 404
        assert "has no showcase switched on" in response.content.decode()


class TestWholeStore:
    def test_every_showcase_then_its_products_each_on_its_page(self, staff_client, store, showcase):
        second = showcase_named("Saws", store, [make_product(store, name="Jigsaw")])
        showcase_named("Switched off", store, active=False)
        off = showcase.items.get(product__sku="LONG-1")
        off.active = False
        off.save()
        pdf = pdf_of(staff_client, f"/stores/{store.pk}/signs.pdf?size=label&lang=es")
        urls = qr_urls(pdf)
        items = list(showcase.items.filter(active=True).select_related("product", "showcase"))
        assert urls == [
            f"http://testserver/s/{showcase.code}",
            *(f"http://testserver/p/{item.code}" for item in items),
            f"http://testserver/s/{second.code}",
            f"http://testserver/p/{second.items.get().code}",
        ]
        opens_showcase(urls[0], showcase)
        opens_cart_with(urls[1], items[0])
        assert all(SCAN["es"] in flat(text) for text in page_texts(pdf))

    def test_statements_do_not_grow_with_showcases_and_products(self, staff_client, store, django_assert_num_queries):
        make_showcase(store, products=[make_product(store)])
        url = f"/stores/{store.pk}/signs.pdf?size=label"
        staff_client.get(url)
        with CaptureQueriesContext(connection) as one:
            staff_client.get(url)
        # The user (the session is a cookie), the store, the user's role there, the showcases, their products.
        assert len(one.captured_queries) <= 5, [query["sql"] for query in one.captured_queries]
        for _ in range(3):
            make_showcase(store, products=[make_product(store), make_product(store)])
        with django_assert_num_queries(len(one.captured_queries)):
            assert staff_client.get(url).status_code == 200


def test_the_sign_uses_the_configured_public_address(staff_client, showcase, settings):
    settings.BASE_URL = "https://shop.example.com"
    [url] = qr_urls(pdf_of(staff_client, f"/s/{showcase.code}/sign.pdf?size=label"))
    assert url == f"https://shop.example.com/s/{showcase.code}"


def test_a_korean_store_name_and_product_print_on_a_french_sign(associate, store):
    store.name = "하드웨어 홀"
    store.save()
    showcase = make_showcase(store, products=[make_product(store, name="무선 드릴 세트")])
    pdf = pdf_of(signed_in(associate), f"/p/{showcase.items.get().code}/sign.pdf?lang=fr")
    text = page_texts(pdf)[0]
    assert "하드웨어 홀" in text and "무선 드릴 세트" in text and SCAN["fr"] in flat(text)


def test_other_stores_signs_are_not_in_the_whole_store_pdf(staff_client, store, showcase):
    elsewhere = make_showcase(make_store(organization=store.organization))
    urls = qr_urls(pdf_of(staff_client, f"/stores/{store.pk}/signs.pdf?size=label"))
    assert f"http://testserver/s/{elsewhere.code}" not in urls and len(urls) == 1 + showcase.items.count()

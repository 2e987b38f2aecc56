"""The printing module on its own: page sizes, languages, fonts, codes, text that fits, local images."""

import pytest
from django.test import override_settings
from django.utils.translation import gettext as _

from shelfcall.printing import fonts
from shelfcall.printing import text as fitting
from shelfcall.printing.codes import draw_code128, draw_qr
from shelfcall.printing.document import draw_image, finish, new_document
from shelfcall.printing.images import MAX_IMAGE_BYTES, local_image
from shelfcall.printing.pages import A4, LABEL, UnknownPageSize, get_page_size
from shelfcall.printing.text import (
    ELLIPSIS,
    MM_PER_PT,
    Paragraph,
    UnknownLanguage,
    in_each,
    parse_languages,
    write_block,
)
from tests.support.pdf import codes_on_pages, page_texts, page_words

POINTS_PER_MM = 1 / MM_PER_PT


class TestPageSizes:
    def test_known_sizes(self):
        assert get_page_size("a4") is A4 and (A4.width, A4.height) == (210, 297) and not A4.small
        assert get_page_size("label").small

    def test_an_unknown_size_is_refused_by_name_with_the_choices(self):
        with pytest.raises(UnknownPageSize, match=r"'poster'.*a4, letter, label") as refused:
            get_page_size("poster")
        assert refused.value.field == "size" and refused.value.status == 400


class TestLanguages:
    def test_keeps_order_and_drops_repeats(self):
        assert parse_languages(["ko", "fr", "ko"]) == ["ko", "fr"]

    def test_an_unknown_language_is_refused_by_name(self):
        with pytest.raises(UnknownLanguage, match=r"'de'.*en, fr, ko, es") as refused:
            parse_languages(["fr", "de"])
        assert refused.value.field == "lang"

    def test_in_each_translates_into_each_language(self):
        scan = "Scan the code with your phone's camera."
        assert in_each(["fr", "ko", "es"], lambda: _(scan)) == [
            "Scannez le code avec l'appareil photo de votre téléphone.",
            "휴대폰 카메라로 코드를 스캔하세요.",
            "Escanea el código con la cámara de tu móvil.",
        ]


class TestFonts:
    def test_a_missing_font_names_the_package_to_install(self, monkeypatch, tmp_path):
        monkeypatch.setattr(fonts, "FONT_ROOT", tmp_path)
        with pytest.raises(fonts.FontMissing, match="apt-get install fonts-dejavu-core"):
            new_document(A4, title="t")

    def test_latin_and_hangul_in_one_line_both_print(self):
        pdf = new_document(LABEL, title="t")
        pdf.add_page()
        write_block(pdf, [Paragraph("Perceuse é ñ 무선 드릴")], x=5, y=5, width=90, height=20, largest=12, smallest=6)
        assert "Perceuse é ñ 무선 드릴" in page_texts(finish(pdf))[0]


class TestCodes:
    def test_a_qr_code_and_a_code_128_read_back(self):
        pdf = new_document(LABEL, title="t")
        pdf.add_page()
        draw_qr(pdf, "https://shop.example.com/s/K7M2P9QX", x=2, y=2, size=40)
        draw_code128(pdf, "SKU-12345", x=45, y=10, width=50, height=12)
        assert {(code.kind, code.text) for code in codes_on_pages(finish(pdf))[0]} == {
            ("QRCode", "https://shop.example.com/s/K7M2P9QX"),
            ("Code128", "SKU-12345"),
        }


class TestWriteBlock:
    def box(self, text: str, *, width: float = 40, height: float = 12):
        pdf = new_document(A4, title="t")
        pdf.add_page()
        used = write_block(pdf, [Paragraph(text)], x=20, y=30, width=width, height=height, largest=14, smallest=8)
        return used, page_words(finish(pdf))[0].words

    def test_short_text_keeps_the_largest_size_and_one_line(self):
        used, words = self.box("Aisle 12")
        assert [word.text for word in words] == ["Aisle", "12"]
        assert used == pytest.approx(14 * MM_PER_PT * 1.25 * 1.4)  # one line and its space after

    def test_too_long_text_shrinks_then_is_cut_with_an_ellipsis_inside_the_box(self):
        used, words = self.box("Cordless drill with two batteries and a charger " * 10)
        assert used <= 12
        assert words[-1].text.endswith(ELLIPSIS)
        assert all(word.within(*(mm * POINTS_PER_MM for mm in (20, 30, 60, 42))) for word in words)

    def test_the_size_chosen_is_the_largest_that_fits(self):
        pdf = new_document(A4, title="t")
        pdf.add_page()
        paragraphs = (Paragraph("Cordless drill with two batteries and a charger " * 3),)
        size, layout = fitting._largest_fitting(pdf, paragraphs, 60, 20, largest=20, smallest=6)
        assert 6 < size < 20
        assert fitting._height(layout, paragraphs) <= 20
        assert fitting._height(fitting._layout(pdf, paragraphs, 60, size + 0.5), paragraphs) > 20

    def test_a_word_wider_than_the_box_is_broken(self):
        _used, words = self.box("X" * 300, height=30)
        assert len(words) > 1 and all(word.within(*(mm * POINTS_PER_MM for mm in (20, 30, 60, 60))) for word in words)


class TestLocalImages:
    def test_a_static_file_is_read(self, settings):
        assert local_image(f"{settings.STATIC_URL}demo/logo.svg").startswith(b"<svg")

    @pytest.mark.parametrize(
        "url",
        [
            "",
            "https://cdn.example.com/logo.png",
            "//cdn.example.com/logo.png",
            "/static/demo/none.svg",
            "/static/../../../../etc/passwd",
            "/etc/passwd",
        ],
    )
    def test_anything_else_is_left_out_and_never_fetched(self, url):
        assert local_image(url) is None

    def test_media_files_within_the_media_folder_only(self, tmp_path):
        (tmp_path / "media").mkdir()
        (tmp_path / "media" / "logo.png").write_bytes(b"png")
        (tmp_path / "secret.txt").write_bytes(b"secret")
        with override_settings(MEDIA_URL="/media/", MEDIA_ROOT=str(tmp_path / "media")):
            assert local_image("/media/logo.png") == b"png"
            assert local_image("/media/../secret.txt") is None

    def test_a_file_over_the_limit_is_left_out(self, tmp_path):
        (tmp_path / "big.png").write_bytes(b"0" * (MAX_IMAGE_BYTES + 1))
        with override_settings(MEDIA_URL="/media/", MEDIA_ROOT=str(tmp_path)):
            assert local_image("/media/big.png") is None

    @pytest.mark.parametrize(
        "data", [b"not an image", b"<svg xmlns='http://www.w3.org/2000/svg'><broken", b"\x89PNG\r\n"]
    )
    def test_bytes_that_are_no_image_draw_nothing(self, data):
        pdf = new_document(A4, title="t")
        pdf.add_page()
        assert draw_image(pdf, data, x=0, y=0, width=20, height=20) is False
        assert finish(pdf).startswith(b"%PDF")

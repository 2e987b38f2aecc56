"""Printed QR signs: one for a showcase (its shopper page) and one for each product on it (straight
into the cart), on a sheet (A4, Letter) or a shelf label, in the store's colours and languages."""

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from django.db.models import Prefetch
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from fpdf import FPDF

from shelfcall.catalog.models import Showcase, ShowcaseItem
from shelfcall.printing.codes import draw_code128, draw_qr
from shelfcall.printing.document import draw_image, finish, new_document, rgb
from shelfcall.printing.fonts import MONO
from shelfcall.printing.images import local_image
from shelfcall.printing.pages import PageSize
from shelfcall.printing.text import Paragraph, in_each, write_block
from shelfcall.stores.models import Store


class SignKind(StrEnum):
    SHOWCASE = "showcase"
    PRODUCT = "product"


@dataclass(frozen=True)
class Sign:
    kind: SignKind
    url: str  # what the QR code opens
    title: str  # the showcase's or the product's name
    detail: str = ""  # where it stands; the product's size and colour
    barcode: str = ""  # the product's SKU, for associates' scanners

    @property
    def short_url(self) -> str:
        """The address without its scheme, to type into a phone whose camera cannot read the code."""
        parts = urlsplit(self.url)
        return f"{parts.netloc}{parts.path}"


def showcase_sign(showcase: Showcase, root: str) -> Sign:
    """`root`: the site's address, e.g. https://shop.example.com."""
    url = root + reverse("shopper:showcase", args=[showcase.code])
    return Sign(SignKind.SHOWCASE, url, showcase.name, showcase.location_hint)


def product_sign(item: ShowcaseItem, root: str) -> Sign:
    product = item.product
    detail = " · ".join(part for part in (product.variant, product.location_hint) if part)
    return Sign(
        SignKind.PRODUCT, root + reverse("shopper:product", args=[item.code]), product.name, detail, product.sku
    )


def _offered(items: Sequence[ShowcaseItem]) -> list[ShowcaseItem]:
    return [item for item in items if item.active and item.product.active]


def store_signs(store: Store, root: str) -> list[Sign]:
    """Every sign of the store's showcases (switched-off ones left out), by name: two statements."""
    items = Prefetch("items", queryset=ShowcaseItem.objects.select_related("product"), to_attr="all_items")
    showcases = store.showcases.filter(active=True).order_by("name", "pk").prefetch_related(items)
    return [
        sign
        for showcase in showcases
        for sign in [
            showcase_sign(showcase, root),
            *(product_sign(item, root) for item in _offered(showcase.all_items)),
        ]
    ]


# --- What a sign says, in each of its languages --------------------------------------------------

HEADINGS = {
    SignKind.SHOWCASE: gettext_lazy("Need something from this case?"),
    SignKind.PRODUCT: gettext_lazy("Want this one? Ask for it here."),
}
SCAN = gettext_lazy("Scan the code with your phone's camera.")
STEPS = {
    SignKind.SHOWCASE: (SCAN, gettext_lazy("Choose your products and send the request.")),
    SignKind.PRODUCT: (SCAN, gettext_lazy("Check the quantity and send the request.")),
}
WAIT = gettext_lazy("Keep shopping: we'll tell you when it's ready and where.")


@dataclass(frozen=True)
class Wording:
    language: str
    heading: str
    steps: list[str]
    type_instead: str


def _wordings(kind: SignKind, languages: Sequence[str]) -> list[Wording]:
    def words() -> list[str]:
        return [str(HEADINGS[kind]), *(str(step) for step in (*STEPS[kind], WAIT)), _("No camera? Type:")]

    return [
        Wording(language, heading, steps, type_instead)
        for language, (heading, *steps, type_instead) in zip(languages, in_each(languages, words), strict=True)
    ]


# --- Layout -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Brand:
    store: Store
    logo: bytes | None

    def band(self, pdf: FPDF, *, width: float, height: float, name_size: float) -> None:
        """The store's colour across the top, its logo and its name on it."""
        pdf.set_fill_color(*rgb(self.store.brand_colour))
        pdf.rect(0, 0, width, height, style="F")
        pad = height * 0.15
        side = height - 2 * pad
        x = pad
        if self.logo is not None and draw_image(pdf, self.logo, x=x, y=pad, width=side, height=side):
            x += side + pad
        pdf.set_text_color(*rgb(self.store.brand_text_colour))
        write_block(
            pdf,
            [Paragraph(self.store.name, bold=True, space_after=0)],
            x=x,
            y=pad,
            width=width - x - pad,
            height=side,
            largest=name_size,
            smallest=name_size / 2,
        )
        pdf.set_text_color(0, 0, 0)


def _steps(wording: Wording, *, with_heading: bool) -> list[Paragraph]:
    heading = [Paragraph(wording.heading, bold=True, space_after=0.2)] if with_heading else []
    numbered = [Paragraph(f"{n}. {step}", space_after=0.2) for n, step in enumerate(wording.steps, 1)]
    return [*heading, *numbered]


def _sheet(pdf: FPDF, brand: _Brand, sign: Sign, wordings: list[Wording], size: PageSize) -> None:
    """Every block at a fixed place whatever its text, so a store's signs look alike and the same
    instructions are laid out once for all of them."""
    width, height, margin = size.width, size.height, 15.0
    inner, footer = width - 2 * margin, 24.0 if sign.barcode else 12.0
    brand.band(pdf, width=width, height=36, name_size=24)
    first = wordings[0]
    heading = [Paragraph(first.heading, bold=True)]
    write_block(pdf, heading, x=margin, y=44, width=inner, height=24, largest=30, smallest=18, align="C")
    title = [Paragraph(sign.title, bold=True, space_after=0)]
    write_block(pdf, title, x=margin, y=68, width=inner, height=16, largest=20, smallest=10, align="C")
    if sign.detail:
        detail = [Paragraph(sign.detail, space_after=0)]
        write_block(pdf, detail, x=margin, y=84, width=inner, height=6, largest=11, smallest=7, align="C")
    qr = min(inner / 2, height - 92 - footer - 86)
    draw_qr(pdf, sign.url, x=(width - qr) / 2, y=92, size=qr)
    typed = [Paragraph(first.type_instead, scale=0.7, space_after=0.1), Paragraph(sign.short_url, family=MONO)]
    write_block(pdf, typed, x=margin, y=93 + qr, width=inner, height=16, largest=16, smallest=8, align="C")
    top = 111 + qr
    _languages(pdf, wordings, x=margin, y=top, width=inner, height=height - footer - 2 - top)
    if sign.barcode:
        bar_width = min(inner / 2, 80)
        draw_code128(pdf, sign.barcode, x=(width - bar_width) / 2, y=height - footer, width=bar_width, height=12)
        sku = [Paragraph(sign.barcode, family=MONO)]
        write_block(pdf, sku, x=margin, y=height - 11.5, width=inner, height=6, largest=9, smallest=6, align="C")
    else:
        pdf.set_fill_color(*rgb(brand.store.brand_colour))
        pdf.rect(0, height - 6, width, 6, style="F")


def _languages(pdf: FPDF, wordings: list[Wording], *, x: float, y: float, width: float, height: float) -> None:
    """The steps in each language, side by side in two columns when there are several."""
    columns = 1 if len(wordings) == 1 else 2
    rows = -(-len(wordings) // columns)
    gap = 6.0
    cell_width, cell_height = (width - gap * (columns - 1)) / columns, height / rows
    for index, wording in enumerate(wordings):
        row, column = divmod(index, columns)
        write_block(
            pdf,
            _steps(wording, with_heading=index > 0),
            x=x + column * (cell_width + gap),
            y=y + row * cell_height,
            width=cell_width,
            height=cell_height - 2,
            largest=13,
            smallest=7,
        )


def _label(pdf: FPDF, brand: _Brand, sign: Sign, wordings: list[Wording], size: PageSize) -> None:
    width, height, pad = size.width, size.height, 2.5
    band = 10.0
    brand.band(pdf, width=width, height=band, name_size=11)
    qr = height - band - 2 * pad
    draw_qr(pdf, sign.url, x=pad, y=band + pad, size=qr)
    x = pad + qr + pad
    column = width - x - pad
    bottom = height - pad - (10 if sign.barcode else 0)
    top = band + pad
    write_block(pdf, [Paragraph(sign.title, bold=True)], x=x, y=top, width=column, height=11, largest=10, smallest=6)
    if sign.detail:
        write_block(pdf, [Paragraph(sign.detail)], x=x, y=top + 11, width=column, height=4, largest=7, smallest=5)
    top += 15
    url = [Paragraph(sign.short_url, family=MONO, space_after=0)]
    bottom -= write_block(pdf, url, x=x, y=bottom - 4, width=column, height=4, largest=8, smallest=5)
    steps = [Paragraph(wording.steps[0], space_after=0.3) for wording in wordings]
    write_block(pdf, steps, x=x, y=top, width=column, height=bottom - top - 0.5, largest=8, smallest=5)
    if sign.barcode:
        draw_code128(pdf, sign.barcode, x=x, y=height - pad - 9, width=column, height=9)


def render_signs(store: Store, signs: Sequence[Sign], size: PageSize, languages: Sequence[str], *, title: str) -> bytes:
    """One page per sign; the instructions in each of `languages`, the first one largest."""
    pdf = new_document(size, title=title)
    brand = _Brand(store, local_image(store.logo_url))
    layout = _label if size.small else _sheet
    wordings = {kind: _wordings(kind, languages) for kind in SignKind}
    for sign in signs:
        pdf.add_page()
        layout(pdf, brand, sign, wordings[sign.kind], size)
    return finish(pdf)

"""A new PDF document of a page size, with the fonts, a fixed clock and no access to any file or URL
beyond what the caller hands it; and the few drawing helpers every document shares."""

import io
import logging

from fpdf import FPDF
from fpdf.enums import ResourceAccessPolicy

from shelfcall.core import clock
from shelfcall.printing import fonts
from shelfcall.printing.pages import PageSize

log = logging.getLogger(__name__)

# What fpdf2 says of an image it cannot read: Pillow's errors are OSErrors, an SVG's XML errors are
# SyntaxErrors, and fpdf2's own complaints (an SVG without a size, say) are ValueErrors.
UNREADABLE_IMAGE = (OSError, SyntaxError, ValueError)


def new_document(size: PageSize, *, title: str) -> FPDF:
    pdf = FPDF(unit="mm", format=(size.width, size.height))
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.c_margin = 0  # text starts at its box's edge: the boxes are the layout
    # Images come as bytes we read ourselves: an SVG naming a URL or a file must not make fpdf2 fetch it.
    pdf.resource_access_policy = ResourceAccessPolicy(0)
    pdf.set_creation_date(clock.now())
    pdf.set_creator("Shelfcall")
    pdf.set_title(title)
    fonts.register(pdf)
    return pdf


def finish(pdf: FPDF) -> bytes:
    return bytes(pdf.output())


def rgb(colour: str) -> tuple[int, int, int]:
    """(red, green, blue) of a colour written like #1F4E79."""
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def draw_image(pdf: FPDF, data: bytes, *, x: float, y: float, width: float, height: float) -> bool:
    """The image (PNG, JPEG, GIF, WebP or SVG) fitted into the box, keeping its proportions; False, and
    nothing drawn, for bytes that are no image fpdf2 can read."""
    try:
        pdf.image(io.BytesIO(data), x=x, y=y, w=width, h=height, keep_aspect_ratio=True)
    except UNREADABLE_IMAGE as error:
        log.warning("image left out of %s: %s", pdf.title, error)
        return False
    return True

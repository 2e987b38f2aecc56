"""QR codes (segno) and Code 128 barcodes (python-barcode) drawn as vector rectangles: sharp at any
printer resolution, and no image to embed."""

import segno
from fpdf import FPDF

from shelfcall.shopper.codes import code128_bars, dark_runs

QR_QUIET_ZONE = 4  # modules of white around a QR code, as ISO/IEC 18004 asks
BARCODE_QUIET_ZONE = 10  # modules of white either side of a Code 128


def _white(pdf: FPDF, x: float, y: float, width: float, height: float) -> None:
    pdf.set_fill_color(255, 255, 255)
    pdf.rect(x, y, width, height, style="F")
    pdf.set_fill_color(0, 0, 0)


def draw_qr(pdf: FPDF, data: str, *, x: float, y: float, size: float) -> None:
    """A square QR code of `size` mm, quiet zone included, its top left corner at (x, y)."""
    rows = list(segno.make(data, error="m").matrix_iter(border=QR_QUIET_ZONE))
    module = size / len(rows)
    _white(pdf, x, y, size, size)
    for r, row in enumerate(rows):
        for start, length in dark_runs(row):
            pdf.rect(x + start * module, y + r * module, length * module, module, style="F")


def draw_code128(pdf: FPDF, value: str, *, x: float, y: float, width: float, height: float) -> None:
    """A Code 128 of `value` filling `width` by `height` mm, quiet zones included (print its text yourself)."""
    quiet = [0] * BARCODE_QUIET_ZONE
    bars = [*quiet, *code128_bars(value), *quiet]
    module = width / len(bars)
    _white(pdf, x, y, width, height)
    for start, length in dark_runs(bars):
        pdf.rect(x + start * module, y, length * module, height, style="F")

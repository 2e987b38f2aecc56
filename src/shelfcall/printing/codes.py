"""QR codes (segno) and Code 128 barcodes (python-barcode) drawn as vector rectangles: sharp at any
printer resolution, and no image to embed."""

from collections.abc import Iterable

import segno
from barcode import Code128
from fpdf import FPDF

QR_QUIET_ZONE = 4  # modules of white around a QR code, as ISO/IEC 18004 asks
BARCODE_QUIET_ZONE = 10  # modules of white either side of a Code 128


def _runs(row: Iterable[int]) -> list[tuple[int, int]]:
    """(start, length) of each run of dark modules (truthy) in a row."""
    runs: list[tuple[int, int]] = []
    start: int | None = None
    for index, dark in enumerate([*row, 0]):
        if dark and start is None:
            start = index
        elif not dark and start is not None:
            runs.append((start, index - start))
            start = None
    return runs


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
        for start, length in _runs(row):
            pdf.rect(x + start * module, y + r * module, length * module, module, style="F")


def draw_code128(pdf: FPDF, value: str, *, x: float, y: float, width: float, height: float) -> None:
    """A Code 128 of `value` filling `width` by `height` mm, quiet zones included (print its text yourself)."""
    quiet = [0] * BARCODE_QUIET_ZONE
    bars = [*quiet, *(int(bar) for bar in Code128(value).build()[0]), *quiet]
    module = width / len(bars)
    _white(pdf, x, y, width, height)
    for start, length in _runs(bars):
        pdf.rect(x + start * module, y, length * module, height, style="F")

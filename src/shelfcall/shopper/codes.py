"""The pictures shoppers and tills read: the order's Code 128 barcode and the showcase QR sign."""

from collections.abc import Iterable
from functools import lru_cache

import segno
from barcode import Code128

# Module widths, in the picture's own units: quiet zones of 10 modules, bars 36 modules high, and a
# margin of two above and below. The page stretches it to its box (preserveAspectRatio="none").
_MODULE = 0.5
_QUIET = 10 * _MODULE
_BAR_HEIGHT = 18
_MARGIN = 1


def dark_runs(row: Iterable[int]) -> list[tuple[int, int]]:
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


def code128_bars(value: str) -> list[int]:
    """The modules of `value`'s Code 128, dark (1) or light (0), without quiet zones."""
    return [int(bar) for bar in Code128(value).build()[0]]


# An order's barcode never changes: its status page, every live re-render of that page and its bag label
# draw it once per process (about 1 KB each). Drawn as one path, not python-barcode's SVG writer, whose
# DOM of a rectangle a bar took milliseconds an order.
@lru_cache(maxsize=2048)
def barcode_svg(value: str) -> str:
    """An inline, scalable, black-on-white Code 128 without its own caption (the page prints the number)."""
    bars = code128_bars(value)
    width = 2 * _QUIET + len(bars) * _MODULE
    path = "".join(
        f"M{_QUIET + start * _MODULE:g} {_MARGIN}h{length * _MODULE:g}v{_BAR_HEIGHT}h-{length * _MODULE:g}z"
        for start, length in dark_runs(bars)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:g} {_BAR_HEIGHT + 2 * _MARGIN}" '
        'preserveAspectRatio="none" role="img" aria-hidden="true">'
        f'<rect width="100%" height="100%" fill="#fff"/><path fill="#000" d="{path}"/></svg>'
    )


def qr_svg(url: str, *, scale: int = 8) -> str:
    return segno.make(url, error="m").svg_inline(scale=scale, dark="#000000", light="#ffffff", omitsize=True)

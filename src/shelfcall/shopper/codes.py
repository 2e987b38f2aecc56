"""The pictures shoppers and tills read: the order's Code 128 barcode and the showcase QR sign."""

import io
import re
from functools import lru_cache

import segno
from barcode import Code128
from barcode.writer import SVGWriter


# Drawing one takes milliseconds, and an order's barcode never changes: its status page, every
# live re-render of that page and its bag label draw it once per process (about 2.5 KB each).
@lru_cache(maxsize=2048)
def barcode_svg(value: str) -> str:
    """An inline, scalable, black-on-white Code 128 without its own caption (the page prints the number)."""
    buffer = io.BytesIO()
    Code128(value, writer=SVGWriter()).write(
        buffer,
        options={
            "module_width": 0.5,
            "module_height": 18,
            "quiet_zone": 5,
            "write_text": False,
            "background": "white",
        },
    )
    svg = buffer.getvalue().decode()
    svg = svg[svg.index("<svg") :]
    size = re.search(r'width="([\d.]+)mm" height="([\d.]+)mm"', svg)
    assert size is not None, "python-barcode's SVG always states its size"
    width, height = (float(v) for v in size.groups())
    return re.sub(
        r'width="[\d.]+mm" height="[\d.]+mm"',
        f'viewBox="0 0 {width:g} {height:g}" preserveAspectRatio="none" role="img" aria-hidden="true"',
        svg,
        count=1,
    ).replace("mm", "")


def qr_svg(url: str, *, scale: int = 8) -> str:
    return segno.make(url, error="m").svg_inline(scale=scale, dark="#000000", light="#ffffff", omitsize=True)

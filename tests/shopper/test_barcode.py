"""The order's barcode on the status page and the bag label: an inline SVG of its Code 128, one path of bars."""

import re

from barcode import Code128

from shelfcall.shopper.codes import barcode_svg, dark_runs


def modules_of(svg: str) -> str:
    """The dark (1) and light (0) modules the path draws, quiet zones left out."""
    bars = [(float(x), float(width)) for x, width in re.findall(r"M([\d.]+) 1h([\d.]+)v18h-[\d.]+z", svg)]
    cells = ["0"] * 400
    for x, width in bars:
        for module in range(int((x - 5) / 0.5), int((x - 5 + width) / 0.5)):
            cells[module] = "1"
    return "".join(cells).rstrip("0")


def test_the_bars_are_the_code_128_of_the_value():
    for value in ("SC1001", "SC98765432", "AB-12"):
        svg = barcode_svg(value)
        pattern = Code128(value).build()[0]
        assert modules_of(svg) == pattern.rstrip("0"), value
        assert f'viewBox="0 0 {len(pattern) * 0.5 + 10:g} 20"' in svg


def test_it_is_one_scalable_picture_for_the_eye_only():
    svg = barcode_svg("SC1001")
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" viewBox=') and svg.endswith("</svg>")
    assert 'preserveAspectRatio="none"' in svg and 'aria-hidden="true"' in svg  # the page prints the number
    assert "style=" not in svg, "presentation attributes: a Content-Security-Policy without inline styles allows them"
    assert svg.count("<path") == 1 and len(svg) < 1500


def test_dark_runs():
    assert dark_runs([1, 1, 0, 1, 0, 0, 1]) == [(0, 2), (3, 1), (6, 1)]
    assert dark_runs([0, 0]) == []

"""Text in a given language, and text that fits its box: wrapped, made smaller down to a floor, and cut
with an ellipsis past that, so nothing ever runs off a page."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar
from weakref import WeakKeyDictionary

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from fpdf import FPDF

from shelfcall.core.errors import ShelfcallError
from shelfcall.printing.fonts import SANS

T = TypeVar("T")
MM_PER_PT = 25.4 / 72
LEADING = 1.25  # line height as a multiple of the font size
ELLIPSIS = "…"


class UnknownLanguage(ShelfcallError):
    code = "unknown_language"
    status = 400


def parse_languages(codes: Sequence[str], *, field: str = "lang") -> list[str]:
    """The site's languages among `codes`, in their order and once each; an unknown one is refused by name."""
    known = [code for code, _name in settings.LANGUAGES]
    if unknown := [code for code in codes if code not in known]:
        raise UnknownLanguage(
            _("Unknown language %(lang)r: use one of %(langs)s.") % {"lang": unknown[0], "langs": ", ".join(known)},
            field=field,
        )
    return list(dict.fromkeys(codes))


def in_each(languages: Sequence[str], make: Callable[[], T]) -> list[T]:
    """`make()` once in each language, its gettext calls translated into that language."""
    made = []
    for language in languages:
        with translation.override(language):
            made.append(make())
    return made


@dataclass(frozen=True)
class Paragraph:
    text: str
    bold: bool = False
    family: str = SANS
    scale: float = 1.0  # of the block's font size
    space_after: float = 0.4  # in lines


def ellipsize(pdf: FPDF, text: str, width: float) -> str:
    """`text`, cut and ended with an ellipsis if it is wider than `width` in the current font."""
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text.rstrip() + ELLIPSIS) > width:
        text = text[:-1]
    return text.rstrip() + ELLIPSIS


def _use(pdf: FPDF, paragraph: Paragraph, size: float) -> float:
    """Set the paragraph's font at `size` points; its line height in mm."""
    pdf.set_font(paragraph.family, "B" if paragraph.bold else "", size * paragraph.scale)
    return size * paragraph.scale * MM_PER_PT * LEADING


def _lines(pdf: FPDF, text: str, width: float) -> list[str]:
    lines = pdf.multi_cell(width, text=text, dry_run=True, output="LINES")
    assert isinstance(lines, list)
    return lines


Layout = list[tuple[float, list[str]]]  # each paragraph's line height and lines


def _layout(pdf: FPDF, paragraphs: Sequence[Paragraph], width: float, size: float) -> Layout:
    return [(_use(pdf, p, size), _lines(pdf, p.text, width)) for p in paragraphs]


def _height(layout: Layout, paragraphs: Sequence[Paragraph]) -> float:
    return sum(h * (len(lines) + p.space_after) for (h, lines), p in zip(layout, paragraphs, strict=True))


def _largest_fitting(
    pdf: FPDF, paragraphs: tuple[Paragraph, ...], width: float, height: float, largest: float, smallest: float
) -> tuple[float, Layout]:
    """The largest size, in half points from `smallest` to `largest`, at which the paragraphs fit (else
    `smallest`), found by halving once `largest` is too large; and their layout at that size."""
    layout = _layout(pdf, paragraphs, width, largest)
    if _height(layout, paragraphs) <= height:
        return largest, layout
    low, high = 0, round((largest - smallest) * 2) - 1  # half points above `smallest`
    best = _layout(pdf, paragraphs, width, smallest)
    while low < high:
        middle = (low + high + 1) // 2
        layout = _layout(pdf, paragraphs, width, smallest + middle / 2)
        if _height(layout, paragraphs) <= height:
            low, best = middle, layout
        else:
            high = middle - 1
    return smallest + low / 2, best


# The fitted size and lines of each block a document has laid out: a store's signs repeat the same
# instructions on every page, and laying out text is most of the time a sign takes.
_fitted: "WeakKeyDictionary[FPDF, dict[tuple[object, ...], tuple[float, Layout]]]" = WeakKeyDictionary()


def _fit(
    pdf: FPDF, paragraphs: tuple[Paragraph, ...], width: float, height: float, largest: float, smallest: float
) -> tuple[float, Layout]:
    memo = _fitted.setdefault(pdf, {})
    key = (paragraphs, width, height, largest, smallest)
    if key not in memo:
        memo[key] = _largest_fitting(pdf, paragraphs, width, height, largest, smallest)
    return memo[key]


def write_block(
    pdf: FPDF,
    paragraphs: Sequence[Paragraph],
    *,
    x: float,
    y: float,
    width: float,
    height: float,
    largest: float,
    smallest: float,
    align: str = "L",
) -> float:
    """Write the paragraphs into the box at the largest size (in points, by half points) at which they
    fit; at `smallest`, the lines past the bottom are left out and the last one shown ends in an
    ellipsis. Returns the height used."""
    size, layout = _fit(pdf, tuple(paragraphs), width, height, largest, smallest)
    placed: list[tuple[Paragraph, float, float, str]] = []  # paragraph, top, line height, text
    cursor = y
    for paragraph, (line_height, lines) in zip(paragraphs, layout, strict=True):
        for line in lines:
            placed.append((paragraph, cursor, line_height, line))
            cursor += line_height
        cursor += line_height * paragraph.space_after
    shown = [line for line in placed if line[1] + line[2] <= y + height + 0.01]
    for index, (paragraph, top, line_height, line) in enumerate(shown):
        _use(pdf, paragraph, size)
        if len(shown) < len(placed) and index == len(shown) - 1:
            line = ellipsize(pdf, line + ELLIPSIS, width)
        pdf.set_xy(x, top)
        pdf.cell(width, line_height, line, align=align)
    return min(cursor, y + height) - y

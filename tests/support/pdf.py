"""Reading printed PDFs back as a person and a scanner would: each page rendered by poppler's
pdftoppm and every QR code and barcode on it decoded by zxing-cpp; the text of each page, and where
each word sits, from poppler's pdftotext. poppler-utils is Debian's (bin/test installs it)."""

import html
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

RENDER_DPI = 150


def _poppler(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is missing: apt-get install poppler-utils (bin/test does)")
    return path


def page_images(pdf: bytes, dpi: int = RENDER_DPI) -> list[Image.Image]:
    """Each page as a greyscale picture at `dpi`."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "in.pdf"
        source.write_bytes(pdf)
        subprocess.run(
            [_poppler("pdftoppm"), "-r", str(dpi), "-gray", "-png", source, Path(folder) / "page"], check=True
        )
        pages = sorted(Path(folder).glob("page-*.png"), key=lambda path: int(path.stem.rsplit("-", 1)[1]))
        return [Image.open(path).copy() for path in pages]


@dataclass(frozen=True)
class Code:
    kind: str  # "QRCode", "Code128", …
    text: str


def codes_on_pages(pdf: bytes, dpi: int = RENDER_DPI) -> list[list[Code]]:
    """Every QR code and barcode zxing-cpp reads on each page, top to bottom."""
    found = []
    for image in page_images(pdf, dpi):
        codes = sorted(zxingcpp.read_barcodes(image), key=lambda code: code.position.top_left.y)
        found.append([Code(code.format.name, code.text) for code in codes])
    return found


def page_texts(pdf: bytes) -> list[str]:
    """The text of each page, in reading order, its lines joined by newlines."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as source:
        source.write(pdf)
        source.flush()
        text = subprocess.run(
            [_poppler("pdftotext"), "-enc", "UTF-8", source.name, "-"], check=True, capture_output=True, text=True
        ).stdout
    return text.split("\f")[:-1]  # pdftotext ends every page with a form feed


@dataclass(frozen=True)
class Word:
    text: str
    left: float  # points from the page's left edge
    top: float
    right: float
    bottom: float

    def within(self, left: float, top: float, right: float, bottom: float, slack: float = 0.5) -> bool:
        """Whether the word's box lies inside the given box (in points), give or take `slack`."""
        return (
            self.left >= left - slack
            and self.top >= top - slack
            and self.right <= right + slack
            and self.bottom <= bottom + slack
        )


@dataclass(frozen=True)
class Page:
    width: float  # points
    height: float
    words: list[Word]

    def overflowing(self, margin: float = 0) -> list[Word]:
        """The words that reach closer than `margin` points to an edge of the page, or past it."""
        inner = (margin, margin, self.width - margin, self.height - margin)
        return [word for word in self.words if not word.within(*inner, slack=0)]


def page_words(pdf: bytes) -> list[Page]:
    """Every word of each page with its box (pdftotext -bbox), to check that nothing runs off a page."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as source:
        source.write(pdf)
        source.flush()
        markup = subprocess.run(
            [_poppler("pdftotext"), "-bbox", "-enc", "UTF-8", source.name, "-"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    pages = []
    for size, body in re.findall(r"<page ([^>]*)>(.*?)</page>", markup, flags=re.S):
        width, height = (float(re.search(rf'{name}="([\d.]+)"', size).group(1)) for name in ("width", "height"))
        words = [
            Word(html.unescape(text), *(float(value) for value in box))
            for *box, text in re.findall(
                r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>', body
            )
        ]
        pages.append(Page(width, height, words))
    return pages

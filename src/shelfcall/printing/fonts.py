"""The fonts printed documents use, from Debian's packages (bin/demo and bin/test install them), found by path.

DejaVu Sans covers Latin (French, Spanish accents) and the URL's monospace; Nanum Gothic, a TrueType font,
covers Hangul and stands in for any glyph DejaVu lacks, so a Korean product name on a French sign prints too.
"""

import logging
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _
from fpdf import FPDF

from shelfcall.core.errors import ShelfcallError

# Where Debian puts TrueType fonts; a test points it elsewhere to see the error.
FONT_ROOT = Path("/usr/share/fonts/truetype")

# fontTools reports every table it leaves out of a subset (DejaVu's hinting sources) as a warning: noise.
logging.getLogger("fontTools.subset").setLevel(logging.ERROR)


class FontMissing(ShelfcallError):
    """This machine lacks a font package: nothing the person printing can change, hence 503."""

    code = "font_missing"
    status = 503


@dataclass(frozen=True)
class FontFile:
    family: str
    style: str  # "" or "B"
    path: str  # under FONT_ROOT
    package: str  # the Debian package that ships it


SANS, MONO, HANGUL = "DejaVuSans", "DejaVuSansMono", "NanumGothic"
FONTS = (
    FontFile(SANS, "", "dejavu/DejaVuSans.ttf", "fonts-dejavu-core"),
    FontFile(SANS, "B", "dejavu/DejaVuSans-Bold.ttf", "fonts-dejavu-core"),
    FontFile(MONO, "", "dejavu/DejaVuSansMono.ttf", "fonts-dejavu-core"),
    FontFile(HANGUL, "", "nanum/NanumGothic.ttf", "fonts-nanum"),
    FontFile(HANGUL, "B", "nanum/NanumGothicBold.ttf", "fonts-nanum"),
)


def font_path(font: FontFile) -> Path:
    path = FONT_ROOT / font.path
    if not path.is_file():
        raise FontMissing(
            _("The font %(path)s is missing: install it with `apt-get install %(package)s` (bin/demo and bin/test do).")
            % {"path": path, "package": font.package}
        )
    return path


def register(pdf: FPDF) -> None:
    """Make every font available to `pdf`, DejaVu Sans the current one and Nanum Gothic its fallback."""
    for font in FONTS:
        pdf.add_font(font.family, font.style, font_path(font))
    pdf.set_fallback_fonts([HANGUL])
    pdf.set_font(SANS)

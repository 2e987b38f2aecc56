"""Which uploads may become a store's logo: PNG, JPEG or WebP, small, recognised by their own bytes.

The name and content type a browser sends are not believed; SVG is refused (it can carry scripts).
Pillow reads each image's header for its size in pixels (no pixel is decoded), whatever its format.
"""

import io
import struct
import warnings
from dataclasses import dataclass

from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

MAX_LOGO_BYTES = 512 * 1024
MAX_LOGO_PIXELS = 4096  # a side: a small file can still unpack into a huge image


class RefusedLogo(ValueError):
    """Why an upload cannot be a logo, said to the person who sent it."""


@dataclass(frozen=True)
class Logo:
    content: bytes
    content_type: str


# Pillow's name of each accepted format, so that it reads the bytes as that format and no other.
PILLOW_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP"}


def _not_an_image() -> RefusedLogo:
    return RefusedLogo(_("This file is not a PNG, JPEG or WebP image. Export the logo in one of those formats."))


def _too_many_pixels() -> RefusedLogo:
    return RefusedLogo(
        _("The logo is too large: at most %(limit)s pixels a side is allowed.") % {"limit": MAX_LOGO_PIXELS}
    )


def _pixel_size(data: bytes, kind: str) -> tuple[int, int]:
    """Width and height from the image's header, or RefusedLogo: not readable as `kind`, or so many
    pixels that Pillow itself calls it a decompression bomb."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=[PILLOW_FORMATS[kind]]) as image:
                return image.size
        except (Image.DecompressionBombWarning, Image.DecompressionBombError):
            raise _too_many_pixels() from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            raise _not_an_image() from None


def _kind(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data.rstrip(b"\0").endswith(b"IEND\xaeB`\x82"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff") and data.endswith(b"\xff\xd9"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and struct.unpack("<I", data[4:8])[0] + 8 == len(data):
        return "image/webp"
    return None


def check_logo(upload: UploadedFile) -> Logo:
    """The logo's bytes and real type, or RefusedLogo saying what is wrong and what is allowed."""
    if upload.size is None or upload.size > MAX_LOGO_BYTES:
        raise RefusedLogo(
            _("The logo is too large: at most %(limit)s KB is allowed. Save it smaller (e.g. 512 pixels wide).")
            % {"limit": MAX_LOGO_BYTES // 1024}
        )
    data = upload.read(MAX_LOGO_BYTES + 1)
    kind = _kind(data)
    if kind is None:
        raise _not_an_image()
    if max(_pixel_size(data, kind)) > MAX_LOGO_PIXELS:
        raise _too_many_pixels()
    return Logo(data, kind)

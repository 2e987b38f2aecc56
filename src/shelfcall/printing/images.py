"""Images a document may embed: only files of this installation, named by their static or media URL.
A URL of another site is never fetched (a sign must print offline, and a server must not be made to
call out); it is left out, as is a file too large or missing."""

import logging
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.utils._os import safe_join

log = logging.getLogger(__name__)

MAX_IMAGE_BYTES = 2 * 1024 * 1024


def _local_path(url: str) -> Path | None:
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path:
        return None
    path = parts.path
    try:
        if path.startswith(settings.STATIC_URL):
            found = finders.find(path.removeprefix(settings.STATIC_URL))
            return Path(found) if isinstance(found, str) else None
        if settings.MEDIA_URL and settings.MEDIA_ROOT and path.startswith(settings.MEDIA_URL):
            return Path(safe_join(settings.MEDIA_ROOT, path.removeprefix(settings.MEDIA_URL)))
    except SuspiciousFileOperation:
        return None
    return None


def local_image(url: str) -> bytes | None:
    """The bytes of the file that `url` (e.g. a store's logo URL) serves from this installation, or None."""
    if not url:
        return None
    path = _local_path(url)
    if path is None or not path.is_file():
        log.info("image %r is not a file of this installation: left out", url)
        return None
    if path.stat().st_size > MAX_IMAGE_BYTES:
        log.warning("image %r is over %d bytes: left out", url, MAX_IMAGE_BYTES)
        return None
    return path.read_bytes()

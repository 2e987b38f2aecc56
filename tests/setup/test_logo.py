import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from shelfcall.setup.logo import MAX_LOGO_BYTES
from shelfcall.setup.models import StoreLogo
from tests.factories import make_showcase, signed_in

pytestmark = pytest.mark.django_db


def png(width: int = 2, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\0" + b"\xff\x00\x00" * width for _ in range(min(height, 2))))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def encoded(kind: str, width: int = 2, height: int = 2) -> bytes:
    """A real JPEG or WebP image (Pillow), as a browser would send it."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), "red").save(out, format=kind)
    return out.getvalue()


def claiming_size(jpeg: bytes, width: int, height: int) -> bytes:
    """The same small file, its header claiming `width` by `height` pixels (a decompression bomb)."""
    frame = jpeg.index(b"\xff\xc0") + 5  # start of frame: marker, length, precision, then height, width
    return jpeg[:frame] + struct.pack(">HH", height, width) + jpeg[frame + 4 :]


def upload(client, store, content: bytes, name: str = "logo.png", content_type: str = "image/png"):
    file = SimpleUploadedFile(name, content, content_type=content_type)
    return client.post(f"/setup/stores/{store.pk}/logo", {"logo": file}, follow=True)


def messages_of(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


def test_a_png_becomes_the_logo_served_safely_and_shown_to_shoppers(client, store, store_admin):
    response = upload(signed_in(store_admin), store, png())
    assert "The logo is saved" in messages_of(response)
    store.refresh_from_db()
    assert store.logo_url.startswith(f"/logos/{store.pk}/")
    served = client.get(store.logo_url)
    assert served.status_code == 200 and served.content == png()
    assert served["Content-Type"] == "image/png" and served["X-Content-Type-Options"] == "nosniff"
    assert served["Content-Disposition"].startswith("attachment") and "sandbox" in served["Content-Security-Policy"]
    showcase = make_showcase(store)
    assert f'src="{store.logo_url}"' in client.get(f"/s/{showcase.code}").content.decode()


@pytest.mark.parametrize(
    ("content", "name", "says"),
    [
        (
            b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
            "logo.svg",
            "not a PNG, JPEG or WebP",
        ),
        (b"<html><script>alert(1)</script></html>", "logo.png", "not a PNG, JPEG or WebP"),
        (png()[:-12], "logo.png", "not a PNG, JPEG or WebP"),  # cut short
        (b"\x89PNG\r\n\x1a\n" + b"\0" * (MAX_LOGO_BYTES + 1), "logo.png", "at most 512 KB"),
        (png(width=20000, height=1), "logo.png", "at most 4096 pixels"),
        (encoded("JPEG", width=4097, height=8), "logo.jpg", "at most 4096 pixels"),
        (encoded("WEBP", width=8, height=5000), "logo.webp", "at most 4096 pixels"),
        (claiming_size(encoded("JPEG"), 60000, 60000), "logo.jpg", "at most 4096 pixels"),
        (b"\xff\xd8\xff\xe0" + b"\0" * 20 + b"\xff\xd9", "logo.jpg", "not a PNG, JPEG or WebP"),  # no image inside
    ],
)
def test_what_is_not_a_small_image_is_refused_with_the_limit(store, store_admin, content, name, says):
    response = upload(signed_in(store_admin), store, content, name=name)
    assert says in messages_of(response)
    store.refresh_from_db()
    assert store.logo_url == "" and not StoreLogo.objects.exists()


@pytest.mark.parametrize(("kind", "content_type"), [("JPEG", "image/jpeg"), ("WEBP", "image/webp")])
def test_jpeg_and_webp_within_the_limit_are_taken(client, store, store_admin, kind, content_type):
    assert "The logo is saved" in messages_of(upload(signed_in(store_admin), store, encoded(kind, 4096, 4)))
    store.refresh_from_db()
    assert client.get(store.logo_url)["Content-Type"] == content_type


def test_the_type_comes_from_the_bytes_not_the_browser(client, store, store_admin):
    upload(signed_in(store_admin), store, encoded("JPEG"), name="x.html", content_type="text/html")
    store.refresh_from_db()
    assert client.get(store.logo_url)["Content-Type"] == "image/jpeg"


def test_a_new_logo_is_a_new_address_and_removing_it_ends_the_old(client, store, store_admin):
    admin = signed_in(store_admin)
    upload(admin, store, png())
    store.refresh_from_db()
    first = store.logo_url
    upload(admin, store, png(width=3))
    store.refresh_from_db()
    assert store.logo_url != first and client.get(first).status_code == 404
    admin.post(f"/setup/stores/{store.pk}/logo", {"remove": "1"})
    store.refresh_from_db()
    assert store.logo_url == "" and not StoreLogo.objects.exists()


def test_no_file_is_asked_for(store, store_admin):
    response = signed_in(store_admin).post(f"/setup/stores/{store.pk}/logo", follow=True)
    assert "Choose a logo file" in messages_of(response)

"""The catalogue import in Chromium on a tablet: upload, watch the check, preview, apply, undo; axe-core clean.
And a 200 MB upload to the real server: refused at once, everyone else served meanwhile."""

import contextlib
import socket
import threading
import urllib.request

import pytest
from playwright.sync_api import Page, expect

from shelfcall.catalog.models import CatalogImport, ImportState, Product
from shelfcall.stores.models import Role
from tests.catalog.test_csv_import import run_jobs
from tests.e2e.conftest import TABLET, watch_offline
from tests.e2e.test_shopper_journey import serious_violations
from tests.factories import make_product, make_store, make_user, stock_of

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_passwords")]

LIVE_TIMEOUT = 10_000


def _accessible(page: Page) -> None:
    assert serious_violations(page) == []
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= TABLET["viewport"]["width"], "nothing wider than the tablet's screen"


def test_upload_preview_apply_undo_on_a_tablet(open_page, live_server_url, tmp_path):
    store = make_store(name="Hardware Hall")
    drill = make_product(store, sku="DRL-18", name="Cordless drill", price="99.00", on_hand=9)
    olga = make_user(store, name="Olga", role=Role.ORG_ADMIN)
    page = open_page(TABLET, user=olga, store=store)
    outside, problems = watch_offline(page, live_server_url)

    page.goto("/setup/catalogue/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Catalogue and stock of Hardware Hall")
    _accessible(page)

    bad = tmp_path / "bad.csv"
    bad.write_text('sku,name,price,on_hand\nDRL-18,Cordless drill,"99,00",-1\n')
    page.get_by_label("CSV file", exact=True).set_input_files(bad)
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.get_by_role("progressbar")).to_be_visible()
    _accessible(page)
    run_jobs()
    expect(page.get_by_role("heading", name="2 errors: nothing can be applied")).to_be_visible(timeout=LIVE_TIMEOUT)
    errors = page.locator("table.errors tbody tr")
    expect(errors.nth(0)).to_contain_text("price")
    expect(errors.nth(0)).to_contain_text("write 99.00, with a point")
    expect(errors.nth(1)).to_contain_text("on_hand")
    expect(page.get_by_role("button", name="Apply the import")).to_have_count(0)
    _accessible(page)
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator(".import-state")).to_contain_text("Cancelled")

    good = tmp_path / "catalogue.csv"
    good.write_text("sku,name,price,on_hand\nDRL-18,Cordless drill,109.00,12\nSAW-1,Jigsaw,45.50,3\n")
    page.goto("/setup/catalogue/")
    page.get_by_label("CSV file", exact=True).set_input_files(good)
    page.get_by_role("button", name="Upload and preview").click()
    run_jobs()
    expect(page.get_by_role("button", name="Apply the import")).to_be_visible(timeout=LIVE_TIMEOUT)
    summary = page.locator("table.summary")
    expect(summary.locator("tbody tr").first.locator("td")).to_have_text(["1", "1", "0"])
    expect(page.locator("table.changes")).to_contain_text("109.00")
    _accessible(page)
    assert stock_of(drill, store).on_hand == 9, "a preview changes nothing"

    page.get_by_role("button", name="Apply the import").click()
    expect(page.locator(".import-state")).to_contain_text("Applying")
    run_jobs()
    expect(page.locator(".import-state")).to_contain_text("Applied", timeout=LIVE_TIMEOUT)
    assert stock_of(drill, store).on_hand == 12
    assert Product.objects.filter(sku="SAW-1").exists()

    page.get_by_role("button", name="Undo this import").click()
    run_jobs()
    expect(page.locator(".import-state")).to_contain_text("Undone", timeout=LIVE_TIMEOUT)
    _accessible(page)
    assert stock_of(drill, store).on_hand == 9
    assert not Product.objects.filter(sku="SAW-1").exists()
    assert CatalogImport.objects.filter(state=ImportState.UNDONE).count() == 1

    page.get_by_role("link", name="Catalogue and stock").click()
    expect(page.get_by_role("table")).to_contain_text("Undone")
    _accessible(page)
    assert outside == [] and problems == []


def _post_head(path: str, *headers: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: multipart/form-data; boundary=b", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _healthy(live_server_url: str) -> int:
    with urllib.request.urlopen(f"{live_server_url}/healthz", timeout=10) as response:
        return response.status


def test_a_200_mb_upload_is_refused_at_once_and_everyone_else_is_served(live_server_url):
    port = int(live_server_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as declared:
        declared.sendall(_post_head("/setup/catalogue/1/", f"Content-Length: {200 * 1024 * 1024}") + b"x" * 65536)
        answer = declared.recv(65536)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"larger than 32 MB" in answer

    # Sent without a length, a chunk at a time: the server stops reading past the limit and answers.
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=10) as chunked:
        chunked.sendall(_post_head("/setup/catalogue/1/", "Transfer-Encoding: chunked"))
        chunk = b"100000\r\n" + b"x" * 0x100000 + b"\r\n"

        def send_200_mb() -> None:
            nonlocal sent
            try:
                while sent < 200 * 1024 * 1024:
                    chunked.sendall(chunk)
                    sent += 0x100000
            except OSError:
                pass  # the server closed the connection: what it should do

        sender = threading.Thread(target=send_200_mb, daemon=True)
        sender.start()
        assert _healthy(live_server_url) == 200, "others are served while the upload arrives"
        answer = chunked.recv(65536)
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        with contextlib.suppress(OSError):  # already closed by the server
            chunked.shutdown(socket.SHUT_RDWR)
    sender.join(10)
    assert sent < 100 * 1024 * 1024, "the rest of the 200 MB is never taken"
    assert _healthy(live_server_url) == 200

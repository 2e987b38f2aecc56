import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import TABLET, watch_offline

pytestmark = [pytest.mark.e2e]


def test_api_docs_render_under_the_csp_from_our_own_files(open_page, live_server_url):
    """Swagger UI from django-ninja's bundled files: nothing from a CDN, no CSP violation."""
    page = open_page(TABLET)
    outside, problems = watch_offline(page, live_server_url)
    page.goto("/api/v1/docs")
    expect(page.get_by_text("/api/v1/orders/by-code/{code}")).to_be_visible()
    expect(page.get_by_role("button", name="Authorize")).to_be_visible()
    assert problems == [] and outside == []

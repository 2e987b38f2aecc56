import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import TABLET

pytestmark = [pytest.mark.e2e]


def test_api_docs_render_under_the_csp_from_our_own_files(open_page, live_server_url):
    """Swagger UI from django-ninja's bundled files: nothing from a CDN, no CSP violation."""
    page = open_page(TABLET)
    outside: list[str] = []

    def only_this_server(route) -> None:
        if route.request.url.startswith(f"{live_server_url}/"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.context.route("**/*", only_this_server)
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto("/api/v1/docs")
    expect(page.get_by_text("/api/v1/orders/by-code/{code}")).to_be_visible()
    expect(page.get_by_role("button", name="Authorize")).to_be_visible()
    assert problems == [] and outside == []

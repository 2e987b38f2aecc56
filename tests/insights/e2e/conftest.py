# The browser tests' server, Chromium and pages (tests/e2e), for the insights page's own browser tests.
from tests.e2e.conftest import _allow_orm_beside_playwright, browser, live_server_url, open_page

__all__ = ["_allow_orm_beside_playwright", "browser", "live_server_url", "open_page"]

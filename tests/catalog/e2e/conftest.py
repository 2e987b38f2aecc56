"""The browser tests' fixtures (tests/e2e/conftest.py), for the catalogue's browser tests."""

from tests.e2e.conftest import _allow_orm_beside_playwright, browser, live_server_url, open_page  # noqa: F401

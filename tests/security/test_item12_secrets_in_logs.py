"""Item 12: webhook URLs (Slack and Teams ones are credentials) and shoppers' status-page tokens never
reach the logs: not through httpx or httpcore, Django's warnings, nor uvicorn's access log."""

import io
import logging

import httpx
import pytest
import uvicorn

from shelfcall.cli import uvicorn_log_config
from shelfcall.core.logs import RedactSecrets, redact
from shelfcall.notify.channels import PLUGINS, Destination
from tests.notify.test_channels import MESSAGE

SECRET = "T0001/B0002/XXXXsecretXXXX"
TOKEN = "Zq3pP9xY-2mN_aB7cD8eF0gH1iJ2kL3m"


@pytest.fixture
def printed():
    """What Shelfcall's console handler prints, with every logger down to DEBUG."""
    root = logging.getLogger()
    [console] = [h for h in root.handlers if any(isinstance(f, RedactSecrets) for f in h.filters)]
    stream = io.StringIO()
    previous_stream, previous_level = console.setStream(stream), root.level
    root.setLevel(logging.DEBUG)
    yield stream
    root.setLevel(previous_level)
    console.setStream(previous_stream)


def test_a_delivery_logs_no_webhook_url(printed, receiver):
    url = receiver.url.replace("/hook", f"/services/{SECRET}")
    assert PLUGINS["slack"].deliver(Destination(url, allow_private_network=True), MESSAGE, idempotency_key="k").ok
    # httpx's own request line, as any httpx client in the process would log it
    logging.getLogger("httpx").info('HTTP Request: %s %s "%s %d %s"', "POST", httpx.URL(url), "HTTP/1.1", 200, "OK")
    logging.getLogger("shelfcall").warning("Could not reach %s", url)
    assert SECRET not in printed.getvalue()
    assert "Could not reach http://127.0.0.1:" in printed.getvalue()  # the host is kept


def test_django_warnings_name_no_status_token(printed):
    logging.getLogger("django.request").warning("Not Found: %s", f"/o/{TOKEN}/events")
    assert TOKEN not in printed.getvalue() and "Not Found: /o/…/events" in printed.getvalue()


def test_uvicorn_access_log_names_no_status_token(capsys):
    names = ("uvicorn", "uvicorn.error", "uvicorn.access")
    saved = {name: (logging.getLogger(name).handlers[:], logging.getLogger(name).propagate) for name in names}
    try:
        uvicorn.Config("shelfcall.asgi:application", log_config=uvicorn_log_config()).configure_logging()
        # exactly as uvicorn's HTTP protocols log each request
        logging.getLogger("uvicorn.access").info(
            '%s - "%s %s HTTP/%s" %d', "203.0.113.7:5555", "GET", f"/o/{TOKEN}/events?last=3", "1.1", 200
        )
    finally:
        for name, (handlers, propagate) in saved.items():
            logging.getLogger(name).handlers, logging.getLogger(name).propagate = handlers, propagate
    out = capsys.readouterr().out
    assert TOKEN not in out and '"GET /o/…/events?last=3 HTTP/1.1" 200' in out


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("https://hooks.slack.com/services/T1/B2/c3", "https://hooks.slack.com/…"),
        ("POST https://x.logic.azure.com:443/workflows/1?sig=abc done", "POST https://x.logic.azure.com:443/… done"),
        ('GET /o/abc_DEF-123 HTTP/1.1"', 'GET /o/… HTTP/1.1"'),
        ("Uvicorn running on http://127.0.0.1:8000 (Press CTRL+C to quit)", None),
        ("GET /static/o/logo.svg", None),
    ],
)
def test_redaction(text, shown):
    assert redact(text) == (shown or text)

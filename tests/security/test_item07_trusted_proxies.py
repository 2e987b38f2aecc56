"""Item 7: forwarded headers are believed only from trusted proxies, and read from the right."""

import pytest
from django.test import RequestFactory

from shelfcall.core.clients import address_key, apply_forwarded_headers, client_address


def _client(settings, peer: str, forwarded_for: str | None = None, proxies: str = "10.0.0.0/8") -> str:
    settings.SHELFCALL_TRUSTED_PROXIES = [p for p in proxies.split(",") if p]
    headers = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for is not None else {}
    request = RequestFactory().get("/", REMOTE_ADDR=peer, **headers)
    apply_forwarded_headers(request)
    return client_address(request)


def test_a_client_cannot_forge_its_address(settings):
    assert _client(settings, "203.0.113.9", "1.2.3.4") == "203.0.113.9"


def test_behind_a_trusted_balancer_the_real_client_is_seen(settings):
    assert _client(settings, "10.0.0.2", "198.51.100.7") == "198.51.100.7"


def test_what_a_client_prepends_is_ignored(settings):
    # The client sent "X-Forwarded-For: 1.2.3.4"; the balancer appended the address it saw.
    assert _client(settings, "10.0.0.2", "1.2.3.4, 198.51.100.7") == "198.51.100.7"


def test_a_chain_of_trusted_proxies_is_walked(settings):
    assert _client(settings, "10.0.0.2", "198.51.100.7, 10.0.0.5") == "198.51.100.7"


def test_garbage_in_the_chain_stops_the_walk(settings):
    assert _client(settings, "10.0.0.2", "198.51.100.7, not-an-ip") == "10.0.0.2"


def test_nothing_trusted_means_nothing_believed(settings):
    assert _client(settings, "127.0.0.1", "198.51.100.7", proxies="") == "127.0.0.1"


def test_forwarded_headers_from_an_untrusted_peer_are_dropped(settings):
    settings.SHELFCALL_TRUSTED_PROXIES = ["10.0.0.0/8"]
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_PROTO="https")
    apply_forwarded_headers(request)
    assert "HTTP_X_FORWARDED_PROTO" not in request.META


def test_an_ipv6_client_is_counted_by_its_64(settings):
    request = RequestFactory().get("/", REMOTE_ADDR="2001:db8:1:2:aaaa::1")
    assert address_key(request) == "2001:db8:1:2::/64"


@pytest.mark.django_db
def test_a_forged_header_does_not_escape_the_submission_limit(client, settings, rate_limits):
    """Through the whole middleware stack: 20 submissions an hour per client, forged header or not."""
    settings.SHELFCALL_TRUSTED_PROXIES = []
    for n in range(21):
        response = client.post("/s/NOPE/submit", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0

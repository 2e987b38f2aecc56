"""schemathesis drives every endpoint from the OpenAPI document, offline against the WSGI app, a few
examples each: no 5xx, and every response conforms to its documented schema."""

import socket

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from shelfcall.api.scopes import Scope

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


def _no_name_resolution(*args, **kwargs):
    raise socket.gaierror("name resolution is off in this test")


@pytest.fixture
def fuzz_world(make_key, monkeypatch):
    """The WSGI handler closes the database connection after each request, as in production; the
    test's transaction must survive it (Django's test client does the same). Fuzzed webhook URLs never
    reach the network: names do not resolve (so every subscription is refused), and no worker runs."""
    from tests.factories import make_showcase, make_store, submit

    monkeypatch.setattr(socket, "getaddrinfo", _no_name_resolution)
    store = make_store()
    submit(make_showcase(store))
    for signal in (signals.request_started, signals.request_finished):
        signal.disconnect(close_old_connections)
    yield make_key(store, *Scope)  # every scope: the writes are fuzzed too, not only refused
    for signal in (signals.request_started, signals.request_finished):
        signal.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_server_errors_and_responses_match_the_schema(case, fuzz_world):
    # Not applicable here: positive_data_acceptance (opaque values such as cursors and barcode codes cannot be
    # described by a schema, so a schema-valid request may rightly get 422) and negative_data_rejection (the
    # key is always sent, so "without Authorization" cases carry it; unknown query parameters are ignored, as
    # most APIs do). The rest apply: no 5xx, documented statuses, content types and bodies.
    case.call_and_validate(
        headers={"Authorization": f"Bearer {fuzz_world.plaintext}", "Accept-Encoding": "identity"},
        excluded_checks=[positive_data_acceptance, negative_data_rejection],
    )

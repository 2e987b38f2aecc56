import threading
from datetime import timedelta

import pytest

from shelfcall.api import idempotency
from shelfcall.api.models import IdempotentRequest
from shelfcall.core.housekeeping import tidy
from shelfcall.stores.models import Organization
from tests.api import idempotency_urls

pytestmark = pytest.mark.urls("tests.api.idempotency_urls")
URL = "/api/test/organizations"


def _post(client, key, name="Acme", idempotency_key="k-1"):
    headers = {"Authorization": f"Bearer {key.plaintext}"}
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    return client.post(URL, {"name": name}, content_type="application/json", headers=headers)


@pytest.mark.django_db
def test_a_retry_returns_the_first_response_and_does_not_run_again(client, till_key):
    first = _post(client, till_key)
    again = _post(client, till_key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Organization.objects.filter(name="Acme").count() == 1
    assert _post(client, till_key, idempotency_key="k-2").status_code == 201, "a new key is a new request"
    assert _post(client, till_key, idempotency_key=None).status_code == 201, "without a key: no idempotency"
    assert Organization.objects.filter(name="Acme").count() == 3


@pytest.mark.django_db
def test_same_key_different_body_is_422(client, till_key):
    _post(client, till_key)
    response = _post(client, till_key, name="Other")
    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "idempotency_key_reused",
        "message": response.json()["error"]["message"],
        "field": "Idempotency-Key",
    }


@pytest.mark.django_db
def test_keys_are_scoped_to_the_api_key(client, till_key, make_key, store):
    _post(client, till_key)
    other = make_key(store, name="Webshop")
    assert _post(client, other, name="Other").status_code == 201, "another API key's same idempotency key is its own"


@pytest.mark.django_db
def test_refusals_are_kept_but_failures_run_again(client, till_key):
    refused = _post(client, till_key, name="refuse", idempotency_key="r")
    assert refused.status_code == 422 and _post(client, till_key, name="refuse", idempotency_key="r").json() == (
        refused.json()
    )
    assert _post(client, till_key, name="crash", idempotency_key="c").status_code == 500
    assert not IdempotentRequest.objects.filter(key="c").exists(), "a 5xx is not kept: the retry runs again"


@pytest.mark.django_db
@pytest.mark.parametrize("bad", ["", "with space", "é", "x" * 256])
def test_a_malformed_idempotency_key_is_refused_by_name(client, till_key, bad):
    response = _post(client, till_key, idempotency_key=bad)
    assert response.status_code == 422 and response.json()["error"]["field"] == "Idempotency-Key"


@pytest.mark.django_db
def test_kept_at_least_24_hours_then_purged(client, till_key, time_machine):
    time_machine.move_to("2026-11-23 10:00:00+00:00", tick=False)
    first = _post(client, till_key)
    time_machine.shift(idempotency.KEPT_FOR - timedelta(seconds=1))
    tidy()
    assert _post(client, till_key).json() == first.json()
    time_machine.shift(timedelta(seconds=2))
    assert tidy() >= 1 and not IdempotentRequest.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_at_once_exactly_one_runs_the_other_gets_409(till_key):
    """Two processes at once (two threads, two connections): the row inserted first decides."""
    from django.db import connection
    from django.test import Client

    idempotency_urls.may_finish.clear()
    idempotency_urls.started.clear()
    answers: dict[str, object] = {}

    def send(name: str) -> None:
        try:
            answers[name] = _post(Client(), till_key)
        finally:
            connection.close()

    first = threading.Thread(target=send, args=("first",))
    first.start()
    try:
        assert idempotency_urls.started.wait(10)
        send("second")  # while the first is still running
    finally:
        idempotency_urls.may_finish.set()
        first.join(10)
    assert answers["second"].status_code == 409
    assert answers["second"].json()["error"]["code"] == "idempotent_request_running"
    assert answers["first"].status_code == 201
    assert Organization.objects.filter(name="Acme").count() == 1

    assert _post(Client(), till_key).json() == answers["first"].json()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_inserts_on_postgresql_run_once(till_key):
    """Many requests released together, each on its own connection: exactly one runs."""
    from django.db import connection
    from django.test import Client

    barrier = threading.Barrier(6)
    codes: list[int] = []

    def send() -> None:
        try:
            barrier.wait(10)
            codes.append(_post(Client(), till_key).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert Organization.objects.filter(name="Acme").count() == 1
    assert codes.count(201) >= 1 and set(codes) <= {201, 409} and len(codes) == 6

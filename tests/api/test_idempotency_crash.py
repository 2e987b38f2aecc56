"""A process that dies in the middle of an idempotent write (kill -9, found by benchmarks/chaos.py):
the client's retry with the same Idempotency-Key must run, once, not get 409 for the next 24 hours."""

import threading

import pytest

from shelfcall.api.models import IdempotentRequest
from shelfcall.stores.models import Organization
from tests.api import idempotency_urls
from tests.api.test_idempotency import URL

pytestmark = [pytest.mark.urls("tests.api.idempotency_urls"), pytest.mark.postgres]


def _post(key):
    from django.test import Client

    headers = {"Authorization": f"Bearer {key.plaintext}", "Idempotency-Key": "dies-midway"}
    return Client(raise_request_exception=False).post(
        URL, {"name": "Acme"}, content_type="application/json", headers=headers
    )


@pytest.mark.django_db(transaction=True)
def test_a_retry_after_the_first_requests_process_died_runs_once(till_key):
    from django.db import connection

    idempotency_urls.may_finish.clear()
    idempotency_urls.started.clear()

    def first() -> None:
        try:
            _post(till_key)  # its connection is cut below: it fails, as a killed process would
        finally:
            connection.close()

    dying = threading.Thread(target=first)
    dying.start()
    try:
        assert idempotency_urls.started.wait(10)
        with connection.cursor() as cursor:  # what PostgreSQL sees when the process dies: its connection goes
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
    finally:
        idempotency_urls.may_finish.set()
        dying.join(10)

    retry = _post(till_key)
    assert retry.status_code == 201, retry.content
    assert Organization.objects.filter(name="Acme").count() == 1
    assert IdempotentRequest.objects.get(key="dies-midway").status_code == 201
    assert _post(till_key).json() == retry.json(), "and the retry's answer is kept"

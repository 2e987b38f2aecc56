"""`Idempotency-Key` for writes: a retry gets the first response, the work is done once.

The first request with a key inserts its row (state "running") before it runs, in its own
statement; the unique (API key, idempotency key) makes any other request with that key, on any
process, fail that insert, and so not run: it gets 409 while the first runs, then the first's
status and body (marked `Idempotent-Replayed: true`), or 422 if its method, path or body differ.
Responses of 5xx are not kept: the retry runs again. Rows are kept for KEPT_FOR, then purged by the
worker's housekeeping.

On PostgreSQL, where several processes serve and any may die mid-request, the claim, the work and
the kept response are one transaction (begun after authentication, so the rate-limit counter is not
held meanwhile), and a transaction-scoped advisory lock on the key is what says "running": a process
that dies takes its claim and its half-done work with it, and the client's retry with the same key
runs (it neither gets 409 forever nor does the work twice). SQLite serves from one process: there
the claim is committed first and is the lock."""

import hashlib
import re
from collections.abc import Callable
from contextlib import ExitStack
from datetime import timedelta
from functools import wraps
from typing import Any, cast

from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _
from ninja.decorators import decorate_view

from shelfcall.api.auth import ApiRequest
from shelfcall.api.errors import ApiError, InvalidInput
from shelfcall.api.models import IdempotencyState, IdempotentRequest
from shelfcall.core import clock

HEADER = "Idempotency-Key"
KEPT_FOR = timedelta(hours=24)
_KEY_SHAPE = re.compile(r"[\x21-\x7e]{1,255}")  # printable ASCII, no spaces, like Stripe's
_CLAIM = "_shelfcall_idempotency_claim"
_SCOPE = "_shelfcall_idempotency_scope"  # the ExitStack the request's PostgreSQL transaction is opened in


class IdempotencyKeyReused(ApiError):
    code = "idempotency_key_reused"
    status = 422
    field = HEADER

    def __init__(self) -> None:
        super().__init__(_("This Idempotency-Key was used for a different request; use a new key for a new request."))


class IdempotentRequestRunning(ApiError):
    code = "idempotent_request_running"
    status = 409
    field = HEADER

    def __init__(self) -> None:
        super().__init__(_("The first request with this Idempotency-Key is still running; retry in a moment."))


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    for part in (request.method or "", request.get_full_path()):
        digest.update(part.encode() + b"\0")
    digest.update(request.body)
    return digest.hexdigest()


def _replay(first: IdempotentRequest | None, fingerprint: str) -> HttpResponse:
    if first is not None and first.request_hash != fingerprint:
        raise IdempotencyKeyReused()
    # None: it failed (5xx) a moment ago, or (PostgreSQL) it runs and holds the lock.
    if first is None or first.state == IdempotencyState.RUNNING:
        raise IdempotentRequestRunning()
    response = HttpResponse(
        bytes(first.response_body or b""), status=first.status_code, content_type="application/json"
    )
    response["Idempotent-Replayed"] = "true"
    return response


def _claim_or_replay(request: ApiRequest, key: str) -> HttpResponse | None:
    if not _KEY_SHAPE.fullmatch(key):
        raise InvalidInput(
            _("Use an Idempotency-Key of 1 to 255 printable ASCII characters, e.g. a UUID."), field=HEADER
        )
    fingerprint = _fingerprint(request)
    if connection.vendor == "postgresql":
        return _claim_in_one_transaction(request, key, fingerprint)
    try:
        with transaction.atomic():
            claim = IdempotentRequest.objects.create(
                api_key=request.auth, key=key, request_hash=fingerprint, created_at=clock.now()
            )
    except IntegrityError:
        return _replay(IdempotentRequest.objects.filter(api_key=request.auth, key=key).first(), fingerprint)
    setattr(request, _CLAIM, claim)
    return None


def _claim_in_one_transaction(request: ApiRequest, key: str, fingerprint: str) -> HttpResponse | None:
    """PostgreSQL: open the transaction that _keeping_the_response commits with the response, then
    claim the key in it, if nobody holds its lock and no row has it, in one statement; else replay
    the row, or 409 while another request holds the lock."""
    getattr(request, _SCOPE).enter_context(transaction.atomic())
    lock = int.from_bytes(hashlib.sha256(f"{request.auth.pk}:{key}".encode()).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {IdempotentRequest._meta.db_table} (api_key_id, key, request_hash, state, created_at)"
            " SELECT %s, %s, %s, %s, %s WHERE pg_try_advisory_xact_lock(%s)"
            " ON CONFLICT (api_key_id, key) DO NOTHING RETURNING id",
            [request.auth.pk, key, fingerprint, IdempotencyState.RUNNING, clock.now(), lock],
        )
        claimed = cursor.fetchone()
    if claimed is None:
        return _replay(IdempotentRequest.objects.filter(api_key=request.auth, key=key).first(), fingerprint)
    setattr(request, _CLAIM, IdempotentRequest(pk=claimed[0]))
    return None


def _keep(claim: IdempotentRequest, response: HttpResponseBase) -> None:
    rows = IdempotentRequest.objects.filter(pk=claim.pk)
    if response.status_code >= 500:
        rows.delete()
        return
    body = cast(HttpResponse, response).content  # ninja renders its operations into an HttpResponse
    rows.update(state=IdempotencyState.DONE, status_code=response.status_code, response_body=body)


def _keeping_the_response(run: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Around ninja's whole operation (authentication included): keep the rendered response, errors too."""

    @wraps(run)
    def keeping(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        with ExitStack() as scope:  # on leaving: the transaction a claim opened commits, or rolls back
            setattr(request, _SCOPE, scope)
            response = run(request, *args, **kwargs)
            if (claim := getattr(request, _CLAIM, None)) is not None:
                _keep(claim, response)
                if response.status_code >= 500 and connection.vendor == "postgresql":
                    transaction.set_rollback(True)  # a 5xx leaves nothing behind: the retry runs again
            return response

    return keeping


def idempotent(endpoint: Callable) -> Callable:
    """Decorate a write endpoint (below its `@router.post`): honour `Idempotency-Key` when sent."""

    @wraps(endpoint)
    def claiming(request: ApiRequest, *args: Any, **kwargs: Any) -> object:
        key = request.headers.get(HEADER)
        if key is not None and (replay := _claim_or_replay(request, key)) is not None:
            return replay
        return endpoint(request, *args, **kwargs)

    return decorate_view(_keeping_the_response)(claiming)


def purge_expired() -> int:
    deleted, _counts = IdempotentRequest.objects.filter(created_at__lt=clock.now() - KEPT_FOR).delete()
    return deleted

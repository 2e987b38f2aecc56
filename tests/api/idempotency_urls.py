"""A test-only API with one idempotent write, to exercise the mechanism before the real writes exist."""

import secrets
import threading

from django.urls import path
from ninja import Schema, Status

from shelfcall.api import auth
from shelfcall.api.idempotency import idempotent
from shelfcall.api.v1 import new_api
from shelfcall.stores.models import Organization

api = new_api(urls_namespace="test-idempotency")
# Set by a test to hold requests mid-run (the "still running" case); left set otherwise.
may_finish = threading.Event()
may_finish.set()
started = threading.Event()


class OrganizationIn(Schema):
    name: str


class OrganizationOut(Schema):
    id: int
    name: str


@api.post("/organizations", response={201: OrganizationOut}, auth=auth.ANY_KEY)
@idempotent
def create_organization(request, payload: OrganizationIn):
    started.set()
    assert may_finish.wait(10)
    if payload.name == "refuse":
        from shelfcall.api.errors import InvalidInput

        raise InvalidInput("refused", field="name")
    if payload.name == "crash":
        raise RuntimeError("boom")
    organization = Organization.objects.create(name=payload.name, slug=f"made-{secrets.token_hex(6)}")
    return Status(201, {"id": organization.pk, "name": organization.name})


urlpatterns = [path("api/test/", api.urls)]

"""Background jobs in the admin: read-only, a "retry" action for failed ones, and only superusers see
them (a job belongs to no store). Every account has every Django permission, as in the admin split
tests (tests/security/test_item17_admin_split.py): only memberships and superuser status decide."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client

from shelfcall.core.jobs.models import Job, JobState
from shelfcall.stores.models import Membership, Role
from tests.factories import make_store

pytestmark = pytest.mark.django_db
LIST = "/admin/core/job/"
# root: superuser; olga: organization admin; alice: store admin; sam: supervisor; ana: associate.
ROLES = {"olga": Role.ORG_ADMIN, "alice": Role.STORE_ADMIN, "sam": Role.SUPERVISOR, "ana": Role.ASSOCIATE}


@pytest.fixture
def clients() -> dict[str, Client]:
    store = make_store()
    accounts = {}
    for name in ["root", *ROLES]:
        user = get_user_model().objects.create_user(name, password="x", is_staff=True, is_superuser=name == "root")
        user.user_permissions.set(Permission.objects.all())
        if name in ROLES:
            organization_wide = ROLES[name] == Role.ORG_ADMIN
            Membership.objects.create(
                user=user, organization=store.organization, store=None if organization_wide else store, role=ROLES[name]
            )
        client = Client()
        client.force_login(user)
        accounts[name] = client
    return accounts


@pytest.fixture
def failed_job() -> Job:
    return Job.objects.create(
        kind="setup.catalog_import",
        params={"upload": 7},
        state=JobState.FAILED,
        done=40,
        total=100,
        attempts=1,
        error="ValueError: row 41, column price: not a number",
        outcome={"items": {"41": {"status": "refused", "reason": "price"}}},
    )


def retry_post(client: Client, job: Job):
    return client.post(LIST, {"action": "retry_failed", "_selected_action": [job.pk]}, follow=True)


def test_a_superuser_sees_jobs_with_their_progress_and_error_and_retries_a_failed_one(clients, failed_job):
    root = clients["root"]
    listing = root.get(LIST)
    assert listing.status_code == 200 and "40 / 100" in listing.content.decode()
    detail = root.get(f"{LIST}{failed_job.pk}/change/").content.decode()
    assert "row 41, column price: not a number" in detail and "refused" in detail
    assert 'name="kind"' not in detail, "read-only: no field to edit"
    assert "1 failed job(s) queued again." in retry_post(root, failed_job).content.decode()
    failed_job.refresh_from_db()
    assert (failed_job.state, failed_job.error, failed_job.attempts) == (JobState.QUEUED, "", 0)


def test_jobs_cannot_be_added_or_deleted_even_by_a_superuser(clients, failed_job):
    root = clients["root"]
    assert root.get(f"{LIST}add/").status_code == 403
    assert root.post(f"{LIST}{failed_job.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Job.objects.filter(pk=failed_job.pk).exists()


@pytest.mark.parametrize("name", list(ROLES))
def test_other_staff_reach_no_job_and_cannot_retry_one(clients, failed_job, name):
    client = clients[name]
    assert client.get(LIST).status_code == 403
    assert client.get(f"{LIST}{failed_job.pk}/change/").status_code == 403
    assert client.post(LIST, {"action": "retry_failed", "_selected_action": [failed_job.pk]}).status_code == 403
    failed_job.refresh_from_db()
    assert failed_job.state == JobState.FAILED

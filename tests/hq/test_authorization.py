"""Every /hq/ URL with every role: who gets in, who sees which stores, and customer service never picks."""

import pytest
from django.urls import URLPattern

from shelfcall.core.jobs import queue
from shelfcall.core.jobs.models import Job
from shelfcall.hq import bulk
from shelfcall.hq import urls as hq_urls
from shelfcall.orders.models import Order, OrderStatus
from tests.factories import signed_in, submit

pytestmark = pytest.mark.django_db

# name → (method, path with {order}); every pattern of hq/urls.py must be here (checked below).
URLS = {
    "orders": ("get", "/hq/"),
    "stream": ("get", "/hq/stream"),
    "lookup": ("get", "/hq/lookup?email=kim@example.com"),
    "inventory": ("get", "/hq/inventory"),
    "order": ("get", "/hq/orders/{order}"),
    "send_link": ("post", "/hq/orders/{order}/send-link"),
    "resend_ready": ("post", "/hq/orders/{order}/resend-ready"),
    "cancel": ("post", "/hq/orders/{order}/cancel"),
    "move": ("post", "/hq/orders/{order}/move"),
    "bulk": ("post", "/hq/bulk"),
    "job": ("get", "/hq/jobs/{job}"),
    "job_refused_csv": ("get", "/hq/jobs/{job}/refused.csv"),
    "job_document": ("get", "/hq/jobs/{job}/document.pdf"),
}
# What each role gets on a store-A order: 200 (or a redirect back after a POST), 403 or 404.
SEES_A = {"org_admin", "customer_service", "store_admin"}


def test_every_hq_url_is_in_the_table():
    assert {p.name for p in hq_urls.urlpatterns if isinstance(p, URLPattern)} == set(URLS)


def _call(client, name: str, order: Order, job: Job | None = None):
    method, path = URLS[name]
    url = path.format(order=order.pk, job=job.pk if job else 0)
    if name == "stream":
        return client.get(url)  # refused streams answer at once; allowed ones are checked in test_live
    if method == "post":
        fields = {"reason": "Shopper asked", "via": "email", "to_store": order.store_id}
        return client.post(url, fields | {"action": "cancel", "key": "k", "order": [order.pk]})
    return client.get(url)


def _own_job(name: str, order: Order, user) -> Job:
    """The user's own job: for the document, a finished print of the order."""
    if name != "job_document":
        return bulk.start(bulk.BulkAction.RESEND_READY, [order.pk], by=user, key="own")
    job = bulk.start(bulk.BulkAction.PRINT_RECEIPTS, [order.pk], by=user, key="own")
    while queue.run_next():
        pass
    return job


@pytest.mark.parametrize(
    "role", ["org_admin", "customer_service", "store_admin", "supervisor", "associate", "stranger"]
)
@pytest.mark.parametrize("name", sorted(set(URLS) - {"stream"}))
def test_each_role_on_each_url(world, role, name):
    order = world.order_a(email="kim@example.com")
    user = world.users[role]
    job = _own_job(name, order, user) if name.startswith("job") else None
    response = _call(signed_in(user), name, order, job)
    if role in ("supervisor", "associate"):
        assert response.status_code == 403, "only admins and customer service open /hq/"
    elif role == "stranger" and "{order}" in URLS[name][1]:
        assert response.status_code == 404, "another organization's admin: our orders do not exist for them"
    else:
        assert response.status_code in (200, 302, 422), response.status_code
    if response.status_code >= 400:
        assert Order.objects.get(pk=order.pk).status == OrderStatus.SUBMITTED


@pytest.mark.parametrize("name", sorted(URLS))
def test_signed_out_is_sent_to_sign_in(world, name):
    from django.test import Client

    job = bulk.start(bulk.BulkAction.CANCEL, [], by=world.users["org_admin"], key="k", reason="x")
    response = _call(Client(), name, world.order_a(), job)
    if name == "stream":
        assert response.status_code == 403
    else:
        assert response.status_code == 302 and "/w/login" in response["Location"]


@pytest.mark.parametrize("name", ["order", "send_link", "resend_ready", "cancel", "move"])
def test_a_store_admin_cannot_reach_another_stores_order(world, name):
    order = world.order_b(email="lou@example.com")
    response = _call(signed_in(world.users["store_admin"]), name, order)
    assert response.status_code == 404
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SUBMITTED


def test_a_store_admin_lists_only_their_stores(world):
    mine, theirs = world.order_a(), world.order_b()
    page = signed_in(world.users["store_admin"]).get("/hq/").context["page"]
    assert [o.pk for o in page.orders] == [mine.pk]
    assert theirs.pk not in [
        o.pk for o in signed_in(world.users["store_admin"]).get("/hq/?q=Lou").context["page"].orders
    ]
    every = signed_in(world.users["customer_service"]).get("/hq/").context["page"]
    assert {o.pk for o in every.orders} == {mine.pk, theirs.pk}


def test_another_organization_sees_nothing_of_ours(world):
    world.order_a(email="kim@example.com")
    theirs = submit(world.showcase_elsewhere)
    client = signed_in(world.users["stranger"])
    assert [o.pk for o in client.get("/hq/").context["page"].orders] == [theirs.pk]
    assert client.get("/hq/lookup?email=kim@example.com").context["found"] == []
    assert [p.product.name for p in client.get("/hq/inventory").context["products"]] == ["Kettle"]


@pytest.mark.parametrize("role", ["supervisor", "associate"])
def test_floor_staff_get_no_hq_stream(world, role):
    assert signed_in(world.users[role]).get("/hq/stream").status_code == 403


@pytest.mark.parametrize("action", ["claim", "pick", "stage", "hand_off", "unclaim"])
def test_customer_service_cannot_claim_pick_or_hand_off(world, action):
    """Through the workspace (where picking happens) the order page is not theirs at all."""
    order = world.order_a()
    client = signed_in(world.users["customer_service"])
    response = client.post(f"/w/orders/{order.pk}/{action}")
    assert response.status_code in (403, 404)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SUBMITTED


def test_customer_service_signing_in_to_the_workspace_lands_in_head_office(world):
    client = signed_in(world.users["customer_service"])
    for path in ["/w/", "/w/till"]:
        response = client.get(path)
        assert (response.status_code, response["Location"]) == (302, "/hq/")
    assert signed_in(world.users["associate"]).get("/w/").status_code == 200


def test_the_workspace_links_head_office_insights_and_setup_to_whom_may_open_them(world):
    admin = signed_in(world.users["store_admin"]).get("/w/").content.decode()
    assert all(link in admin for link in ['href="/hq/"', 'href="/insights/"', 'href="/setup/"'])
    floor = signed_in(world.users["associate"]).get("/w/").content.decode()
    assert not any(link in floor for link in ['href="/hq/"', 'href="/insights/"', 'href="/setup/"'])

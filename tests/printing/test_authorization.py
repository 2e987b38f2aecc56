"""Every sign URL x every kind of caller: the PDFs are for the staff of the sign's store, whatever their
role; anyone else signed in is refused, and nobody signed in is sent to sign in. The public preview
shows the download links to the same people only."""

from collections.abc import Callable

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from shelfcall.catalog.models import Showcase, ShowcaseItem
from shelfcall.printing import views
from shelfcall.shopper.urls import urlpatterns
from shelfcall.stores.models import Membership, Role
from tests.factories import make_product, make_store, make_user, signed_in

pytestmark = pytest.mark.django_db

# Each of the store's roles: may they print its signs? A new role must be decided here.
ROLES = {
    Role.ORG_ADMIN: True,
    Role.STORE_ADMIN: True,
    Role.SUPERVISOR: True,
    Role.ASSOCIATE: True,
    Role.CUSTOMER_SERVICE: False,  # works from head office, never on the shop floor
}
OUTSIDERS = ["sister store's admin", "other organization's admin", "superuser without a role", "customer"]
# The sign URLs of shelfcall/printing/views.py, for the world's showcase.
URLS: dict[str, Callable[[Showcase], str]] = {
    "shopper:sign_pdf": lambda showcase: reverse("shopper:sign_pdf", args=[showcase.code]),
    "shopper:product_sign_pdf": lambda showcase: reverse(
        "shopper:product_sign_pdf", args=[showcase.items.first().code]
    ),
    "shopper:store_signs_pdf": lambda showcase: reverse("shopper:store_signs_pdf", args=[showcase.store_id]),
}


def test_every_role_is_decided():
    assert set(ROLES) == set(Role)


def test_every_sign_url_is_here():
    printing = {f"shopper:{p.name}" for p in urlpatterns if getattr(p.callback, "__module__", "") == views.__name__}
    assert printing == set(URLS)


@pytest.fixture(autouse=True)
def _quick_pdfs(monkeypatch):
    """Who may download is the question here, not how a sign looks (test_signs.py reads those back):
    the PDF is a stand-in, which also tells the stores of the signs it was asked for."""

    def render(store, signs, size, languages, *, title):
        return b"%PDF-stand-in " + ",".join(sign.url for sign in signs).encode()

    monkeypatch.setattr(views, "render_signs", render)


def _member(store, role: Role):
    """Organization admins and customer service hold the whole organization; the other roles hold the store."""
    if role not in (Role.ORG_ADMIN, Role.CUSTOMER_SERVICE):
        return make_user(store, name=role.label.split()[0], role=role)
    user = get_user_model().objects.create_user(f"{role}-{store.pk}", password="x")
    Membership.objects.create(user=user, organization=store.organization, store=None, role=role)
    return user


def _caller(store, caller: str):
    """The one user a test needs (each account costs a password hash)."""
    if caller in ROLES:
        return _member(store, Role(caller))
    if caller == "sister store's admin":
        return make_user(make_store(organization=store.organization), role=Role.STORE_ADMIN)
    if caller == "other organization's admin":
        return _member(make_store(), Role.ORG_ADMIN)
    if caller == "superuser without a role":
        return get_user_model().objects.create_superuser("root", password="x")
    return get_user_model().objects.create_user("someone", password="x")


CALLERS = [role.value for role in ROLES] + OUTSIDERS


@pytest.mark.parametrize("name", list(URLS))
@pytest.mark.parametrize("caller", CALLERS)
def test_who_may_download(showcase, name, caller):
    url = f"{URLS[name](showcase)}?size=label"
    response = signed_in(_caller(showcase.store, caller)).get(url)
    if caller in ROLES and ROLES[Role(caller)]:
        assert response.status_code == 200 and response.content.startswith(b"%PDF")
    else:
        assert response.status_code == 403 and not response.content.startswith(b"%PDF")


@pytest.mark.parametrize("name", list(URLS))
def test_nobody_signed_in_is_sent_to_sign_in(client, showcase, name):
    url = URLS[name](showcase)
    response = client.get(url)
    assert response.status_code == 302 and response["Location"] == f"/w/login?next={url}"


@pytest.mark.parametrize("name", list(URLS))
def test_only_get(staff_client, showcase, name):
    assert staff_client.post(URLS[name](showcase)).status_code == 405


@pytest.mark.parametrize("caller", [*CALLERS, "nobody"])
def test_the_preview_shows_the_links_to_whoever_may_download(client, showcase, caller):
    browser = client if caller == "nobody" else signed_in(_caller(showcase.store, caller))
    page = browser.get(f"/s/{showcase.code}/sign").content.decode()
    allowed = caller in ROLES and ROLES[Role(caller)]
    assert ("Signs to print (PDF)" in page) is allowed
    assert (f"/stores/{showcase.store_id}/signs.pdf?size=a4" in page) is allowed


def test_printing_is_rate_limited_per_person(staff_client, showcase, settings):
    settings.RATELIMIT_ENABLE = True
    url = f"/s/{showcase.code}/sign.pdf"
    assert all(staff_client.get(url).status_code == 200 for _ in range(views.PRINT_RATE.limit))
    refused = staff_client.get(url)
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1


def test_the_previews_statements_do_not_grow_with_products(staff_client, showcase, store, django_assert_num_queries):
    url = f"/s/{showcase.code}/sign"
    staff_client.get(url)
    with CaptureQueriesContext(connection) as one:
        staff_client.get(url)
    for position in range(5):
        ShowcaseItem.objects.create(showcase=showcase, product=make_product(store), position=10 + position)
    with django_assert_num_queries(len(one.captured_queries)):
        assert staff_client.get(url).status_code == 200


def test_a_pdf_of_more_signs_than_the_cap_is_refused_naming_the_way_round(staff_client, showcase, monkeypatch):
    monkeypatch.setattr(views, "MAX_PAGES", 3)  # the showcase and its three products make four signs
    refused = staff_client.get(f"/stores/{showcase.store_id}/signs.pdf")
    assert refused.status_code == 400
    assert "more than 3 in one PDF: print them showcase by showcase" in refused.content.decode()


def test_a_stores_pages_a_minute_are_capped_whoever_prints(staff_client, showcase, store, settings, monkeypatch):
    settings.RATELIMIT_ENABLE = True
    monkeypatch.setattr(views, "PAGES_PER_HIT", 4)
    monkeypatch.setattr(views, "STORE_PAGE_RATE", views.Rate("printing.store_pages", 2, 60))
    url = f"/stores/{showcase.store_id}/signs.pdf"
    assert [staff_client.get(url).status_code for _ in range(2)] == [200, 200]
    colleague = signed_in(make_user(store, name="Bo"))
    assert colleague.get(url).status_code == 429

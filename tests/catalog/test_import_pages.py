"""The catalogue import pages (/setup/catalogue/): every URL with every role, the flow through the pages,
the export, the published columns, the size limit, and the pages' statement counts."""

import asyncio
import csv
import io
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from shelfcall.catalog import csv_import, csvfiles, imports, urls, views
from shelfcall.catalog.models import CatalogImport, ImportState, Product
from shelfcall.catalog.uploads import limit_uploads
from shelfcall.stores.models import Role
from tests.catalog.test_csv_import import run_jobs, uploaded
from tests.factories import make_product, make_store, make_user, signed_in, signed_in_with_pin, stock_of

pytestmark = pytest.mark.django_db


@dataclass
class World:
    store: object
    sister: object
    admin: object
    checked: CatalogImport
    applied: CatalogImport


@pytest.fixture
def world() -> World:
    """A store with an applied import (its count 9 was set to 3) and a checked one, made as the jobs leave them."""
    store = make_store(name="Hardware Hall")
    sister = make_store(organization=store.organization, name="Sister")
    make_product(store, sku="DRL-18", name="Drill", on_hand=3)
    admin = make_user(store, name="Olga", role=Role.ORG_ADMIN)
    made = {"organization": store.organization, "store": store, "requested_by": admin, "filename": "c.csv"}
    applied = CatalogImport.objects.create(
        **made,
        state=ImportState.APPLIED,
        applied_at=timezone.now(),
        undo={"products_created": [], "products_before": [], "counts_before": [["DRL-18", 9]]},
    )
    checked = CatalogImport.objects.create(**made, state=ImportState.CHECKED, preview={"error_count": 0})
    return World(store, sister, admin, checked, applied)


def _client(world: World, who: str) -> Client:
    if who == "anonymous":
        return Client()
    if who == "org admin":
        return signed_in(world.admin)
    if who == "org admin with a PIN":
        return signed_in_with_pin(world.admin)
    if who == "admin of another organization":
        return signed_in(make_user(make_store(), name="Ida", role=Role.ORG_ADMIN))
    if who == "admin of the sister store":
        return signed_in(make_user(world.sister, name="Sid", role=Role.STORE_ADMIN))
    role = {"store admin": Role.STORE_ADMIN, "supervisor": Role.SUPERVISOR, "associate": Role.ASSOCIATE}[who]
    return signed_in(make_user(world.store, name="Sam", role=role))


@dataclass(frozen=True)
class Page:
    url: Callable[[World], str]
    method: str = "get"
    data: Callable[[], dict] = dict
    ok: int = 200
    public: bool = False


def _on_import(name: str, which: str = "checked", **page) -> Page:
    return Page(lambda w: reverse(f"catalog:{name}", args=[w.store.pk, getattr(w, which).pk]), **page)


# URL name → how to call it, and what its admins get.
PAGES = {
    "index": Page(lambda w: reverse("catalog:index")),  # what each gets: INDEX
    "columns": Page(lambda w: reverse("catalog:columns"), public=True),
    "schema": Page(lambda w: reverse("catalog:schema"), public=True),
    "store": Page(lambda w: reverse("catalog:store", args=[w.store.pk])),
    "upload": Page(
        lambda w: reverse("catalog:store", args=[w.store.pk]),
        "post",
        lambda: {"file": SimpleUploadedFile("c.csv", b"sku,on_hand\nDRL-18,5\n")},
        ok=302,
    ),
    "export": Page(lambda w: reverse("catalog:export", args=[w.store.pk])),
    "import": _on_import("import"),
    "progress": _on_import("progress"),
    "apply": _on_import("apply", method="post", ok=302),
    "cancel": _on_import("cancel", method="post", ok=302),
    "undo": _on_import("undo", "applied", method="post", ok=302),
}
WHO = [
    "anonymous",
    "associate",
    "supervisor",
    "admin of the sister store",
    "admin of another organization",
    "org admin with a PIN",
    "store admin",
    "org admin",
]
REFUSED = {
    "anonymous": 302,  # to the sign-in page
    "associate": 404,
    "supervisor": 404,
    "admin of the sister store": 404,
    "admin of another organization": 404,
    "org admin with a PIN": 403,
}
# The index lists the stores one administers, or goes straight to the only one.
INDEX = {
    "associate": 403,
    "supervisor": 403,
    "admin of the sister store": 302,
    "admin of another organization": 302,
    "store admin": 302,
    "org admin": 200,  # two stores to choose from
}


def test_the_matrix_covers_every_url():
    assert {pattern.name for pattern in urls.urlpatterns} == set(PAGES) - {"upload"}


def _state(world: World) -> list:
    return [
        list(CatalogImport.objects.order_by("pk").values_list("pk", "state")),
        stock_of(Product.objects.get(sku="DRL-18"), world.store).on_hand,
    ]


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("name", PAGES)
def test_every_url_with_every_role(world, who, name):
    page = PAGES[name]
    client = _client(world, who)
    before = _state(world)
    response = getattr(client, page.method)(page.url(world), page.data())
    if name == "index":
        assert response.status_code == (REFUSED | INDEX)[who]
        return
    if page.public or who in {"store admin", "org admin"}:
        assert response.status_code == page.ok, response.content[:500]
        return
    expected = REFUSED[who]
    assert response.status_code == expected
    if expected == 302 and who == "anonymous":
        assert response["Location"].startswith(reverse("workspace:login"))
    assert _state(world) == before, "nothing changes for someone refused"


class TestFlowThroughThePages:
    def test_upload_preview_apply_undo(self, world):
        client = signed_in(world.admin)
        store_url = reverse("catalog:store", args=[world.store.pk])
        content = b"sku,name,price,on_hand\nDRL-18,Drill,10.00,7\nSAW,Saw,12.00,2\n"
        response = client.post(store_url, {"file": SimpleUploadedFile("new.csv", content)})
        catalog_import = CatalogImport.objects.latest("pk")
        assert response["Location"] == reverse("catalog:import", args=[world.store.pk, catalog_import.pk])
        page = client.get(response["Location"]).content.decode()
        assert "<progress" in page and "Checking the file" in page
        assert client.get(reverse("catalog:progress", args=[world.store.pk, catalog_import.pk])).json()["running"]
        run_jobs()
        page = client.get(response["Location"]).content.decode()
        assert "Apply the import" in page and "new product" in page
        client.post(reverse("catalog:apply", args=[world.store.pk, catalog_import.pk]))
        run_jobs()
        assert Product.objects.filter(sku="SAW").exists()
        assert "Undo this import" in client.get(response["Location"]).content.decode()
        client.post(reverse("catalog:undo", args=[world.store.pk, catalog_import.pk]))
        run_jobs()
        assert not Product.objects.filter(sku="SAW").exists()
        assert stock_of(Product.objects.get(sku="DRL-18"), world.store).on_hand == 3
        client.post(reverse("catalog:undo", args=[world.store.pk, world.applied.pk]))
        run_jobs()
        assert stock_of(Product.objects.get(sku="DRL-18"), world.store).on_hand == 9

    def test_errors_are_listed_by_row_and_column_with_the_fix(self, world):
        client = signed_in(world.admin)
        content = b'sku,name,price\nA,Drill,"12,50"\n'
        client.post(reverse("catalog:store", args=[world.store.pk]), {"file": SimpleUploadedFile("bad.csv", content)})
        run_jobs()
        catalog_import = CatalogImport.objects.latest("pk")
        page = client.get(reverse("catalog:import", args=[world.store.pk, catalog_import.pk])).content.decode()
        assert "1 error: nothing can be applied" in page
        assert (
            "<td>2</td><td>price</td><td>&quot;12,50&quot; has a decimal comma: write 12.50, with a point.</td>" in page
        )
        assert "Apply the import" not in page

    def test_no_file_is_explained(self, world):
        response = signed_in(world.admin).post(reverse("catalog:store", args=[world.store.pk]), {})
        assert response.status_code == 400
        assert "Choose a CSV file" in response.content.decode()

    def test_export_takes_the_import_back_unchanged(self, world):
        make_product(world.store, sku="GLV", name="Gloves, size M", price="4.50", colour="Grey", active=False)
        client = signed_in(world.admin)
        response = client.get(reverse("catalog:export", args=[world.store.pk]))
        exported = b"".join(response.streaming_content)
        rows = list(csv.DictReader(io.StringIO(exported.decode())))
        assert [row["sku"] for row in rows] == ["DRL-18", "GLV"]
        assert (rows[1]["name"], rows[1]["active"], rows[1]["on_hand"]) == ("Gloves, size M", "no", "5")
        again = uploaded(world.store, world.admin, exported)
        assert again.preview["products"] == {"created": 0, "changed": 0, "unchanged": 2}
        assert again.preview["stock"] == {"created": 0, "changed": 0, "unchanged": 2}


def _endless_upload(app, headers: list[tuple[bytes, bytes]]) -> tuple[list[dict], list[int]]:
    """POST a body of 1 MB chunks that never ends to `app` behind the upload limit: the messages sent back,
    and one entry for each chunk read."""
    sent, reads = [], []

    async def receive():
        reads.append(1)
        return {"type": "http.request", "body": b"x" * (1 << 20), "more_body": True}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/setup/catalogue/1/", "headers": headers}
    asyncio.run(limit_uploads(app)(scope, receive, send))
    return sent, reads


class TestTheLimit:
    def test_a_declared_length_past_the_limit_is_refused_unread(self, world):
        response = signed_in(world.admin).post(
            reverse("catalog:store", args=[world.store.pk]),
            {"file": SimpleUploadedFile("c.csv", b"sku,on_hand\n")},
            CONTENT_LENGTH=str(200 * 1024 * 1024),
        )
        assert response.status_code == 413
        assert "larger than 32 MB" in response.content.decode()

    def test_a_file_past_the_limit_is_dropped_as_it_arrives(self, world, monkeypatch):
        monkeypatch.setattr(csv_import, "MAX_UPLOAD_BYTES", 1000)
        count = CatalogImport.objects.count()
        response = signed_in(world.admin).post(
            reverse("catalog:store", args=[world.store.pk]),
            {"file": SimpleUploadedFile("c.csv", b"sku,on_hand\n" + b"DRL-18,1\n" * 200)},
        )
        assert response.status_code == 413
        assert CatalogImport.objects.count() == count

    def test_over_asgi_200_mb_is_refused_before_it_is_read(self):
        async def never(scope, receive, send):
            raise AssertionError("the application must not be reached")

        sent, reads = _endless_upload(never, [(b"content-length", str(200 * 1024 * 1024).encode())])
        assert sent[0]["status"] == 413 and not reads
        assert b"32 MB" in sent[1]["body"]

    def test_over_asgi_a_length_of_thousands_of_digits_is_refused(self):
        async def never(scope, receive, send):
            raise AssertionError("the application must not be reached")

        sent, reads = _endless_upload(never, [(b"content-length", b"9" * 5000)])
        assert sent[0]["status"] == 413 and not reads

    @pytest.mark.parametrize("length", ["abc", "", "\u0663", "9" * 5000])
    def test_a_content_length_that_is_no_number_is_unknown_to_the_page(self, world, rf, length):
        """Without the middleware that refuses it (the page must not rely on it): not a 500."""
        request = rf.post(reverse("catalog:store", args=[world.store.pk]), {}, CONTENT_LENGTH=length)
        request.user, request._dont_enforce_csrf_checks = world.admin, True
        request.session, request._messages = {}, CookieStorage(request)
        response = views.store_page(request, world.store.pk)
        assert response.status_code == 400
        assert "Choose a CSV file" in response.content.decode()

    def test_over_asgi_a_chunked_body_stops_being_read_past_the_limit(self):
        async def reads_it_all(scope, receive, send):
            while (await receive())["type"] != "http.disconnect":
                pass

        sent, reads = _endless_upload(reads_it_all, [])
        assert sent[0]["status"] == 413
        assert len(reads) <= csv_import.MAX_UPLOAD_BYTES // (1 << 20) + 2, "the rest of the 200 MB is never read"


class TestPublishedColumns:
    def test_the_schema_describes_the_columns_the_import_reads(self, client):
        schema = client.get(reverse("catalog:schema")).json()
        assert [field["name"] for field in schema["fields"]] == list(csvfiles.COLUMN_NAMES)
        fields = {field["name"]: field for field in schema["fields"]}
        assert fields["name"]["constraints"]["maxLength"] == Product._meta.get_field("name").max_length
        assert fields["on_hand"]["constraints"]["maximum"] == imports.StockRow.model_fields["on_hand"].metadata[1].le
        assert fields["price"]["constraints"]["maximum"] == 99999999.99
        assert schema["primaryKey"] == ["sku"]
        assert schema["$id"] == "http://testserver/setup/catalogue/schema.json"

    def test_the_columns_page_lists_them_and_links_the_schema(self, client):
        page = client.get(reverse("catalog:columns")).content.decode()
        assert all(f"<code>{name}</code>" in page for name in csvfiles.COLUMN_NAMES)
        assert reverse("catalog:schema") in page


class TestStatementCounts:
    def test_store_page(self, world, count_statements):
        for _n in range(5):
            uploaded(world.store, world.admin, "sku,on_hand\nDRL-18,4\n")
        client = signed_in(world.admin)
        with count_statements(12):
            assert client.get(reverse("catalog:store", args=[world.store.pk])).status_code == 200

    def test_import_page(self, world, count_statements):
        client = signed_in(world.admin)
        with count_statements(10):
            assert client.get(reverse("catalog:import", args=[world.store.pk, world.checked.pk])).status_code == 200

    def test_export_does_not_grow_with_the_catalogue(self, world, count_statements):
        for n in range(30):
            make_product(world.store, sku=f"P{n}")
        client = signed_in(world.admin)
        with count_statements(8):
            b"".join(client.get(reverse("catalog:export", args=[world.store.pk])).streaming_content)


def test_the_state_of_a_cancelled_import_is_shown(world):
    client = signed_in(world.admin)
    client.post(reverse("catalog:cancel", args=[world.store.pk, world.checked.pk]))
    assert CatalogImport.objects.get(pk=world.checked.pk).state == ImportState.CANCELLED
    response = client.post(reverse("catalog:apply", args=[world.store.pk, world.checked.pk]), follow=True)
    assert "only one not applied" not in response.content.decode()
    assert "This import is Cancelled" in response.content.decode()

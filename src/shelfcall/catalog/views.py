"""Catalogue and stock import and export for store and organization admins (`/setup/catalogue/`), and the
published columns: a page for people, a Table Schema for integrators' tools. Who may do what is asked of
stores.policy; the changes are csv_import.py's."""

from collections.abc import Callable, Iterator
from functools import wraps
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.models import User
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from shelfcall.catalog import csv_import
from shelfcall.catalog.csvfiles import COLUMNS, PRODUCT_COLUMNS, export_rows, table_schema
from shelfcall.catalog.imports import PRODUCT_FIELDS
from shelfcall.catalog.models import CatalogImport, ImportState, Product, StockLevel
from shelfcall.core.errors import ShelfcallError
from shelfcall.core.numbers import parse_number
from shelfcall.stores import policy
from shelfcall.stores.models import Store

RUNNING = set(csv_import.RUNNING)
RECENT = 10


class CatalogueRequest(HttpRequest):
    user: User
    store: Store


def _signed_in_admin(request: HttpRequest) -> HttpResponse | None:
    """A login redirect, or None for a password-signed-in user (a PIN opens the workspace, not setup)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), "workspace:login")
    if not policy.holds_full_sign_in(request):
        raise PermissionDenied
    return None


def catalogue_view(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """For a store's catalogue pages: its admins only; to anyone else the store is not there (404)."""

    @wraps(view)
    def wrapped(request: HttpRequest, store_id: int, *args: Any, **kwargs: Any) -> HttpResponseBase:
        refused = _signed_in_admin(request)
        if refused:
            return refused
        store = policy.administered_stores(request.user).filter(pk=store_id).first()
        if store is None:
            raise Http404("no such store here")
        admin = cast(CatalogueRequest, request)
        admin.store = store  # the base template's header shows it
        return view(admin, *args, **kwargs)

    return wrapped


def _import_of(request: CatalogueRequest, import_id: int) -> CatalogImport:
    imports = CatalogImport.objects.filter(pk=import_id, store=request.store)
    found = imports.select_related("requested_by", "job").first()
    if found is None:
        raise Http404("no such import here")
    return found


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    refused = _signed_in_admin(request)
    if refused:
        return refused
    stores = list(policy.administered_stores(request.user).order_by("name"))
    if not stores:
        raise PermissionDenied
    if len(stores) == 1:
        return redirect("catalog:store", stores[0].pk)
    return render(request, "catalog/index.html", {"stores": stores})


class _LimitedUpload(FileUploadHandler):
    """Drops an uploaded file past the limit as it arrives (shelfcall.catalog.uploads refuses the
    request itself before it is read, when served over ASGI)."""

    too_large = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > csv_import.MAX_UPLOAD_BYTES:
            self.too_large = True
            raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


@csrf_exempt  # checked below, once the limit is in place: the CSRF check reads the body
def store_page(request: HttpRequest, store_id: int) -> HttpResponseBase:
    # A length that is no number is unknown, as Django's reading takes it: the upload handler still counts.
    declared = parse_number(request.META.get("CONTENT_LENGTH") or "0") or 0
    if declared > csv_import.MAX_UPLOAD_BYTES + (1 << 16):
        return too_large(request)  # before anything reads the body
    limit = _LimitedUpload(request)
    request.upload_handlers = [limit, *request.upload_handlers]
    return csrf_protect(catalogue_view(_store_page))(request, store_id, limit=limit)


def _store_page(request: CatalogueRequest, *, limit: _LimitedUpload) -> HttpResponse:
    error = ""
    # Products are the organization's: its admins' files may change them, a store admin's set counts only.
    may_change_products = policy.administers_organization(request.user, request.store.organization_id)
    if request.method == "POST":
        upload = request.FILES.get("file")
        if limit.too_large:
            return too_large(request)
        if upload is None:
            error = _("Choose a CSV file to upload.")
        else:
            try:
                started = csv_import.start_import(
                    request.store,
                    by=request.user,
                    filename=upload.name or "catalogue.csv",
                    chunks=upload.chunks(csv_import.CHUNK_BYTES),
                    may_change_products=may_change_products,
                )
            except ShelfcallError as refusal:
                error = refusal.message
            else:
                return redirect("catalog:import", request.store.pk, started.pk)
    recent = list(csv_import.list_recent_imports(request.store)[:RECENT])
    undoable = next((item for item in recent if item.state == ImportState.APPLIED), None)
    context = {
        "recent": recent,
        "undoable": undoable if undoable and csv_import.is_undoable(undoable) else None,
        "error": error,
        "may_change_products": may_change_products,
        "limit_mb": csv_import.MAX_UPLOAD_BYTES // (1024 * 1024),
    }
    return render(request, "catalog/store.html", context, status=400 if error else 200)


def too_large(request: HttpRequest) -> HttpResponse:
    """The refusal of a file past the limit, naming it; its body is never read."""
    response = render(request, "catalog/too_large.html", {"message": csv_import.too_large_message()}, status=413)
    response["Connection"] = "close"  # the rest of the body is not read: the connection cannot be reused
    return response


@require_GET
@catalogue_view
def import_page(request: CatalogueRequest, import_id: int) -> HttpResponse:
    catalog_import = _import_of(request, import_id)
    job = catalog_import.job if catalog_import.state in RUNNING else None
    context = {
        "catalog_import": catalog_import,
        "preview": catalog_import.preview,
        "running": catalog_import.state in RUNNING,
        "job": job,
        "undoable": csv_import.is_undoable(catalog_import),
    }
    return render(request, "catalog/import.html", context)


@require_GET
@catalogue_view
def import_progress(request: CatalogueRequest, import_id: int) -> JsonResponse:
    """What the progress bar polls: the import's state and its job's progress (bytes of the file read)."""
    catalog_import = _import_of(request, import_id)
    job = catalog_import.job
    return JsonResponse(
        {
            "state": catalog_import.state,
            "running": catalog_import.state in RUNNING,
            "done": job.done if job else 0,
            "total": job.total if job else None,
        }
    )


def _import_action(
    act: Callable[[CatalogImport, User], object], done: Callable[[], str]
) -> Callable[..., HttpResponseBase]:
    @require_POST
    @catalogue_view
    def view(request: CatalogueRequest, import_id: int) -> HttpResponse:
        catalog_import = _import_of(request, import_id)
        try:
            act(catalog_import, request.user)
        except ShelfcallError as refusal:
            messages.error(request, refusal.message)
        else:
            messages.success(request, done())
        return redirect("catalog:import", request.store.pk, catalog_import.pk)

    return view


apply_import = _import_action(
    lambda catalog_import, user: csv_import.apply_import(catalog_import.pk, by=user),
    lambda: _("Applying the import."),
)
undo_import = _import_action(
    lambda catalog_import, user: csv_import.undo_import(catalog_import.pk, by=user),
    lambda: _("Undoing the import."),
)
cancel_import = _import_action(
    lambda catalog_import, user: csv_import.cancel_import(catalog_import.pk),
    lambda: _("Import cancelled: nothing was changed."),
)


@require_GET
@catalogue_view
def export(request: CatalogueRequest) -> StreamingHttpResponse:
    """Every product of the organization with its count in this store, as a file the import takes back."""
    count = StockLevel.objects.filter(store=request.store, product=OuterRef("pk")).values("on_hand")[:1]
    products = (
        Product.objects.filter(organization_id=request.store.organization_id)
        .annotate(count=Subquery(count))
        .order_by("sku")
        .values_list("sku", *PRODUCT_FIELDS, "count")
    )
    rows = _exported(products.iterator(chunk_size=2000))
    response = StreamingHttpResponse(export_rows(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="catalogue-{request.store.slug}.csv"'
    return response


def _exported(rows: Iterator[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    """In the columns' order: sku, name, price, currency (left empty), the rest, on_hand."""
    fields = ("sku", *PRODUCT_FIELDS, "on_hand")
    for row in rows:
        values = dict(zip(fields, row, strict=True)) | {"currency": ""}
        values["active"] = "yes" if values["active"] else "no"
        yield tuple("" if values[column.name] is None else values[column.name] for column in COLUMNS)


@require_GET
def columns_page(request: HttpRequest) -> HttpResponse:
    """The columns of a catalogue file, for people: public, like the schema."""
    return render(
        request,
        "catalog/columns.html",
        {"columns": COLUMNS, "product_columns": PRODUCT_COLUMNS, "schema_url": reverse("catalog:schema")},
    )


@require_GET
def schema(request: HttpRequest) -> JsonResponse:
    """The Table Schema of a catalogue file (https://specs.frictionlessdata.io/table-schema/), at a stable URL."""
    response = JsonResponse(table_schema(request.build_absolute_uri(reverse("catalog:schema"))))
    response["Access-Control-Allow-Origin"] = "*"  # public and the same for everyone: tools may fetch it anywhere
    response["Cache-Control"] = "public, max-age=3600"
    return response

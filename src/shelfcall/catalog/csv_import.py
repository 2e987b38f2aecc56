"""Catalogue imports from CSV files, for a store's admins: upload, check (the preview: what would be
created, changed and left alone, and every error by row and column), apply, cancel, undo.

Checking, applying and undoing read or write the whole file, so they run as jobs on the background
worker (background.py), which records their progress on the job row. Applying is one transaction that
checks the file again against the catalogue as it is then: a file with an error, or one whose effect
changed since its preview, applies nothing. What it replaced is kept on the import, written in the same
transaction, and undoing the last import of the store puts it back (new products are deleted, or
archived if orders or showcases use them by then). Products go through imports.py and counts through
stock.py like every other writer: a count never touches units held for orders.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from shelfcall.catalog.csvfiles import COLUMN_NAMES, ParsedFile, UnreadableFile, read_file
from shelfcall.catalog.errors import RowError, duplicates
from shelfcall.catalog.imports import (
    PRODUCT_FIELDS,
    ProductRow,
    StockRow,
    product_ids,
    product_problems,
    upsert_stock,
    write_products,
)
from shelfcall.catalog.models import CatalogImport, CatalogImportChunk, ImportState, Product, ShowcaseItem, StockLevel
from shelfcall.catalog.stock import set_on_hand_of_levels
from shelfcall.core import clock, jobs
from shelfcall.core.errors import ShelfcallError
from shelfcall.core.jobs import JobContext, JobStopped
from shelfcall.core.jobs.queue import describe
from shelfcall.orders.models import OrderLine
from shelfcall.stores.models import Store

CHUNK_BYTES = 1 << 20
MAX_UPLOAD_BYTES = 32 * 1024 * 1024  # about 400,000 rows of a full catalogue
MAX_KEPT_ERRORS = 1000  # a preview lists this many errors (and counts them all)
MAX_KEPT_CHANGES = 200
CHECK_JOB, APPLY_JOB, UNDO_JOB = "catalog.check_import", "catalog.apply_import", "catalog.undo_import"
_DELETE_BATCH = 500
RUNNING = (ImportState.CHECKING, ImportState.APPLYING, ImportState.UNDOING)


class ImportNotReady(ShelfcallError):
    code = "import_not_ready"
    status = 409


class FileTooLarge(ShelfcallError):
    code = "file_too_large"
    status = 413


def too_large_message() -> str:
    return _("The file is larger than %(limit)s MB: split it into several files of at most %(limit)s MB.") % {
        "limit": MAX_UPLOAD_BYTES // (1024 * 1024)
    }


def start_import(
    store: Store, *, by: User, filename: str, chunks: Iterable[bytes], may_change_products: bool
) -> CatalogImport:
    """Keep the uploaded file (a chunk at a time) and queue its check."""
    with transaction.atomic():
        catalog_import = CatalogImport.objects.create(
            organization_id=store.organization_id,
            store=store,
            requested_by=by,
            filename=filename[:255],
            may_change_products=may_change_products,
        )
        size = 0
        for position, chunk in enumerate(chunks):
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:
                raise FileTooLarge(too_large_message(), field="file")
            CatalogImportChunk.objects.create(catalog_import=catalog_import, position=position, data=chunk)
        catalog_import.size_bytes = size
        catalog_import.job = jobs.enqueue(CHECK_JOB, {"import": catalog_import.pk}, requested_by=by)
        catalog_import.save(update_fields=["size_bytes", "job"])
    return catalog_import


def apply_import(catalog_import_id: int, *, by: User) -> CatalogImport:
    """Queue the change a checked import previewed."""
    return _queue(catalog_import_id, by, ImportState.CHECKED, ImportState.APPLYING, APPLY_JOB)


def undo_import(catalog_import_id: int, *, by: User) -> CatalogImport:
    """Queue the undoing of the store's last applied import."""
    with transaction.atomic():
        catalog_import = CatalogImport.objects.select_for_update().get(pk=catalog_import_id)
        if not is_undoable(catalog_import):
            raise ImportNotReady(_("Only the last import applied to this store can be undone."))
        return _queue(catalog_import_id, by, ImportState.APPLIED, ImportState.UNDOING, UNDO_JOB)


def _queue(catalog_import_id: int, by: User, expected: ImportState, state: ImportState, kind: str) -> CatalogImport:
    with transaction.atomic():
        catalog_import = CatalogImport.objects.select_for_update().get(pk=catalog_import_id)
        if catalog_import.state != expected:
            raise ImportNotReady(
                _("This import is %(state)s: reload the page.") % {"state": catalog_import.get_state_display()}
            )
        catalog_import.state = state
        catalog_import.job = jobs.enqueue(kind, {"import": catalog_import.pk}, requested_by=by)
        catalog_import.save(update_fields=["state", "job"])
    return catalog_import


def cancel_import(catalog_import_id: int) -> CatalogImport:
    """Drop an import that was not applied (checking or checked); its file is deleted."""
    with transaction.atomic():
        catalog_import = CatalogImport.objects.select_for_update().get(pk=catalog_import_id)
        if catalog_import.state not in {ImportState.CHECKING, ImportState.CHECKED, ImportState.INVALID}:
            raise ImportNotReady(
                _("This import is %(state)s: only one not applied can be cancelled.")
                % {"state": catalog_import.get_state_display()}
            )
        if catalog_import.job_id is not None:
            jobs.cancel(catalog_import.job_id)
        catalog_import.state = ImportState.CANCELLED
        catalog_import.save(update_fields=["state"])
        catalog_import.chunks.all().delete()
    return catalog_import


def is_undoable(catalog_import: CatalogImport) -> bool:
    """Applied, and no later import of the store (or, if it changed products, of the organization) is applied."""
    if catalog_import.state != ImportState.APPLIED or catalog_import.applied_at is None:
        return False
    later = CatalogImport.objects.filter(applied_at__gt=catalog_import.applied_at).exclude(state=ImportState.UNDONE)
    scope = Q(store_id=catalog_import.store_id)
    if catalog_import.undo.get("products_before") or catalog_import.undo.get("products_created"):
        scope |= Q(organization_id=catalog_import.organization_id, may_change_products=True)
    return not later.filter(scope).exists()


def list_recent_imports(store: Store) -> QuerySet[CatalogImport]:
    return CatalogImport.objects.filter(store=store).select_related("requested_by").order_by("-created_at", "-pk")


# --- What a file would do: the plan, and the preview made of it --------------------------------------


@dataclass
class Plan:
    rows: int
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    created: list[ProductRow] = field(default_factory=list)
    changed: list[ProductRow] = field(default_factory=list)
    unchanged_products: int = 0
    # Products' values before the change, by SKU (PRODUCT_FIELDS order): what undo writes back.
    products_before: dict[str, list[Any]] = field(default_factory=dict)
    counts: list[tuple[int, StockRow]] = field(default_factory=list)
    counts_before: dict[str, int | None] = field(default_factory=dict)  # None: no stock level yet
    unchanged_counts: int = 0
    changes: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        created_levels = sum(before is None for before in self.counts_before.values())
        return {
            "rows": self.rows,
            "products": {
                "created": len(self.created),
                "changed": len(self.changed),
                "unchanged": self.unchanged_products,
            },
            "stock": {
                "created": created_levels,
                "changed": len(self.counts) - created_levels,
                "unchanged": self.unchanged_counts,
            },
        }

    def preview(self) -> dict[str, Any]:
        errors = sorted(self.errors, key=_in_file_order)
        return self.summary() | {
            "error_count": len(errors),
            "errors": [_shown(error) for error in errors[:MAX_KEPT_ERRORS]],
            "warning_count": len(self.warnings),
            "warnings": [_shown(warning) for warning in self.warnings[:MAX_KEPT_CHANGES]],
            "changes": self.changes[:MAX_KEPT_CHANGES],
        }


def _in_file_order(error: RowError) -> tuple[int, int]:
    """By row, then in the order of the columns (a row's own problem first)."""
    return error.index, COLUMN_NAMES.index(error.field) if error.field in COLUMN_NAMES else -1


def _shown(error: RowError) -> dict[str, Any]:
    return {"row": error.index, "column": error.field, "message": error.message}


def _as_text(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def plan_import(catalog_import: CatalogImport, parsed: ParsedFile) -> Plan:
    """What applying the file would do now, and why it cannot, row by row: a few statements for any size."""
    organization_id = catalog_import.organization_id
    plan = Plan(rows=parsed.rows, errors=list(parsed.errors))
    plan.errors += product_problems(organization_id, parsed.products)
    if not parsed.has_products:
        plan.errors += duplicates([(number, row.sku) for number, row in parsed.stock], "sku")
    skus = {row.sku for _number, row in parsed.products} | {row.sku for _number, row in parsed.stock}
    existing = _products(organization_id, skus)
    for number, product_row in parsed.products:
        _plan_product(plan, catalog_import, number, product_row, existing.get(product_row.sku))
    new_skus = {row.sku for row in plan.created}
    levels = _levels(catalog_import.store_id, [existing[sku][0] for sku in skus if sku in existing])
    for number, row in parsed.stock:
        product = existing.get(row.sku)
        if product is None and row.sku not in new_skus:
            plan.errors.append(RowError(number, "sku", "unknown_sku", _unknown_sku_message(parsed)))
            continue
        on_hand, reserved = levels.get(product[0], (None, 0)) if product else (None, 0)
        if on_hand == row.on_hand:
            plan.unchanged_counts += 1
            continue
        plan.counts.append((number, row))
        plan.counts_before[row.sku] = on_hand
        _note(plan, number, row.sku, "on_hand", on_hand, row.on_hand)
        if row.on_hand < reserved:
            plan.warnings.append(
                RowError(
                    number,
                    "on_hand",
                    "oversold",
                    _("Open orders hold %(reserved)s units of %(sku)s, more than %(count)s: some cannot be filled.")
                    % {"reserved": reserved, "sku": row.sku, "count": row.on_hand},
                )
            )
    return plan


def _unknown_sku_message(parsed: ParsedFile) -> str:
    if parsed.has_products:
        return _("No product has this SKU and the row does not create it: see its other errors.")
    return _("No product has this SKU: add name and price columns to create it, or correct the SKU.")


def _plan_product(
    plan: Plan, catalog_import: CatalogImport, number: int, row: ProductRow, product: tuple[int, list[Any]] | None
) -> None:
    sent = [name for name in PRODUCT_FIELDS if name in row.model_fields_set]
    if product is None:
        plan.created.append(row)
        _note(plan, number, row.sku, "", None, row.name)
        differs = ["sku"]
    else:
        before = dict(zip(PRODUCT_FIELDS, product[1], strict=True))
        differs = [name for name in sent if before[name] != getattr(row, name)]
        if not differs:
            plan.unchanged_products += 1
            return
        plan.changed.append(row)
        plan.products_before[row.sku] = [_as_text(value) for value in product[1]]  # JSON, for the undo
        for name in differs:
            _note(plan, number, row.sku, name, before[name], getattr(row, name))
    if not catalog_import.may_change_products:
        plan.errors += [
            RowError(
                number,
                name,
                "organization_admin_only",
                _(
                    "Products belong to the whole organization: only its organization admins create or change "
                    "them. Leave this column out (a file of sku and on_hand sets this store's counts), or ask one."
                ),
            )
            for name in differs[:1]
        ]


def _note(plan: Plan, number: int, sku: str, column: str, before: object, after: object) -> None:
    if len(plan.changes) < MAX_KEPT_CHANGES:
        plan.changes.append(
            {
                "row": number,
                "sku": sku,
                "column": column,
                "before": None if before is None else _as_text(before),
                "after": _as_text(after),
            }
        )


def _products(organization_id: int, skus: set[str]) -> dict[str, tuple[int, list[Any]]]:
    """The organization's products among `skus`: (id, values of PRODUCT_FIELDS), by SKU."""
    products = Product.objects.filter(organization_id=organization_id)
    if len(skus) <= 2000:
        products = products.filter(sku__in=skus)
    rows = products.values_list("sku", "pk", *PRODUCT_FIELDS).iterator(chunk_size=10_000)
    return {sku: (pk, list(values)) for sku, pk, *values in rows if sku in skus}


def _levels(store_id: int, product_ids: list[int]) -> dict[int, tuple[int, int]]:
    """(on hand, reserved) of the store's levels of these products."""
    levels = StockLevel.objects.filter(store_id=store_id)
    if len(product_ids) <= 2000:
        levels = levels.filter(product_id__in=product_ids)
    wanted = set(product_ids)
    rows = levels.values_list("product_id", "on_hand", "reserved").iterator(chunk_size=10_000)
    return {product: (on_hand, reserved) for product, on_hand, reserved in rows if product in wanted}


# --- The jobs ------------------------------------------------------------------------------------------


def _file(catalog_import: CatalogImport) -> Iterator[bytes]:
    """The uploaded file, a chunk (one statement) at a time."""
    positions = catalog_import.chunks.order_by("position").values_list("pk", flat=True)
    for pk in list(positions):
        yield bytes(CatalogImportChunk.objects.values_list("data", flat=True).get(pk=pk))


def _read(catalog_import: CatalogImport, context: JobContext | None) -> ParsedFile:
    done = 0

    def on_read(size: int) -> None:
        nonlocal done
        done += size
        if context is not None:
            context.progress(done, catalog_import.size_bytes)

    return read_file(_file(catalog_import), on_read=on_read)


def check_import(catalog_import_id: int, context: JobContext | None = None) -> dict[str, Any]:
    """The preview of an uploaded file (the check job's work)."""
    catalog_import = CatalogImport.objects.get(pk=catalog_import_id)
    try:
        plan = plan_import(catalog_import, _read(catalog_import, context))
    except UnreadableFile as unreadable:
        preview = _unreadable(unreadable)
    else:
        preview = plan.preview()
    state = ImportState.INVALID if preview["error_count"] else ImportState.CHECKED
    CatalogImport.objects.filter(pk=catalog_import_id, state=ImportState.CHECKING).update(state=state, preview=preview)
    return {"state": state, "errors": preview["error_count"]}


def _unreadable(error: UnreadableFile) -> dict[str, Any]:
    """The preview of a file that cannot be read at all: its one error, for no row."""
    return {"error_count": 1, "errors": [{"row": None, "column": None, "message": str(error)}]}


def run_apply(catalog_import_id: int, context: JobContext | None = None) -> dict[str, Any]:
    """Apply a checked import in one transaction (the apply job's work), or, if the file no longer
    applies as previewed, apply nothing and show the new preview."""
    catalog_import = CatalogImport.objects.get(pk=catalog_import_id)
    try:
        parsed = _read(catalog_import, context)
    except UnreadableFile as unreadable:  # it was readable when checked: only a changed file would do this
        return _back_to_preview(catalog_import, _unreadable(unreadable))
    with transaction.atomic():
        locked = CatalogImport.objects.select_for_update().get(pk=catalog_import_id)
        if locked.state != ImportState.APPLYING:
            return {"state": locked.state}
        plan = plan_import(locked, parsed)
        if plan.errors or plan.summary() != {key: locked.preview.get(key) for key in plan.summary()}:
            return _back_to_preview(locked, plan.preview())
        ids = write_products(locked.organization_id, [*plan.created, *plan.changed])
        upsert_stock(locked.organization_id, plan.counts, only_store_id=locked.store_id)
        locked.undo = {
            "products_created": [ids[row.sku] for row in plan.created],
            "products_before": [[sku, *values] for sku, values in plan.products_before.items()],
            "counts_before": [[sku, before] for sku, before in plan.counts_before.items()],
        }
        locked.state, locked.applied_at, locked.preview = ImportState.APPLIED, clock.now(), plan.preview()
        locked.save(update_fields=["undo", "state", "applied_at", "preview"])
        locked.chunks.all().delete()
    return {"state": ImportState.APPLIED} | plan.summary()


def _back_to_preview(catalog_import: CatalogImport, preview: dict[str, Any]) -> dict[str, Any]:
    state = ImportState.INVALID if preview["error_count"] else ImportState.CHECKED
    preview["changed_since"] = True
    CatalogImport.objects.filter(pk=catalog_import.pk, state=ImportState.APPLYING).update(state=state, preview=preview)
    return {"state": state}


def run_undo(catalog_import_id: int, context: JobContext | None = None) -> dict[str, Any]:
    """Put back what an applied import replaced, in one transaction (the undo job's work)."""
    with transaction.atomic():
        locked = CatalogImport.objects.select_for_update().get(pk=catalog_import_id)
        if locked.state != ImportState.UNDOING:
            return {"state": locked.state}
        undo = locked.undo
        restored = [
            ProductRow.model_construct(set(PRODUCT_FIELDS), sku=sku, **_product_values(values))
            for sku, *values in undo["products_before"]
        ]
        write_products(locked.organization_id, restored)
        deleted, archived = _remove_products(undo["products_created"])
        ids = product_ids(locked.organization_id, [sku for sku, _before in undo["counts_before"]])
        set_on_hand_of_levels(
            StockLevel(store_id=locked.store_id, product_id=ids[sku], on_hand=before or 0)
            for sku, before in undo["counts_before"]
            if sku in ids
        )
        locked.state, locked.undone_at = ImportState.UNDONE, clock.now()
        locked.undo = undo | {"deleted": deleted, "archived": archived}
        locked.save(update_fields=["state", "undone_at", "undo"])
    if context is not None:
        context.progress(1, 1)
    return {"state": ImportState.UNDONE, "restored": len(restored), "deleted": deleted, "archived": archived}


def _product_values(values: list[Any]) -> dict[str, Any]:
    product = dict(zip(PRODUCT_FIELDS, values, strict=True))
    product["active"], product["price"] = product["active"] == "yes", Decimal(product["price"])
    return product


def _remove_products(product_ids: list[int]) -> tuple[int, int]:
    """Products the import created: deleted, or archived (inactive) where an order or a showcase uses them."""
    used: set[int] = set()
    deleted = 0
    for start in range(0, len(product_ids), _DELETE_BATCH):
        batch = product_ids[start : start + _DELETE_BATCH]
        in_use = set(OrderLine.objects.filter(product_id__in=batch).values_list("product_id", flat=True))
        in_use |= set(ShowcaseItem.objects.filter(product_id__in=batch).values_list("product_id", flat=True))
        Product.objects.filter(pk__in=in_use).update(active=False)
        deleted += Product.objects.filter(pk__in=set(batch) - in_use).delete()[1].get(Product._meta.label, 0)
        used |= in_use
    return deleted, len(used)


def on_job(work: Callable[[int, JobContext | None], dict[str, Any]]) -> Callable[[JobContext], dict[str, Any]]:
    """The job handler running `work` on the import named in the job's parameters."""

    def handler(context: JobContext) -> dict[str, Any]:
        catalog_import_id = int(context.params["import"])
        try:
            return work(catalog_import_id, context)
        except JobStopped:
            raise
        except Exception as error:  # the transaction rolled back: nothing was changed
            CatalogImport.objects.filter(pk=catalog_import_id, state__in=RUNNING).update(
                state=ImportState.FAILED, error=describe(error)
            )
            raise

    return handler

"""CSV imports of the catalogue: the preview, applying in one transaction, undoing, and every kind of bad file."""

import codecs
from decimal import Decimal

import pytest

from shelfcall.catalog import csv_import
from shelfcall.catalog.models import CatalogImport, ImportState, Product, StockLevel
from shelfcall.core.jobs import queue
from shelfcall.core.jobs.models import Job, JobState
from shelfcall.stores.models import Role
from tests.factories import make_product, make_showcase, make_store, make_user, stock_of, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return make_store(name="Hardware Hall")


@pytest.fixture
def drill(store):
    return make_product(store, sku="DRL-18", name="Cordless drill", price="99.00", on_hand=9, colour="Blue")


@pytest.fixture
def admin(store):
    return make_user(store, name="Olga", role=Role.ORG_ADMIN)


def uploaded(store, user, content: str | bytes, *, may_change_products: bool = True) -> CatalogImport:
    """The file uploaded and checked by the worker, as the pages do it."""
    data = content.encode() if isinstance(content, str) else content
    chunks = [data[start : start + 7] for start in range(0, len(data), 7)]  # pieces split mid-character
    started = csv_import.start_import(
        store, by=user, filename="catalogue.csv", chunks=chunks, may_change_products=may_change_products
    )
    run_jobs()
    return CatalogImport.objects.get(pk=started.pk)


def run_jobs() -> None:
    while queue.run_next():
        pass


def applied(catalog_import: CatalogImport, user) -> CatalogImport:
    csv_import.apply_import(catalog_import.pk, by=user)
    run_jobs()
    return CatalogImport.objects.get(pk=catalog_import.pk)


def errors_of(catalog_import: CatalogImport) -> list[tuple[int | None, str | None, str]]:
    return [(error["row"], error["column"], error["message"]) for error in catalog_import.preview["errors"]]


FILE = (
    "sku,name,price,colour,active,on_hand\r\n"
    "DRL-18,Cordless drill,109.00,Blue,yes,12\r\n"
    "SAW-1,Jigsaw,45.50,,yes,3\r\n"
    '"GLV-2","Gloves, size M",4.00,Grey,no,\r\n'
)


class TestPreview:
    def test_says_what_is_created_changed_and_left_alone(self, store, drill, admin):
        make_product(store, sku="TAPE", name="Tape", price="2.00")
        catalog_import = uploaded(store, admin, FILE + "TAPE,Tape,2.00,,yes,5\r\n")
        assert catalog_import.state == ImportState.CHECKED
        preview = catalog_import.preview
        assert preview["products"] == {"created": 2, "changed": 1, "unchanged": 1}
        assert preview["stock"] == {"created": 1, "changed": 1, "unchanged": 1}
        assert {"row": 2, "sku": "DRL-18", "column": "price", "before": "99.00", "after": "109.00"} in preview[
            "changes"
        ]
        assert {"row": 2, "sku": "DRL-18", "column": "on_hand", "before": "9", "after": "12"} in preview["changes"]
        assert preview["error_count"] == 0
        assert not Product.objects.filter(sku="SAW-1").exists(), "a preview writes nothing"
        assert stock_of(drill, store).on_hand == 9

    def test_progress_is_recorded_on_the_job(self, store, admin):
        catalog_import = uploaded(store, admin, FILE)
        job = Job.objects.get(pk=catalog_import.job_id)
        assert job.state == JobState.DONE
        assert job.done == job.total == catalog_import.size_bytes == len(FILE.encode())

    def test_a_count_below_what_orders_hold_is_a_warning(self, store, drill, admin):
        submit(make_showcase(store, products=[drill]), {drill: 3})
        catalog_import = uploaded(store, admin, "sku,on_hand\nDRL-18,2\n")
        assert catalog_import.state == ImportState.CHECKED
        assert catalog_import.preview["warnings"][0]["row"] == 2
        assert "hold 3 units" in catalog_import.preview["warnings"][0]["message"]


class TestApplyAndUndo:
    def test_applies_everything_then_undo_puts_it_back(self, store, drill, admin):
        catalog_import = applied(uploaded(store, admin, FILE), admin)
        assert catalog_import.state == ImportState.APPLIED
        drill.refresh_from_db()
        assert drill.price == Decimal("109.00")
        assert stock_of(drill, store).on_hand == 12
        gloves = Product.objects.get(sku="GLV-2")
        assert (gloves.name, gloves.active, gloves.colour) == ("Gloves, size M", False, "Grey")
        assert not StockLevel.objects.filter(product=gloves).exists(), "an empty count is left alone"
        assert not catalog_import.chunks.exists()

        assert csv_import.is_undoable(catalog_import)
        csv_import.undo_import(catalog_import.pk, by=admin)
        run_jobs()
        catalog_import.refresh_from_db()
        assert catalog_import.state == ImportState.UNDONE
        drill.refresh_from_db()
        assert (drill.price, drill.colour, drill.active) == (Decimal("99.00"), "Blue", True)
        assert stock_of(drill, store).on_hand == 9
        assert not Product.objects.filter(sku__in=["SAW-1", "GLV-2"]).exists()

    def test_counts_never_touch_units_held_for_orders(self, store, drill, admin):
        submit(make_showcase(store, products=[drill]), {drill: 2})
        applied(uploaded(store, admin, "sku,on_hand\nDRL-18,20\n"), admin)
        level = stock_of(drill, store)
        assert (level.on_hand, level.reserved) == (20, 2)

    def test_undo_keeps_a_new_product_an_order_uses_archived(self, store, admin):
        catalog_import = applied(uploaded(store, admin, "sku,name,price,on_hand\nNEW-1,Lamp,20.00,4\n"), admin)
        lamp = Product.objects.get(sku="NEW-1")
        submit(make_showcase(store, products=[lamp]))
        csv_import.undo_import(catalog_import.pk, by=admin)
        run_jobs()
        lamp.refresh_from_db()
        assert not lamp.active
        assert stock_of(lamp, store).reserved == 1

    def test_only_the_last_import_of_the_store_can_be_undone(self, store, drill, admin):
        first = applied(uploaded(store, admin, "sku,on_hand\nDRL-18,1\n"), admin)
        second = applied(uploaded(store, admin, "sku,on_hand\nDRL-18,2\n"), admin)
        assert not csv_import.is_undoable(first)
        with pytest.raises(csv_import.ImportNotReady):
            csv_import.undo_import(first.pk, by=admin)
        csv_import.undo_import(second.pk, by=admin)
        run_jobs()
        assert stock_of(drill, store).on_hand == 1
        assert csv_import.is_undoable(CatalogImport.objects.get(pk=first.pk))

    def test_a_catalogue_changed_since_the_preview_applies_nothing(self, store, drill, admin):
        catalog_import = uploaded(store, admin, "sku,name,price\nDRL-18,Drill,99.00\nNEW-1,Lamp,20.00\n")
        Product.objects.create(organization=store.organization, sku="NEW-1", name="Lamp", price=Decimal("20.00"))
        catalog_import = applied(catalog_import, admin)
        assert catalog_import.state == ImportState.CHECKED
        assert catalog_import.preview["changed_since"]
        assert catalog_import.preview["products"]["created"] == 0
        assert Product.objects.get(sku="DRL-18").name == "Cordless drill"

    def test_cancel_drops_the_file(self, store, admin):
        catalog_import = uploaded(store, admin, FILE)
        csv_import.cancel_import(catalog_import.pk)
        catalog_import.refresh_from_db()
        assert catalog_import.state == ImportState.CANCELLED
        assert not catalog_import.chunks.exists()
        with pytest.raises(csv_import.ImportNotReady):
            csv_import.apply_import(catalog_import.pk, by=admin)


def refused(store, user, content: str | bytes, **options) -> list[tuple[int | None, str | None, str]]:
    """The errors of a file that must not apply; and nothing written."""
    products = list(Product.objects.values_list("sku", "name", "price").order_by("sku"))
    catalog_import = uploaded(store, user, content, **options)
    assert catalog_import.state == ImportState.INVALID
    with pytest.raises(csv_import.ImportNotReady):
        csv_import.apply_import(catalog_import.pk, by=user)
    assert list(Product.objects.values_list("sku", "name", "price").order_by("sku")) == products
    return errors_of(catalog_import)


class TestBadFiles:
    def test_unknown_columns_are_named_with_a_suggestion(self, store, admin):
        [(row, column, message)] = refused(store, admin, "sku,nmae,price\nA,Drill,1.00\n")
        assert row is None and column is None
        assert "unknown columns nmae (did you mean name?)" in message

    def test_missing_columns_are_named(self, store, admin):
        [(_row, _column, message)] = refused(store, admin, "sku,name\nA,Drill\n")
        assert "missing column price" in message
        [(_row, _column, message)] = refused(store, admin, "name,on_hand\nDrill,3\n")
        assert "missing column sku" in message

    def test_a_row_with_too_many_cells(self, store, admin):
        assert refused(store, admin, "sku,on_hand\nA,3,4\n")[0][:2] == (2, None)

    def test_latin_1_is_refused_naming_the_line_and_the_fix(self, store, admin):
        content = "sku,name,price\nA,Perceuse,1.00\nB,Scie sauteuse électrique,2.00\n".encode("latin-1")
        [(_row, _column, message)] = refused(store, admin, content)
        assert "Line 3 is not UTF-8" in message and "CSV UTF-8" in message

    def test_utf8_with_a_byte_order_mark_is_read(self, store, admin):
        content = codecs.BOM_UTF8 + "sku,name,price\nA,Scie électrique,2.00\n".encode()
        catalog_import = applied(uploaded(store, admin, content), admin)
        assert catalog_import.state == ImportState.APPLIED
        assert Product.objects.get(sku="A").name == "Scie électrique"

    def test_utf16_with_its_byte_order_mark_is_read(self, store, admin):
        content = "sku,name,price\r\nA,전동 드릴,2.00\r\n".encode("utf-16")
        applied(uploaded(store, admin, content), admin)
        assert Product.objects.get(sku="A").name == "전동 드릴"

    def test_utf16_without_its_mark_is_refused(self, store, admin):
        [(_row, _column, message)] = refused(store, admin, "sku,name,price\nA,B,2.00\n".encode("utf-16-le"))
        assert "UTF-16" in message

    def test_semicolons_are_refused_with_the_fix(self, store, admin):
        [(_row, _column, message)] = refused(store, admin, "sku;name;price\nA;Drill;1,50\n")
        assert "separated by semicolons" in message and "comma" in message

    def test_duplicate_skus(self, store, admin):
        errors = refused(store, admin, "sku,name,price\nA,Drill,1.00\nB,Saw,2.00\nA,Drill again,3.00\n")
        assert errors == [(4, "sku", "Same as row 2: send each once.")]

    def test_duplicate_skus_of_a_stock_file(self, store, drill, admin):
        assert refused(store, admin, "sku,on_hand\nDRL-18,1\nDRL-18,2\n") == [
            (3, "sku", "Same as row 2: send each once.")
        ]

    def test_negative_and_odd_counts(self, store, drill, admin):
        errors = refused(store, admin, "sku,on_hand\nDRL-18,-4\nDRL-18,2.5\n")
        assert [(row, column) for row, column, _message in errors] == [(2, "on_hand"), (3, "on_hand")]
        assert "negative" in errors[0][2] and "whole number" in errors[1][2]

    def test_a_comma_decimal_price_names_the_fix(self, store, admin):
        errors = refused(store, admin, 'sku,name,price\nA,Drill,"12,50"\nB,Saw,1e3\n')
        assert errors[0] == (2, "price", '"12,50" has a decimal comma: write 12.50, with a point.')
        assert errors[1][:2] == (3, "price")

    def test_a_count_of_thousands_of_digits_names_its_row(self, store, admin):
        """int() refuses more than 4300 digits (a ValueError, which failed the whole check)."""
        for sku in ("A", "B", "C"):
            make_product(store, sku=sku)
        many = "9" * 5000
        errors = refused(store, admin, f"sku,on_hand\nA,{many}\nB,-{many}\nC,{'0' * 5000}7\n")
        assert [(row, column) for row, column, _message in errors] == [(2, "on_hand"), (3, "on_hand")]
        assert errors[0][2] == f"{'9' * 20}… is more than 1000000000 units."
        assert "negative" in errors[1][2]

    def test_a_count_with_leading_zeros_or_a_plus_is_the_same_number(self, store, drill, admin):
        catalog_import = applied(uploaded(store, admin, "sku,on_hand\nDRL-18,+0012\n"), admin)
        assert catalog_import.state == ImportState.APPLIED
        assert stock_of(drill, store).on_hand == 12

    @pytest.mark.parametrize(
        "price", ["1e999999", "NaN", "Infinity", "-Infinity", "9" * 5000, "0." + "1" * 5000, "١٢.50", "-1"]
    )
    def test_a_price_no_till_can_hold_names_its_row(self, store, admin, price):
        [(row, column, message)] = refused(store, admin, f"sku,name,price\nA,Drill,{price}\n")
        assert (row, column) == (2, "price")
        assert "decimal string" in message

    def test_an_unknown_sku_of_a_stock_file(self, store, admin):
        [(row, column, message)] = refused(store, admin, "sku,on_hand\nNOPE,1\n")
        assert (row, column) == (2, "sku") and "add name and price columns" in message

    def test_errors_of_every_row_are_listed_together(self, store, admin):
        rows = "".join(f"S{n},,{n}.00,yes\n" if n % 2 else f"S{n},Name,x,maybe\n" for n in range(6))
        errors = refused(store, admin, "sku,name,price,active\n" + rows)
        assert {(row, column) for row, column, _message in errors} == {
            (2, "price"),
            (2, "active"),
            (3, "name"),
            (4, "price"),
            (4, "active"),
            (5, "name"),
            (6, "price"),
            (6, "active"),
            (7, "name"),
        }

    def test_an_empty_file(self, store, admin):
        assert "empty" in refused(store, admin, "")[0][2]

    def test_a_store_admin_sets_counts_but_does_not_change_products(self, store, drill):
        store_admin = make_user(store, name="Sam", role=Role.STORE_ADMIN)
        errors = refused(
            store, store_admin, "sku,name,price,on_hand\nDRL-18,Drill,99.00,4\n", may_change_products=False
        )
        assert errors[0][:2] == (2, "name") and "organization admins" in errors[0][2]
        catalog_import = applied(
            uploaded(
                store, store_admin, "sku,name,price,on_hand\nDRL-18,Cordless drill,99.00,4\n", may_change_products=False
            ),
            store_admin,
        )
        assert catalog_import.state == ImportState.APPLIED, "the same values are no change"
        assert stock_of(drill, store).on_hand == 4


def test_a_job_that_fails_marks_its_import_failed_and_changes_nothing(store, drill, admin, monkeypatch):
    catalog_import = uploaded(store, admin, "sku,on_hand\nDRL-18,1\n")

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(csv_import, "upsert_stock", broken)
    catalog_import = applied(catalog_import, admin)
    assert catalog_import.state == ImportState.FAILED
    assert "disk on fire" in catalog_import.error
    assert Job.objects.get(pk=catalog_import.job_id).state == JobState.FAILED
    assert stock_of(drill, store).on_hand == 9

"""Printed order documents for head office: pick lists (grouped by store, then by where the items stand)
and receipt copies (one per order), each in its store's language, currency and time zone.

Each order carries a Code 128 of its barcode value, the one the status page shows, so a printed list is
scanned at the hand-off like the shopper's phone.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import groupby

from django.conf import settings
from django.db.models import Prefetch
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from fpdf import FPDF

from shelfcall.core import clock
from shelfcall.core.money import format_money
from shelfcall.orders.models import Order, OrderLine, Payment
from shelfcall.printing.codes import draw_code128
from shelfcall.printing.document import finish, new_document
from shelfcall.printing.fonts import MONO, SANS
from shelfcall.printing.pages import A4
from shelfcall.printing.text import ellipsize
from shelfcall.stores.models import Store

MARGIN = 15.0
ROW = 6.5  # mm per table row at FONT_SIZE
FONT_SIZE = 10
BARCODE_ROW = 20.0


def orders_for_printing(order_ids: Iterable[int]) -> list[Order]:
    """The orders with their store, lines (and products) and payments, by store then number: three statements."""
    lines = Prefetch("lines", queryset=OrderLine.objects.select_related("product").order_by("pk"))
    payments = Prefetch("payments", queryset=Payment.objects.order_by("pk"))
    return list(
        Order.objects.filter(pk__in=list(order_ids))
        .select_related("store")
        .prefetch_related(lines, payments)
        .order_by("store__name", "store_id", "number")
    )


@dataclass(frozen=True)
class Column:
    width: float
    align: str = "L"
    family: str = SANS


class Sheet:
    """An A4 document written top to bottom: headings, table rows and barcodes, a new page when full."""

    def __init__(self, title: str) -> None:
        self.pdf: FPDF = new_document(A4, title=title)
        self.y = A4.height  # no page yet: the first write starts one
        self.continued = ""

    @property
    def width(self) -> float:
        return A4.width - 2 * MARGIN

    def new_page(self, heading: str = "") -> None:
        self.pdf.add_page()
        self.y = MARGIN
        if heading:
            self.continued = heading
            self.text(heading, size=16, bold=True)

    def _room(self, height: float) -> None:
        if self.y + height > A4.height - MARGIN:
            self.new_page()
            if self.continued:
                self.text(_("%(heading)s (continued)") % {"heading": self.continued}, size=11, bold=True)

    def text(self, text: str, *, size: float = FONT_SIZE, bold: bool = False) -> None:
        height = size * 0.5
        self._room(height + 1)
        self.pdf.set_font(SANS, "B" if bold else "", size)
        self.pdf.set_xy(MARGIN, self.y)
        self.pdf.cell(self.width, height, ellipsize(self.pdf, text, self.width))
        self.y += height + 1.5

    def row(self, columns: Sequence[Column], cells: Sequence[str], *, bold: bool = False) -> None:
        self._room(ROW)
        x = MARGIN
        for column, cell in zip(columns, cells, strict=True):
            self.pdf.set_font(SANS if bold else column.family, "B" if bold else "", FONT_SIZE)  # no bold monospace
            self.pdf.set_xy(x, self.y)
            self.pdf.cell(column.width - 2, ROW, ellipsize(self.pdf, cell, column.width - 2), align=column.align)
            x += column.width
        self.y += ROW

    def rule(self) -> None:
        self.pdf.line(MARGIN, self.y + 0.5, MARGIN + self.width, self.y + 0.5)
        self.y += 2

    def barcode(self, order: Order, caption: str) -> None:
        """The order's Code 128 with its number under it, and `caption` beside it."""
        self._room(BARCODE_ROW)
        draw_code128(self.pdf, order.barcode_value, x=MARGIN, y=self.y, width=60, height=12)
        self.pdf.set_font(MONO, "", 9)
        self.pdf.set_xy(MARGIN, self.y + 12.5)
        self.pdf.cell(60, 4, order.barcode_value, align="C")
        self.pdf.set_font(SANS, "", FONT_SIZE)
        self.pdf.set_xy(MARGIN + 65, self.y + 3)
        self.pdf.cell(self.width - 65, 6, ellipsize(self.pdf, caption, self.width - 65))
        self.y += BARCODE_ROW

    def pdf_bytes(self) -> bytes:
        if self.y == A4.height:  # nothing was written: still one page, saying so
            self.new_page()
            self.text(_("Nothing to print."))
        return finish(self.pdf)


# --- Pick lists ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PickRow:
    location: str
    order: Order
    line: OrderLine

    @property
    def sort_key(self) -> tuple[bool, str, str, int]:
        return (not self.location, self.location.casefold(), self.line.name.casefold(), self.order.number)


PICK_COLUMNS = (Column(14, "R"), Column(92), Column(42, family=MONO), Column(32, "R"))


def pick_rows(orders: Sequence[Order]) -> list[PickRow]:
    """What is still to pick of each line, sorted by where it stands (unplaced items last), then by name."""
    rows = [
        PickRow(line.product.location_hint.strip(), order, line)
        for order in orders
        for line in order.lines.all()
        if line.open_qty > 0
    ]
    return sorted(rows, key=lambda row: row.sort_key)


def _store_heading(store: Store) -> str:
    with timezone.override(store.timezone):
        printed = date_format(timezone.localtime(clock.now()), "SHORT_DATETIME_FORMAT")
    return _("Pick list · %(store)s · %(time)s") % {"store": store.name, "time": printed}


def _pick_store(sheet: Sheet, store: Store, orders: list[Order]) -> None:
    sheet.new_page(_store_heading(store))
    rows = pick_rows(orders)
    if not rows:
        sheet.text(_("Everything on these orders is picked already."))
    for location, placed in groupby(rows, key=lambda row: row.location):
        sheet.text(location or _("No location given"), size=11, bold=True)
        sheet.row(PICK_COLUMNS, [_("Qty"), _("Item"), _("SKU"), _("Order")], bold=True)
        for row in placed:
            sheet.row(PICK_COLUMNS, [str(row.line.open_qty), _item(row.line), row.line.sku, f"#{row.order.number}"])
        sheet.rule()
    sheet.text(_("Orders on this list"), size=11, bold=True)
    for order in orders:
        sheet.barcode(order, _order_caption(order))


def _item(line: OrderLine) -> str:
    return f"{line.name} · {line.variant}" if line.variant else line.name


def _order_caption(order: Order) -> str:
    parts = [_("Order %(number)s") % {"number": order.number}, order.shopper_name, order.get_status_display()]
    return " · ".join(part for part in parts if part)


def pick_list_pdf(orders: Sequence[Order]) -> bytes:
    """One PDF for the whole selection: each store on pages of its own, in the language its staff read,
    its items grouped by location."""
    sheet = Sheet("Pick list")
    for _store_id, of_store in groupby(orders, key=lambda order: order.store_id):
        store_orders = list(of_store)
        store = store_orders[0].store
        with translation.override(store.language):
            _pick_store(sheet, store, store_orders)
    with translation.override(settings.LANGUAGE_CODE):
        return sheet.pdf_bytes()


# --- Receipt copies --------------------------------------------------------------------------------

RECEIPT_COLUMNS = (Column(14, "R"), Column(98), Column(34, "R"), Column(34, "R"))


def _receipt(sheet: Sheet, order: Order) -> None:
    store, language = order.store, translation.get_language()

    def money(amount: Decimal) -> str:
        return format_money(amount, order.currency, language)

    sheet.new_page(_("Receipt copy · Order %(number)s") % {"number": order.number})
    sheet.text(store.name, size=12, bold=True)
    for address_line in store.address.splitlines():
        sheet.text(address_line)
    with timezone.override(store.timezone):
        sheet.text(
            _("Ordered %(time)s") % {"time": date_format(timezone.localtime(order.created_at), "DATETIME_FORMAT")}
        )
    if order.shopper_name:
        sheet.text(_("For %(name)s") % {"name": order.shopper_name})
    sheet.rule()
    sheet.row(RECEIPT_COLUMNS, [_("Qty"), _("Item"), _("Unit price"), _("Amount")], bold=True)
    for line in order.lines.all():
        name = f"{line.name} · {line.variant}" if line.variant else line.name
        if line.wanted_qty < line.requested_qty:
            name = _("%(name)s (%(count)s not supplied)") % {
                "name": name,
                "count": line.requested_qty - line.wanted_qty,
            }
        sheet.row(RECEIPT_COLUMNS, [str(line.wanted_qty), name, money(line.unit_price), money(line.line_total)])
    sheet.rule()
    sheet.row(RECEIPT_COLUMNS, ["", _("Total"), "", money(order.total_amount)], bold=True)
    sums = [
        (_("Paid"), order.paid_amount),
        (_("Refunded"), order.refunded_amount),
        (_("Still to pay"), order.owed_amount),
        (_("Refund due"), order.refund_due_amount),
    ]
    for label, amount in sums:
        if amount or label == _("Paid"):
            sheet.row(RECEIPT_COLUMNS, ["", label, "", money(amount)])
    for payment in order.payments.all():
        what = f"{payment.get_kind_display()} · {payment.get_method_display()}"
        sheet.row(RECEIPT_COLUMNS, ["", f"{what} {payment.reference}".strip(), "", money(payment.amount)])
    sheet.rule()
    sheet.barcode(order, order.get_payment_status_display())


def receipts_pdf(orders: Sequence[Order]) -> bytes:
    """One page (or more) per order, each in its store's language and currency."""
    sheet = Sheet("Receipts")
    for order in orders:
        with translation.override(order.store.language):
            _receipt(sheet, order)
    with translation.override(settings.LANGUAGE_CODE):
        return sheet.pdf_bytes()

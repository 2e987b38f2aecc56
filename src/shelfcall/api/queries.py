"""Reads for the API, always through the key: a key reaches only its organization's or its store's rows."""

from collections.abc import Callable
from datetime import datetime

from django.db.models import FilteredRelation, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from shelfcall.api import cursors
from shelfcall.api.errors import InvalidInput, NotFound
from shelfcall.api.models import ApiKey
from shelfcall.orders.actions import Reach, keep_lines, order_of_lines, with_action_relations
from shelfcall.orders.compiled import CompiledList, is_row_id
from shelfcall.orders.models import Order, OrderEvent, OrderLine, Payment, ReservationEntry, read_order_code
from shelfcall.orders.queries import phone_key
from shelfcall.stores.models import DropZone, Store


def stores_of(api_key: ApiKey) -> QuerySet[Store]:
    stores = Store.objects.select_related("organization").filter(organization_id=api_key.organization_id)
    if api_key.store_id is not None:
        stores = stores.filter(pk=api_key.store_id)
    return stores.order_by("name", "pk")


def reach_of(api_key: ApiKey) -> Reach:
    """The orders the key reaches: a store key its store's and those it took for pick-up at another store,
    an organization key all of its organization's. For every read and write of an order through a key."""
    return Reach(api_key.organization_id, api_key.store_id)


def reached(api_key: ApiKey, via: str = "") -> Q:
    """`reach_of(api_key)` as a filter, for a queryset that gets to the order through `via` (e.g. "order__")."""
    return reach_of(api_key).orders(via)


def _latest_event_id(order_id: OuterRef) -> Subquery:
    return Subquery(OrderEvent.objects.filter(order_id=order_id).order_by("-pk").values("pk")[:1])


def orders_of(api_key: ApiKey) -> QuerySet[Order]:
    """Orders with their lines and version: two statements for any number of orders and lines.

    `version` is the id of the order's latest event (orders/actions/lines.py), by the event index."""
    return (
        Order.objects.filter(reached(api_key))
        .select_related("sub_status")
        .annotate(version=Coalesce(_latest_event_id(OuterRef("pk")), 0))
        .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("pk")))
        .order_by("updated_at", "pk")
    )


def _lines_with_their_order(api_key: ApiKey, **order_filters: object) -> QuerySet[OrderLine]:
    on_the_order = {f"order__{name}": value for name, value in order_filters.items()}
    return (
        with_action_relations(OrderLine.objects.filter(reached(api_key, via="order__"), **on_the_order), via="order__")
        .select_related("order__sub_status")
        .annotate(order_version=Coalesce(_latest_event_id(OuterRef("order_id")), 0))
        .order_by("pk")
    )


def _lines_at_a_drop_zone(api_key: ApiKey, drop_zone_id: int, **order_filters: object) -> QuerySet[OrderLine]:
    """As `_lines_with_their_order`, each line with `drop_zone_named` when the order's store has an active
    drop zone `drop_zone_id` (a LEFT JOIN on its id: one row at most, the lines are not repeated)."""
    drop_zone_named = FilteredRelation(
        "order__store__drop_zones",
        condition=Q(order__store__drop_zones__pk=drop_zone_id, order__store__drop_zones__active=True),
    )
    return (
        _lines_with_their_order(api_key, **order_filters)
        .annotate(drop_zone_named=drop_zone_named)
        .select_related("drop_zone_named")  # type: ignore[misc]  # the stubs know no FilteredRelation here
    )


class _ReadById:
    """A read of one order's lines by its id (and `more` ids), compiled once per process, one statement for
    each kind of key: a store key (its store, and the orders it took for another) or an organization key."""

    def __init__(self, lines: Callable[..., QuerySet[OrderLine]], *more: type[int]) -> None:
        self._for_a_store_key = CompiledList(
            lambda store_id, order_id, *ids: lines(ApiKey(store_id=store_id, organization_id=0), order_id, *ids),
            int,
            int,
            *more,
        )
        self._for_an_organization_key = CompiledList(
            lambda organization_id, order_id, *ids: lines(
                ApiKey(store_id=None, organization_id=organization_id), order_id, *ids
            ),
            int,
            int,
            *more,
        )

    def all(self, api_key: ApiKey, order_id: int, *ids: int) -> list[OrderLine]:
        if api_key.store_id is not None:
            return self._for_a_store_key.all(api_key.store_id, order_id, *ids)
        return self._for_an_organization_key.all(api_key.organization_id, order_id, *ids)


# Every action's first read, a till's look-up; a ready-for-pickup's, with the drop zone it names.
_BY_ID = _ReadById(lambda api_key, order_id: _lines_with_their_order(api_key, pk=order_id))
_BY_ID_AT_A_DROP_ZONE = _ReadById(
    lambda api_key, order_id, drop_zone_id: _lines_at_a_drop_zone(api_key, drop_zone_id, pk=order_id), int
)


def _lines_of_one_order(api_key: ApiKey, **order_filters: object) -> list[OrderLine]:
    order_id = order_filters.get("pk")
    if list(order_filters) == ["pk"] and is_row_id(order_id):
        return _BY_ID.all(api_key, order_id)
    return list(_lines_with_their_order(api_key, **order_filters))


def _one_order(api_key: ApiKey, **order_filters: object) -> Order | None:
    """One order with its lines and version in one statement: its lines, each joined to the order.

    Every read of a single order (a till's look-up, the order an action starts from) is this one statement;
    with what the actions read with it (its store and holder), it is also their read of it (`current`).
    An order without lines (none is made so, but the schema allows it) is read the two-statement way."""
    lines = _lines_of_one_order(api_key, **order_filters)
    if not lines:
        return with_action_relations(orders_of(api_key).filter(**order_filters)).first()
    return _order_of(lines)


def _order_of(lines: list[OrderLine]) -> Order:
    """The order the lines were read joined to, with them and its version."""
    order = order_of_lines(lines)
    order.version = lines[0].order_version  # type: ignore[attr-defined]  # as orders_of annotates it
    return order


def after_line_action(found: Order, line: OrderLine) -> Order:
    """The order as an action on one of its lines left it, `found` before: the action's read of the order
    (`line.order`, with the line locked) and its event as the version; the lines found, that one as it is now.
    The sub-status found serves while the order still has it (the action read none)."""
    order = line.order
    if order.sub_status_id == found.sub_status_id:
        order.sub_status = found.sub_status
    keep_lines(order, [line if kept.pk == line.pk else kept for kept in found.lines.all()])
    return order


def get_order(api_key: ApiKey, order_id: int) -> Order:
    order = _one_order(api_key, pk=order_id)
    if order is None:
        raise NotFound(_("No order with this id."))
    return order


def get_order_and_drop_zone(api_key: ApiKey, order_id: int, drop_zone_id: int) -> tuple[Order, DropZone | None]:
    """The order as `get_order` reads it and, in the same statement, the active drop zone `drop_zone_id` of
    its store (None when it has no such one): where a ready-for-pickup stages it. For an order without lines
    (none is made so) or an id no statement can bind, each is read on its own."""
    bindable = is_row_id(order_id) and is_row_id(drop_zone_id)
    lines = _BY_ID_AT_A_DROP_ZONE.all(api_key, order_id, drop_zone_id) if bindable else []
    if not lines:
        order = get_order(api_key, order_id)
        return order, DropZone.objects.filter(pk=drop_zone_id, store_id=order.store_id, active=True).first()
    # Django sets a filtered relation's attribute only when its row was found.
    return _order_of(lines), getattr(lines[0], "drop_zone_named", None)


def payments_of(api_key: ApiKey, order_id: int) -> list[Payment]:
    """The order's payments and refunds, oldest first: two statements, and a 404 if the key cannot see it."""
    order = (
        Order.objects.filter(reached(api_key), pk=order_id)
        .prefetch_related(Prefetch("payments", queryset=Payment.objects.order_by("pk")))
        .first()
    )
    if order is None:
        raise NotFound(_("No order with this id."))
    return list(order.payments.all())


def store_id_for_lookup(api_key: ApiKey, store_id: int | None) -> int:
    """A number is unique per store: a store key looks in its store, an organization key names one."""
    if api_key.store_id is not None:
        if store_id not in {None, api_key.store_id}:
            raise NotFound(_("No such store."))
        return api_key.store_id
    if store_id is None:
        raise InvalidInput(_("This key is for a whole organization: name the store (?store=<id>)."), field="store")
    return store_id


def parse_order_code(code: str, *, field: str = "code") -> int:
    """`SC1001`, `sc1001` or `1001` → 1001."""
    number = read_order_code(code)
    if number is None:
        raise InvalidInput(
            _("Give the number on the order's barcode, e.g. SC1001 or 1001 (digits 0-9 only)."), field=field
        )
    return number


def get_order_by_code(api_key: ApiKey, code: str, store_id: int | None) -> Order:
    number = parse_order_code(code)
    order = _one_order(api_key, store_id=store_id_for_lookup(api_key, store_id), number=number)
    if order is None:
        raise NotFound(_("No order with this number in this store."))
    return order


def get_order_by_external_id(api_key: ApiKey, source: str, external_id: str, store_id: int | None) -> Order:
    store_id = store_id_for_lookup(api_key, store_id)
    order = _one_order(api_key, store_id=store_id, source=source, external_id=external_id) if external_id else None
    if order is None:
        raise NotFound(_("No order with this source and external id in this store."))
    return order


def list_orders(
    api_key: ApiKey,
    *,
    store_id: int | None,
    status: str | None,
    source: str | None,
    updated_since: datetime | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Order], str | None]:
    """One page in (updated_at, id) order, and the cursor of the next page (None on the last)."""
    orders = orders_of(api_key)
    filters = {"store_id": store_id, "status": status, "source": source, "updated_at__gte": updated_since}
    orders = orders.filter(**{name: value for name, value in filters.items() if value is not None})
    if cursor:
        updated_text, last_id = cursors.decode("orders", cursor, "cursor")
        updated_at = parse_datetime(str(updated_text))
        orders = orders.filter(Q(updated_at__gt=updated_at) | Q(updated_at=updated_at, pk__gt=last_id))
    page = list(orders[: limit + 1])
    if len(page) <= limit:
        return page, None
    last = page[limit - 1]
    return page[:limit], cursors.encode("orders", [last.updated_at.isoformat(), last.pk])


def search_orders(
    api_key: ApiKey, *, store_id: int | None, number: int | None, phone: str, email: str, limit: int
) -> list[Order]:
    """Recall at the till: the newest orders of that number, phone (any spacing) or email (any case)."""
    orders = orders_of(api_key).order_by("-created_at", "-pk")
    if store_id is not None:
        orders = orders.filter(store_id=store_id)
    if number is not None:
        orders = orders.filter(number=number)
    if phone:
        orders = orders.filter(phone_key=phone_key(phone))
    if email:
        orders = orders.filter(shopper_email=email.strip().lower())
    return list(orders[:limit])


def list_reservation_entries(order: Order) -> QuerySet[ReservationEntry]:
    return ReservationEntry.objects.filter(order_id=order.pk).select_related("line").order_by("pk")

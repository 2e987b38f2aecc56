"""What one shopper holds in a store, counted by phone and by network address.

A phone is a session cookie: a script gets a fresh one with every request, so the phone's caps only
keep an honest shopper from over-ordering. The address (an IPv4 address or an IPv6 /64, as
`core.clients.address_key` gives it) is what a script cannot shed; many shoppers share one on the
store's Wi-Fi, so its cap is far higher. Orders keep a keyed hash of it, never the address itself.
"""

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce
from django.utils.crypto import salted_hmac

from shelfcall.orders.errors import AddressHoldsTooMuch, TooManyOpenOrders, TooManyUnitsHeld
from shelfcall.orders.models import OPEN_STATUSES, Order
from shelfcall.stores.models import Store


def client_key(address: str) -> str:
    """A keyed hash (HMAC with the secret key): it counts like the address, and a leaked database cannot
    be searched for one (an unkeyed hash of the 2^32 IPv4 addresses is reversed in minutes)."""
    return salted_hmac("shelfcall.orders.client_key", address, algorithm="sha256").hexdigest()[:32] if address else ""


def _orders_of(field: str, value: str) -> Q:
    return Q(**{field: value}) if value else Q(pk__in=[])  # unknown: counts nothing


def check_room(store: Store, *, device_id: str, client_key: str, units: int) -> None:
    """Refuse an order of `units` that would take this phone or this address over the store's caps.

    One query over the open orders' partial indexes. The caller holds the store's row lock (the order
    number), so two submissions from one client at the same moment are counted one after the other.
    """
    device, address = _orders_of("device_id", device_id), _orders_of("client_key", client_key)
    held = Order.objects.filter(device | address, store=store, status__in=OPEN_STATUSES).aggregate(
        device_orders=Count("pk", filter=device),
        device_units=Coalesce(Sum("held_units", filter=device), 0),
        address_units=Coalesce(Sum("held_units", filter=address), 0),
    )
    if held["device_orders"] >= store.max_open_orders_per_device:
        raise TooManyOpenOrders(store.max_open_orders_per_device)
    if held["device_units"] + units > store.max_units_per_device:
        raise TooManyUnitsHeld(held["device_units"], store.max_units_per_device)
    if held["address_units"] + units > store.max_units_per_address:
        raise AddressHoldsTooMuch()

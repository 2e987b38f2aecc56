"""A shopper's cart at a showcase becomes an order holding its stock: one caller of create_order."""

from collections.abc import Sequence

from shelfcall.catalog.models import Showcase
from shelfcall.orders import holdings
from shelfcall.orders.actions.creation import CartLine, ShopperContact, ShowcaseSubmission, create_order
from shelfcall.orders.events import SHOPPER
from shelfcall.orders.models import Order, OrderSource


def submit_showcase_order(
    showcase: Showcase,
    lines: Sequence[CartLine],
    *,
    contact: ShopperContact,
    submission_key: str,
    device_id: str = "",
    client_address: str = "",
    locale: str = "en",
) -> Order:
    """Create the order and reserve its stock, or raise and write nothing.

    `device_id` (the shopper's session) and `client_address` (their address key, `core.clients.address_key`)
    are what the store's holding caps count; orders keep only a keyed hash of the address.

    Submitting the same cart twice (same `submission_key`, same device) returns the first order. A key is
    bound to the device that made it: the same key from another device is a new submission of its own.
    """
    submission = ShowcaseSubmission(showcase, submission_key, device_id, holdings.client_key(client_address))
    return create_order(
        showcase.store,
        lines,
        source=OrderSource.SHOWCASE,
        by=SHOPPER,
        contact=contact,
        showcase=submission,
        locale=locale,
    ).order

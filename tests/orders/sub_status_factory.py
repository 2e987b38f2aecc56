"""Sub-statuses for tests: a name made from the code, optionally following another."""

from shelfcall.orders.models import SubStatus
from shelfcall.stores.models import Store


def sub_status(store: Store, status: str, code: str, *, follows: SubStatus | None = None, **fields) -> SubStatus:
    sub = SubStatus.objects.create(
        organization=store.organization, status=status, code=code, name=code.replace("-", " ").title(), **fields
    )
    if follows is not None:
        follows.next_sub_statuses.add(sub)
    return sub

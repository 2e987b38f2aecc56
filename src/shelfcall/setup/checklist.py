"""What a store still lacks before shoppers can use it, each with the page that fixes it."""

from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from shelfcall.catalog.models import Showcase, StockLevel
from shelfcall.notify.models import Channel
from shelfcall.stores.models import DropZone, Membership, OpeningPeriod, Role, Store

# Where the catalogue and stock import lives (the catalog app's pages).
CATALOGUE_IMPORT_URL = "/setup/catalogue/"


@dataclass(frozen=True)
class Step:
    done: bool
    missing: Promise  # what the checklist says while it is not done
    fix: Promise  # the link's text
    url: str


def with_checklist(stores: QuerySet[Store]) -> QuerySet[Store]:
    """The stores, each with what its checklist needs, in the same single query."""
    here = OuterRef("pk")
    return stores.annotate(
        has_showcase=Exists(Showcase.objects.filter(store=here, active=True)),
        has_stock=Exists(StockLevel.objects.filter(store=here, on_hand__gt=0)),
        has_channel=Exists(
            Channel.objects.filter(
                Q(store=here) | Q(store__isnull=True, organization=OuterRef("organization")), active=True
            )
        ),
        has_staff=Exists(Membership.objects.filter(store=here).exclude(role__in=[Role.STORE_ADMIN, Role.ORG_ADMIN])),
        has_drop_zone=Exists(DropZone.objects.filter(store=here, active=True)),
        has_hours=Exists(OpeningPeriod.objects.filter(store=here)),
    )


def steps(store: Store) -> list[Step]:
    """The checklist of a store read through `with_checklist` (its annotations are read by name)."""
    done: Any = store

    def page(name: str) -> str:
        return reverse(f"setup:{name}", args=[store.pk])

    return [
        Step(done.has_hours, _("No opening hours"), _("Set the opening hours"), page("store_edit") + "#hours"),
        Step(done.has_drop_zone, _("No drop zone"), _("Add a drop zone"), page("drop_zones")),
        Step(done.has_showcase, _("No showcase"), _("Add a showcase"), page("showcases")),
        Step(done.has_stock, _("No products in stock"), _("Import the catalogue and stock"), CATALOGUE_IMPORT_URL),
        Step(done.has_channel, _("No channel for alerts"), _("Add an alert channel"), page("channels")),
        Step(done.has_staff, _("No staff"), _("Add staff"), page("staff")),
    ]

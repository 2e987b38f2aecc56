"""Orders made before the reservation journal get one that adds up (migration 0010)."""

import importlib

import pytest
from django.apps import apps

from shelfcall.orders import actions
from shelfcall.orders.models import ReservationEntry
from tests.factories import make_product, make_showcase, make_store, staff, submit

pytestmark = pytest.mark.django_db

backfill = importlib.import_module("shelfcall.orders.migrations.0010_backfill_reservation_journal").backfill


def test_every_reservation_gets_entries_that_add_up():
    store = make_store()
    products = [make_product(store), make_product(store)]
    showcase = make_showcase(store, products=products)
    kept = submit(showcase, {products[0]: 2, products[1]: 1})
    cancelled = submit(showcase)
    alex = staff(store)
    actions.claim_order(kept.pk, by=alex)
    second = kept.lines.order_by("pk").last()
    actions.mark_line_not_found(kept.pk, second.pk, by=alex, qty=1)
    actions.cancel_order(cancelled.pk, by=alex, reason="Changed mind")
    written = sorted(ReservationEntry.objects.values_list("line_id", "kind", "qty", "reason"))
    ReservationEntry.objects.all().delete()  # as before the journal existed

    backfill(apps, None)

    assert sorted(ReservationEntry.objects.values_list("line_id", "kind", "qty", "reason")) == written

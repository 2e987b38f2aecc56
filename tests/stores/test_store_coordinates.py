from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from tests.factories import make_store

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("latitude", "longitude", "field"),
    [
        (Decimal("48.85"), None, "longitude"),
        (None, Decimal("2.35"), "longitude"),
        (Decimal("91"), Decimal("0"), "latitude"),
    ],
)
def test_coordinates_come_in_pairs_and_in_range(latitude, longitude, field):
    store = make_store()
    store.latitude, store.longitude = latitude, longitude
    with pytest.raises(ValidationError) as refused:
        store.full_clean()
    assert field in refused.value.message_dict


def test_a_store_may_have_coordinates_or_none():
    store = make_store()
    store.full_clean()
    store.latitude, store.longitude = Decimal("-33.868820"), Decimal("151.209296")
    store.full_clean()

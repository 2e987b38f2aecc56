# The optional links of an order get partial indexes (WHERE … IS NOT NULL) instead of full ones; the
# event's order index goes: event_order_idx (order, id) begins with it. Each claim, staging and hand-off
# writes a new version of the order's row into every index it is in.

from typing import Any

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

PROTECT, SET_NULL = django.db.models.deletion.PROTECT, django.db.models.deletion.SET_NULL
# name: (to, on_delete, related_name, verbose_name or None)
LINKS = {
    "origin_store": ("stores.store", PROTECT, "+", "taken at"),
    "team": ("stores.team", PROTECT, "orders", None),
    "showcase": ("catalog.showcase", PROTECT, "+", None),
    "assignee": (settings.AUTH_USER_MODEL, SET_NULL, "+", None),
    "drop_zone": ("stores.dropzone", PROTECT, "+", None),
    "sub_status": ("orders.substatus", PROTECT, "+", "sub-status"),
}


def _link(to: str, on_delete: Any, related_name: str, verbose_name: str | None) -> models.ForeignKey:
    named: dict[str, Any] = {"verbose_name": verbose_name} if verbose_name else {}
    return models.ForeignKey(
        to, on_delete=on_delete, null=True, blank=True, related_name=related_name, db_index=False, **named
    )


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0002_catalogue_csv_imports"),
        ("orders", "0017_timers_wakeup_trigger"),
        ("stores", "0010_store_language"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        *(migrations.AlterField(model_name="order", name=name, field=_link(*link)) for name, link in LINKS.items()),
        migrations.AlterField(
            model_name="orderevent",
            name="order",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="events",
                to="orders.order",
            ),
        ),
        *(
            migrations.AddIndex(
                model_name="order",
                index=models.Index(
                    condition=models.Q((f"{name}__isnull", False)), fields=[name], name=f"order_{name}_idx"
                ),
            )
            for name in LINKS
        ),
    ]

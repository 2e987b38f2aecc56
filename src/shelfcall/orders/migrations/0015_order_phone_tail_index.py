# Head office's phone lookup (hq/queries.py): the last 9 digits of the phone, whatever its prefix.

import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0014_substitutes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                django.db.models.functions.text.Right("phone_key", 9),
                condition=models.Q(("phone_key", ""), _negated=True),
                name="order_phone_tail_idx",
            ),
        ),
    ]

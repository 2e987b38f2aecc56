# Apart from 0005: PostgreSQL refuses to alter a table with deferred foreign key checks pending from
# the backfill in the same transaction.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("notify", "0005_channel_organization_and_subscriptions"),
    ]

    operations = [
        migrations.AlterField(
            model_name="channel",
            name="organization",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="channels", to="stores.organization"
            ),
        ),
    ]

# One queue's waiting requests in its order: the store's queue index (store, status, due_at) holds every
# team's, so a status stream's place and its count ahead read all of them in a store of many teams.
# Partial: it holds only the requests still waiting, however many orders the table holds (building it
# reads the table once, under a lock that holds back writes to orders meanwhile).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0018_partial_link_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                condition=models.Q(("status", "submitted")),
                fields=["store", "team", "due_at", "id"],
                name="order_waiting_queue_idx",
            ),
        ),
    ]

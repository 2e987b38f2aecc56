"""On PostgreSQL, writing outbox messages wakes the workers' deliveries inside the writing transaction.

The business transaction that queues messages (notify/outbox.py, on an order event) then needs no
statement of its own to wake the worker, and the worker's deliveries need not look at the outbox at
every order event, most of which queue nothing: the notification (WORK_CHANNEL, payload "messages",
notify/wakeup.py) is delivered at commit, once per transaction however many statements wrote rows.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION shelfcall_messages_queued() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('shelfcall_work', 'messages');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS shelfcall_messages_queued ON notify_outboxmessage;
CREATE TRIGGER shelfcall_messages_queued AFTER INSERT ON notify_outboxmessage
    FOR EACH STATEMENT EXECUTE FUNCTION shelfcall_messages_queued();
"""

DROP = """
DROP TRIGGER IF EXISTS shelfcall_messages_queued ON notify_outboxmessage;
DROP FUNCTION IF EXISTS shelfcall_messages_queued();
"""


def _on_postgresql(sql: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("notify", "0008_web_push_devices_shifts_and_plugin_channel_kinds")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]

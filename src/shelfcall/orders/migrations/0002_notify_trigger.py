"""On PostgreSQL, every new OrderEvent notifies the live streams inside the inserting transaction.

The notification is delivered only if (and when) that transaction commits, so a stream never hears
of an event it cannot read yet, and there is no extra statement in the actions.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION shelfcall_announce_event() RETURNS trigger AS $$
DECLARE
    order_row RECORD;
BEGIN
    SELECT store_id, team_id INTO order_row FROM orders_order WHERE id = NEW.order_id;
    PERFORM pg_notify(
        'shelfcall_events',
        NEW.id || ',' || NEW.order_id || ',' || order_row.store_id || ',' || COALESCE(order_row.team_id, 0)
    );
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS shelfcall_announce_event ON orders_orderevent;
CREATE TRIGGER shelfcall_announce_event AFTER INSERT ON orders_orderevent
    FOR EACH ROW EXECUTE FUNCTION shelfcall_announce_event();
"""

DROP = """
DROP TRIGGER IF EXISTS shelfcall_announce_event ON orders_orderevent;
DROP FUNCTION IF EXISTS shelfcall_announce_event();
"""


def _on_postgresql(sql: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]

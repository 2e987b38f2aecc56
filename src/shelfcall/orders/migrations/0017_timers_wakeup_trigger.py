"""On PostgreSQL, an order's timer set or moved wakes the workers' timers inside the writing transaction.

The workers' timers thread rests until the first timer due; only a timer set or moved can fall due
sooner, so it is woken by that (WORK_CHANNEL, payload "timers", notify/wakeup.py), not by every order
event, most of which set none (a pick, a payment). A timer cleared (a claim, a hand-off) wakes nobody:
the thread finds it gone when its rest ends. A row-level trigger, since a timer moved is told apart by
its old value; the notification is delivered at commit, once per transaction however many rows moved.
"""

from django.db import migrations

from shelfcall.core.db import on_postgresql

# The order's timer columns as they are here (orders/hooks.py NO_TIMERS), written out: a migration stays as it was.
TIMERS = ("next_escalation_at", "remind_at", "expires_at", "substitute_due_at")
SET_ON_INSERT = " OR ".join(f"NEW.{timer} IS NOT NULL" for timer in TIMERS)
SET_ON_UPDATE = " OR ".join(
    f"(NEW.{timer} IS NOT NULL AND NEW.{timer} IS DISTINCT FROM OLD.{timer})" for timer in TIMERS
)

CREATE = f"""
CREATE OR REPLACE FUNCTION shelfcall_timers_set() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('shelfcall_work', 'timers');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS shelfcall_timers_set_on_insert ON orders_order;
CREATE TRIGGER shelfcall_timers_set_on_insert AFTER INSERT ON orders_order
    FOR EACH ROW WHEN ({SET_ON_INSERT}) EXECUTE FUNCTION shelfcall_timers_set();
DROP TRIGGER IF EXISTS shelfcall_timers_set_on_update ON orders_order;
CREATE TRIGGER shelfcall_timers_set_on_update AFTER UPDATE OF {", ".join(TIMERS)} ON orders_order
    FOR EACH ROW WHEN ({SET_ON_UPDATE}) EXECUTE FUNCTION shelfcall_timers_set();
"""

DROP = """
DROP TRIGGER IF EXISTS shelfcall_timers_set_on_insert ON orders_order;
DROP TRIGGER IF EXISTS shelfcall_timers_set_on_update ON orders_order;
DROP FUNCTION IF EXISTS shelfcall_timers_set();
"""


class Migration(migrations.Migration):
    dependencies = [("orders", "0016_reservation_reason_moved")]

    operations = [on_postgresql(CREATE, DROP)]

"""Generates an organization with 1,000,000 orders and their events for the insights benchmark, then
brings the insights' order facts up to date through the refresh job, as the worker would.

Twenty stores in four time zones, three teams and six showcases each, 300 products, 15 associates a
store; a year of orders (09:00 to 21:00 local), each with the events the real actions write: created,
escalated (when nobody claimed within 5 minutes), claimed, not found, picking, fulfilled, paid,
completed (some units rejected), refund due, expired, cancelled. Rows go in with COPY, a chunk of
orders a transaction. The database is made afresh (dropped first): bench_insights unless --db.

Run: .venv/bin/python benchmarks/insights_generate.py [--orders 1000000] [--db bench_insights]
Then: .venv/bin/python benchmarks/insights_dashboard.py
"""

import argparse
import json
import random
import secrets
import sys
import time
import zoneinfo
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import bench_environment, create_database, migrate, setup_django

STORES = 20
TEAMS_PER_STORE = 3
SHOWCASES_PER_TEAM = 2
PRODUCTS = 300
ASSOCIATES_PER_STORE = 15
TIMEZONES = ["Europe/Paris", "America/New_York", "Asia/Seoul", "Europe/London"]
FIRST_DAY = date(2025, 12, 1)
DAYS = 365
CHUNK = 50_000  # orders a transaction
ORDER_COLUMNS = [
    "id", "store_id", "team_id", "showcase_id", "source", "external_id", "public_token", "number",
    "submission_key", "device_id", "client_key", "held_units", "locale", "shopper_name", "shopper_phone",
    "shopper_email", "phone_key", "comments", "status", "payment_status", "currency", "total_amount",
    "paid_amount", "refunded_amount", "assignee_id", "staged_location", "cancel_reason",
    "alternate_pickup_name", "id_checked", "signature_svg", "check_in_mode", "check_in_note",
    "escalation_level", "reminders_sent", "created_at", "updated_at", "due_at", "claimed_at", "staged_at",
    "paid_at", "closed_at",
]  # fmt: skip
LINE_COLUMNS = [
    "id", "order_id", "product_id", "sku", "name", "variant", "unit_price", "requested_qty", "picked_qty",
    "short_qty", "rejected_qty", "reject_reason",
]  # fmt: skip
EVENT_COLUMNS = ["id", "order_id", "type", "created_at", "actor_id", "actor_kind", "actor_label", "payload"]


class World:
    """The organization's stores, teams, showcases, products and associates, as ids."""

    def __init__(self, rng: random.Random) -> None:
        from django.contrib.auth import get_user_model

        from shelfcall.catalog.models import Product, Showcase
        from shelfcall.stores.models import Membership, Organization, Role, Store, Team

        org = Organization.objects.create(name="Insights Retail", slug="insights-retail")
        self.products = [
            (p.pk, p.sku, p.name, p.price)
            for p in Product.objects.bulk_create(
                Product(
                    organization=org,
                    sku=f"SKU-{n:04d}",
                    upc=f"4100000{n:05d}",
                    name=f"Product {n}",
                    price=Decimal(9 + n % 90) + Decimal("0.99"),
                )
                for n in range(PRODUCTS)
            )
        ]
        users = get_user_model().objects.bulk_create(
            get_user_model()(username=f"associate{n}", first_name=f"Associate {n}", password="!")
            for n in range(STORES * ASSOCIATES_PER_STORE)
        )
        self.stores = []
        for s in range(STORES):
            store = Store.objects.create(
                organization=org,
                name=f"Store {s:02d}",
                slug=f"store-{s:02d}",
                timezone=TIMEZONES[s % len(TIMEZONES)],
                pick_target_minutes=8 + s % 5,
                allow_pay_at_pickup=True,
            )
            staff = users[s * ASSOCIATES_PER_STORE : (s + 1) * ASSOCIATES_PER_STORE]
            Membership.objects.bulk_create(
                Membership(user=u, organization=org, store=store, role=Role.ASSOCIATE) for u in staff
            )
            cases = []
            for t in range(TEAMS_PER_STORE):
                team = Team.objects.create(store=store, name=f"Team {t}")
                for c in range(SHOWCASES_PER_TEAM):
                    showcase = Showcase.objects.create(
                        store=store, team=team, name=f"Case {t}{c}", code=f"S{s:02d}T{t}C{c}"
                    )
                    cases.append((team.pk, showcase.pk))
            weight = 0.5 + rng.random()  # some stores are busier
            self.stores.append(
                (store.pk, zoneinfo.ZoneInfo(store.timezone), cases, [(u.pk, u.first_name) for u in staff], weight)
            )
        self.org = org


def _at(moment: datetime) -> str:
    return moment.isoformat()


class Generator:
    def __init__(self, world: World, rng: random.Random) -> None:
        self.world, self.rng = world, rng
        self.order_id = self.line_id = self.event_id = 0
        self.numbers = {store[0]: 1000 for store in world.stores}
        self.weights = [store[4] for store in world.stores]

    def order(self) -> tuple[tuple, list[tuple], list[tuple]]:
        rng = self.rng
        store_id, tz, cases, staff, _w = rng.choices(self.world.stores, self.weights)[0]
        team_id, showcase_id = rng.choice(cases)
        day = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
        local = datetime(
            day.year, day.month, day.day, rng.randrange(9, 21), rng.randrange(60), rng.randrange(60), tzinfo=tz
        )
        sent = local.astimezone(UTC)
        self.order_id += 1
        self.numbers[store_id] += 1
        oid = self.order_id
        associate, name = rng.choice(staff)
        lines = []
        total = Decimal(0)
        for product_id, sku, pname, price in rng.sample(self.world.products, rng.choice((1, 1, 1, 2, 2, 3))):
            self.line_id += 1
            qty = rng.choice((1, 1, 2))
            lines.append([self.line_id, oid, product_id, sku, pname, "", price, qty, 0, 0, 0, ""])
            total += price * qty
        events: list[tuple] = []

        def event(kind: str, moment: datetime, payload: dict, *, staff_event: bool = True) -> None:
            self.event_id += 1
            who = (associate, "staff", name) if staff_event else (None, "system", "Shelfcall")
            events.append((self.event_id, oid, kind, _at(moment), *who, json.dumps(payload)))

        event(
            "order.created",
            sent,
            {
                "source": "showcase",
                "lines": [{"line_id": n[0], "sku": n[3], "name": n[4], "variant": "", "qty": n[7]} for n in lines],
            },
            staff_event=False,
        )
        fate = rng.random()
        claim = sent + timedelta(seconds=int(rng.lognormvariate(4.6, 0.9)))  # median 100 s
        status, payment, claimed_at, staged_at, paid_at, closed_at = "submitted", "unpaid", None, None, None, None
        if claim - sent > timedelta(minutes=5):
            event("order.escalated", sent + timedelta(minutes=5), {"level": 1, "waited_minutes": 5}, staff_event=False)
        if fate < 0.07:  # nobody claimed it
            closed_at = sent + timedelta(minutes=60)
            event("order.expired", closed_at, {"reason": "Nobody claimed it in time."}, staff_event=False)
            status = "expired"
        elif fate < 0.1:
            closed_at = sent + timedelta(seconds=rng.randrange(30, 300))
            event("order.cancelled", closed_at, {"reason": "Cancelled by the shopper."}, staff_event=False)
            status = "cancelled"
        else:
            claimed_at, status = claim, "picking"
            event("order.claimed", claim, {"assignee_id": associate, "assignee_name": name})
            moment = claim
            for line in lines:
                moment += timedelta(seconds=int(rng.lognormvariate(5.0, 0.7)))  # median 150 s a line
                if rng.random() < 0.06:
                    line[9] = 1
                    event(
                        "order.line_not_found", moment, {"line_id": line[0], "sku": line[3], "qty": 1, "short_qty": 1}
                    )
                if line[7] - line[9]:
                    line[8] = line[7] - line[9]
                    event(
                        "order.picking",
                        moment,
                        {"line_id": line[0], "sku": line[3], "qty": line[8], "picked_qty": line[8]},
                    )
            if any(line[8] for line in lines):
                staged_at, status = moment + timedelta(seconds=30), "ready"
                event("order.fulfilled", staged_at, {"location": "Customer Service desk", "drop_zone_id": None})
                total = sum((line[6] * line[8] for line in lines), Decimal(0))
                if fate < 0.18:  # never collected
                    closed_at, status = staged_at + timedelta(days=2), "expired"
                    event("order.expired", closed_at, {"reason": "Nobody collected it in time."}, staff_event=False)
                else:
                    paid_at = staged_at + timedelta(seconds=int(rng.lognormvariate(5.5, 1.0)))
                    if rng.random() < 0.2:  # paid at the till before it was ready
                        paid_at = claim + timedelta(seconds=20)
                    amount = f"{total:.2f}"
                    event(
                        "order.paid",
                        paid_at,
                        {"amount": amount, "method": "card", "reference": "", "paid_total": amount, "owed": "0.00"},
                    )
                    payment = "paid"
                    closed_at = max(paid_at, staged_at) + timedelta(seconds=int(rng.lognormvariate(6.0, 1.2)))
                    rejected = []
                    if rng.random() < 0.04:
                        line = lines[0]
                        if line[8]:
                            line[10], line[11] = 1, "damaged"
                            rejected = [{"line_id": line[0], "qty": 1, "reason": "damaged"}]
                    accepted = [{"line_id": line[0], "qty": line[8] - line[10]} for line in lines]
                    event(
                        "order.completed", closed_at, {"accepted": accepted, "rejected": rejected, "collected_by": ""}
                    )
                    status = "completed"
            else:
                closed_at, status = moment, "cancelled"
                event("order.cancelled", moment, {"reason": "Nothing could be found."}, staff_event=False)
        order = (
            oid,
            store_id,
            team_id,
            showcase_id,
            "showcase",
            "",
            secrets.token_urlsafe(24),
            self.numbers[store_id],
            "",
            "",
            "",
            0,
            "en",
            "",
            "",
            "",
            "",
            "",
            status,
            payment,
            "EUR",
            total,
            total if paid_at else 0,
            0,
            associate if claimed_at else None,
            "",
            "",
            "",
            False,
            "",
            "",
            "",
            0,
            0,
            _at(sent),
            _at(closed_at or sent),
            _at(sent + timedelta(minutes=30)),
            _at(claimed_at) if claimed_at else None,
            _at(staged_at) if staged_at else None,
            _at(paid_at) if paid_at else None,
            _at(closed_at) if closed_at else None,
        )
        return order, [tuple(line) for line in lines], events


def _copy(cursor, table: str, columns: list[str], rows: list[tuple]) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def load(generator: Generator, orders: int) -> None:
    from django.db import connection, transaction

    started = time.monotonic()
    done = 0
    while done < orders:
        batch = [generator.order() for _ in range(min(CHUNK, orders - done))]
        with transaction.atomic(), connection.cursor() as cursor:
            raw = cursor.cursor  # psycopg's own cursor: COPY
            _copy(raw, "orders_order", ORDER_COLUMNS, [o for o, _l, _e in batch])
            _copy(raw, "orders_orderline", LINE_COLUMNS, [line for _o, lines, _e in batch for line in lines])
            _copy(raw, "orders_orderevent", EVENT_COLUMNS, [e for _o, _l, events in batch for e in events])
        done += len(batch)
        print(
            f"  {done:>9,} orders, {generator.event_id:>10,} events  ({time.monotonic() - started:.0f} s)", flush=True
        )
    with connection.cursor() as cursor:
        for table, last in (
            ("orders_order", generator.order_id),
            ("orders_orderline", generator.line_id),
            ("orders_orderevent", generator.event_id),
        ):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)", [last])
        for number_store, number in generator.numbers.items():
            cursor.execute("UPDATE stores_store SET order_seq = %s WHERE id = %s", [number, number_store])
        cursor.execute("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--db", default="bench_insights")
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    setup_django(bench_environment(args.db) | {"DATABASE_URL": create_database(args.db)})
    migrate()
    rng = random.Random(args.seed)
    generator = Generator(World(rng), rng)
    started = time.monotonic()
    load(generator, args.orders)
    loaded = time.monotonic() - started
    print(
        f"loaded {generator.order_id:,} orders, {generator.line_id:,} lines, {generator.event_id:,} events"
        f" in {loaded:.0f} s"
    )

    from shelfcall.insights import facts

    started = time.monotonic()
    events = facts.refresh_all()
    refreshed = time.monotonic() - started
    print(f"refresh job: {events:,} events into order facts in {refreshed:.0f} s ({events / refreshed:,.0f} events/s)")
    from django.db import connection

    with connection.cursor() as cursor:  # vacuumed: the figures' index-only scans need the visibility map
        cursor.execute("VACUUM ANALYZE insights_orderfact, insights_linefact")


if __name__ == "__main__":
    main()

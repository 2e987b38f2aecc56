"""/hq/ at 100,000 orders: the time and SQL statements of each head-office page, PostgreSQL, in-process.

A fresh database gets one organization with --stores stores (a team and 20 products each) and --orders
orders spread over them and over 90 days (every status, source and payment state; a third with a phone,
a third with an email; one line, one reservation journal row and one event each), bulk-inserted. Then a
Django test client, signed in as the organization's customer service (every store) or as one store's
admin, asks each page --repeat times; the first answer of each is discarded (warm-up). Reported per page:
p50 / p95 wall time of the whole request (middleware, session, the page's queries, rendering) and its
SQL statements, and the p50 of the time its statements took in the database (as Django's debug cursor
measures it: the round trip to PostgreSQL). The machine is shared: read the figures with the load
average printed beside them.

Only 127.0.0.1 is contacted; the database is dropped at the end (--keep leaves it).
Run: PYTHONPATH=src .venv/bin/python benchmarks/hq_orders.py [--orders 100000] [--stores 20] [--repeat 20]
"""

import argparse
import os
import random
import time
from datetime import timedelta
from decimal import Decimal

from _common import MACHINE_NOTE, bench_environment, create_database, drop_database, migrate, percentile, setup_django

PAGES = {
    "list, every store": "/hq/",
    "list, one store": "/hq/?store={store}",
    "list, ready": "/hq/?status=ready",
    "list, overdue": "/hq/?overdue=on",
    "list, escalated": "/hq/?escalated=on",
    "list, refund due": "/hq/?refund_due=on",
    "list, unpaid online": "/hq/?source=online&payment=unpaid",
    "list, one week": "/hq/?date_from={week_start}&date_to={week_end}",
    "list, search a name": "/hq/?q=Zoé",
    "list, search a phone": "/hq/?q=%2B33+6+12+00+01+23",
    "list, search an email": "/hq/?q=shopper123%40example.com",
    "list, search a number": "/hq/?q=SC1500",
    "list, holding a product": "/hq/?product={product}",
    "list, 2nd page": "/hq/?before={middle}",
    "live fragment": "/hq/?fragment=1",
    "lookup by phone": "/hq/lookup?phone=06+12+00+01+23",
    "order page": "/hq/orders/{middle}",
    "inventory": "/hq/inventory",
}
STATUSES = ["submitted", "picking", "ready", "completed", "completed", "completed", "cancelled", "expired"]


def seed(orders: int, stores: int) -> dict:
    from django.contrib.auth import get_user_model

    from shelfcall.catalog.models import Product, StockLevel
    from shelfcall.core import clock
    from shelfcall.orders.models import Order, OrderEvent, OrderLine, ReservationEntry
    from shelfcall.stores.models import Membership, Organization, Role, Store, Team

    rng = random.Random(13)
    org = Organization.objects.create(name="Bench Retail", slug="bench-retail")
    made = [Store.objects.create(organization=org, name=f"Store {n:02d}", slug=f"s{n}") for n in range(stores)]
    teams = {store.pk: Team.objects.create(store=store, name="Floor") for store in made}
    products = [
        Product.objects.create(organization=org, sku=f"SKU-{n}", name=f"Product {n}", price=Decimal("19.99"))
        for n in range(20)
    ]
    levels = {
        (store.pk, product.pk): StockLevel.objects.create(store=store, product=product, on_hand=10_000)
        for store in made
        for product in products
    }
    now = clock.now()
    names = ["Kim", "Lou", "Ana", "Zoé", "Sam", "Noa", "Eli", "Mia"]
    batch = 5000
    for start in range(0, orders, batch):
        rows = []
        for n in range(start, min(start + batch, orders)):
            store = made[n % stores]
            status = STATUSES[rng.randrange(len(STATUSES))]
            created = now - timedelta(minutes=rng.randrange(90 * 24 * 60))
            paid = rng.random() < 0.4
            total = Decimal("19.99")
            rows.append(
                Order(
                    store=store,
                    team=teams[store.pk],
                    source=rng.choice(["showcase", "showcase", "online", "pos"]),
                    external_id=f"WEB-{n}" if n % 4 == 0 else "",
                    number=1000 + n // stores,
                    shopper_name=names[n % len(names)] if n % 50 else "Zoé",
                    shopper_phone=f"06 12 {n // 10000 % 100:02d} {n // 100 % 100:02d} {n % 100:02d}"
                    if n % 3 == 0
                    else "",
                    phone_key=f"0612{n // 10000 % 100:02d}{n // 100 % 100:02d}{n % 100:02d}" if n % 3 == 0 else "",
                    shopper_email=f"shopper{n}@example.com" if n % 3 == 1 else "",
                    status=status,
                    payment_status="paid" if paid else "unpaid",
                    currency="EUR",
                    total_amount=Decimal("0") if status == "cancelled" else total,
                    paid_amount=total if paid else Decimal("0"),
                    escalation_level=1 if n % 97 == 0 else 0,
                    created_at=created,
                    updated_at=created,
                    due_at=created + timedelta(minutes=10),
                )
            )
        created_orders = Order.objects.bulk_create(rows)
        product_of = {order.pk: products[order.pk % len(products)] for order in created_orders}
        lines = OrderLine.objects.bulk_create(
            OrderLine(
                order=order,
                product=product_of[order.pk],
                sku=product_of[order.pk].sku,
                name=product_of[order.pk].name,
                unit_price=Decimal("19.99"),
                requested_qty=1,
            )
            for order in created_orders
        )
        ReservationEntry.objects.bulk_create(
            ReservationEntry(
                order_id=line.order_id,
                line=line,
                stock_level=levels[(line.order.store_id, line.product_id)],
                kind="hold",
                qty=1,
                reason="created",
                created_at=line.order.created_at,
                actor_kind="shopper",
            )
            for line in lines
        )
        OrderEvent.objects.bulk_create(
            OrderEvent(order=order, type="order.created", created_at=order.created_at, actor_kind="shopper", payload={})
            for order in created_orders
        )
    _hold_open_orders()
    service = get_user_model().objects.create_user("service", password=None, first_name="Cy")
    Membership.objects.create(user=service, organization=org, role=Role.CUSTOMER_SERVICE)
    admin = get_user_model().objects.create_user("storeadmin", password=None, first_name="Sam")
    Membership.objects.create(user=admin, organization=org, store=made[0], role=Role.STORE_ADMIN)
    ids = list(Order.objects.order_by("pk").values_list("pk", flat=True)[orders // 2 : orders // 2 + 1])
    week_end = (now - timedelta(days=30)).date()
    return {
        "service": service,
        "admin": admin,
        "store": made[1].pk,
        "product": products[3].pk,
        "middle": ids[0],
        "week_start": (week_end - timedelta(days=6)).isoformat(),
        "week_end": week_end.isoformat(),
    }


def _phone(n: int, space: str) -> str:
    return space.join(["06", "12", f"{n // 10000 % 100:02d}", f"{n // 100 % 100:02d}", f"{n % 100:02d}"])


def _hold_open_orders() -> None:
    """Open orders hold their unit (a Reservation each, stock levels' reserved summed), in SQL."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO orders_reservation (line_id, order_id, stock_level_id, held_qty, released_qty, consumed_qty) "
            "SELECT l.id, l.order_id, s.id, 1, 0, 0 FROM orders_orderline l JOIN orders_order o ON o.id = l.order_id "
            "JOIN catalog_stocklevel s ON s.store_id = o.store_id AND s.product_id = l.product_id "
            "WHERE o.status IN ('submitted', 'picking', 'ready')"
        )
        cursor.execute(
            "UPDATE catalog_stocklevel s SET reserved = h.held FROM (SELECT stock_level_id, SUM(held_qty) AS held "
            "FROM orders_reservation GROUP BY stock_level_id) h WHERE h.stock_level_id = s.id"
        )
        cursor.execute("ANALYZE")


def measure(client, path: str, repeat: int) -> tuple[list[float], list[float], int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(path)  # warm-up: the session's first write, prepared statements, caches
    times, sql_times = [], []
    statements = 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(path)
            times.append(time.perf_counter() - started)
        assert response.status_code == 200, (path, response.status_code)
        statements = len(captured)
        sql_times.append(sum(float(query["time"]) for query in captured.captured_queries))
    return times, sql_times, statements


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--stores", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--db", default="shelfcall_hq_bench")
    parser.add_argument("--keep", action="store_true", help="leave the database behind")
    args = parser.parse_args()
    create_database(args.db)
    try:
        env = bench_environment(args.db) | {
            "SHELFCALL_ALLOWED_HOSTS": "testserver",
            "SHELFCALL_STATICFILES_STORAGE": "django.contrib.staticfiles.storage.StaticFilesStorage",
        }
        setup_django(env)
        migrate()
        started = time.perf_counter()
        world = seed(args.orders, args.stores)
        print(f"seeded {args.orders} orders over {args.stores} stores in {time.perf_counter() - started:.0f} s")
        print(MACHINE_NOTE)
        print(f"load average before: {os.getloadavg()[0]:.1f}")
        from django.test import Client

        for who in ("service", "admin"):
            client = Client()
            client.force_login(world[who])
            print(f"\n{'customer service (every store)' if who == 'service' else 'store admin (one store)'}")
            print(f"{'page':<28} {'p50 ms':>8} {'p95 ms':>8} {'SQL p50 ms':>11} {'SQL':>4}")
            for name, template in PAGES.items():
                times, sql_times, statements = measure(client, template.format(**world), args.repeat)
                p50, p95 = percentile(times, 50) * 1000, percentile(times, 95) * 1000
                sql_p50 = percentile(sql_times, 50) * 1000
                print(f"{name:<28} {p50:>8.1f} {p95:>8.1f} {sql_p50:>11.1f} {statements:>4}", flush=True)
        print(f"\nload average after: {os.getloadavg()[0]:.1f}")
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            drop_database(args.db)


if __name__ == "__main__":
    main()

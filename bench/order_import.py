"""Order-import throughput against the store's rate limit: a backlog of orders in one emulator store, imported by the
order-import job (cursor pages of `orders(query: updated_at…)`) in the sandbox, against the most the store's restore
rate allows for the cost per order actually charged; and that cost against the naive read, one `order(id:)` per
order.

The bucket is emptied before the run so the backlog is read at the steady rate, with no head start from a full
bucket.

    python -m bench.order_import [--orders 5000] [--restore-rate 100]
"""

from __future__ import annotations

import argparse
import logging
import random
import time
from dataclasses import dataclass
from datetime import timedelta

from bench.moto_transactions import per_item_transaction_snapshots
from local.emulator import ShopifyEmulator
from local.emulator.bucket import LeakyBucket
from local.sandbox import Sandbox, sandbox
from local.scenarios import import_and_link_catalog, run_job
from shopsync.jobs.clock import utc_now
from shopsync.orders.importer import fetch_order
from shopsync.orders.order_import import ORDER_IMPORT
from shopsync.shopify.client import ShopifyClient

STORE = "us-parent"
NAIVE_SAMPLE = 50  # orders read one by one: their cost per order is all the naive figure needs
SHIPPING_ADDRESS = {
    "first_name": "Grace",
    "last_name": "Hopper",
    "address1": "1 Compiler Road",
    "city": "Arlington",
    "zip": "22201",
    "country": "United States",
    "country_code": "US",
}


@dataclass(frozen=True)
class OrderImportThroughput:
    orders: int
    imported: int
    failed: int
    seconds: float
    cost_charged: float
    calls: int
    restore_rate: float
    naive_cost_per_order: float

    @property
    def orders_per_min(self) -> float:
        return self.orders / self.seconds * 60

    @property
    def cost_per_order(self) -> float:
        return self.cost_charged / self.orders

    @property
    def bound_orders_per_min(self) -> float:
        """The most the restore rate allows: points per minute over points per order."""
        return self.restore_rate * 60 / self.cost_per_order

    @property
    def ratio_to_bound(self) -> float:
        return self.orders_per_min / self.bound_orders_per_min


def create_backlog(emulator: ShopifyEmulator, count: int, seed: int = 5) -> None:
    """`count` valid web orders of 1-3 catalog lines, created in the past so the job's window holds them all."""
    rng = random.Random(seed)
    variants = [v["id"] for p in emulator.inspect(STORE)["products"] for v in p["variants"]]
    created = utc_now() - timedelta(hours=1)
    for number in range(count):
        lines = [{"variant_id": v, "quantity": rng.randint(1, 3)} for v in rng.sample(variants, rng.randint(1, 3))]
        emulator.create_order(
            STORE,
            lines,
            created_at=created + timedelta(milliseconds=number),
            email=f"customer{number}@example.com",
            shipping_address=SHIPPING_ADDRESS,
        )


def naive_cost_per_order(box: Sandbox, order_ids: list[str]) -> float:
    """What one `order(id:)` per order costs: the read webhooks and re-imports use, applied to a backlog."""
    shop = box.shops[STORE]
    with ShopifyClient(shop.base_url, shop.api_version, f"shpat_local_{STORE}") as client:
        for order_id in order_ids:
            fetch_order(client, order_id)
        return client.stats.cost_spent / len(order_ids)


def measure(orders: int, restore_rate: float) -> OrderImportThroughput:
    with per_item_transaction_snapshots(), sandbox() as box:
        emulator = box.shopify.emulator
        import_and_link_catalog(child_shop_ids=())  # order lines must resolve to catalog products
        create_backlog(emulator, orders)
        store = emulator.store(STORE)
        store.bucket = LeakyBucket(store.bucket.capacity, restore_rate, time.monotonic)
        store.bucket.drain()
        charged_before = emulator.stats(STORE)["cost_points_charged"]
        started = time.monotonic()
        (run,) = run_job(ORDER_IMPORT, STORE)
        seconds = time.monotonic() - started
        charged = emulator.stats(STORE)["cost_points_charged"] - charged_before
        if run.status != "FINISHED" or run.counts.read != orders:
            raise RuntimeError(f"the import did not read the backlog: {run.status} {run.counts} {run.error}")
        store.bucket = LeakyBucket(store.bucket.capacity, 1_000_000, time.monotonic)  # the naive sample is not timed
        sample = sorted(store.orders)[:NAIVE_SAMPLE]
        naive = naive_cost_per_order(box, [f"gid://shopify/Order/{number}" for number in sample])
        return OrderImportThroughput(
            orders=orders,
            imported=run.counts.written,
            failed=run.counts.failed,
            seconds=seconds,
            cost_charged=charged,
            calls=run.shopify_calls,
            restore_rate=restore_rate,
            naive_cost_per_order=naive,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=5000)
    parser.add_argument("--restore-rate", type=float, default=100.0, help="points per second the store restores")
    arguments = parser.parse_args()
    logging.getLogger("shopsync").setLevel(logging.WARNING)  # one line per order otherwise
    result = measure(arguments.orders, arguments.restore_rate)
    print(
        f"{result.orders} orders ({result.imported} imported, {result.failed} failed) in {result.seconds:.1f} s, "
        f"{result.calls} calls: {result.orders_per_min:.0f} orders/min\n"
        f"  cost {result.cost_per_order:.2f} points per order (naive order(id:) {result.naive_cost_per_order:.2f})\n"
        f"  bound at {result.restore_rate:g} points/s: {result.bound_orders_per_min:.0f} orders/min → "
        f"ratio {result.ratio_to_bound:.3f}"
    )


if __name__ == "__main__":
    main()

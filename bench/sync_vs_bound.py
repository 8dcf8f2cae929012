"""Time to sync N pre-order products into 3 stores against the rate-limit bound.

N one-variant products are seeded straight into each store and the table (bench/seeding.py: linked everywhere, on
pre-order by a PO line each); only the one `sync_products` that lists them all in every store is timed.

The figure is `seconds / bound` with bound = Σ over stores of the cost points Shopify charged that store ÷ the restore
rate: the time the charged points need at one bucket's rate, i.e. for a sync that works through the stores one after
the other (as `sync_products` does, phase by phase) and could not use one store's refill while it talks to another.
Each store has its own bucket, so points of different stores can be served side by side and the ratio may be below
1; the hard floor is the busiest store alone, max over stores of (its charged points ÷ the rate), printed next to it.

Every store's bucket is set to a real Shopify plan's size and restore rate (Plus by default: the standard 100 points/s
would make 10k products a ~50 minute sync) and emptied before the sync, so nothing runs on credit saved up before.

    python -m bench.sync_vs_bound [--products 1000] [--plan plus]
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from bench.moto_queries import partition_queries
from bench.moto_transactions import per_item_transaction_snapshots
from bench.seeding import seed_preorder_products
from local.emulator import ShopifyEmulator
from local.emulator.bucket import LeakyBucket
from local.sandbox import sandbox
from shopsync.jobs.clock import utc_now
from shopsync.preorder.sync import sync_products

PARENT, CHILDREN = "us-parent", ("eu-child", "uk-child")
STORES = (PARENT, *CHILDREN)
SYNC_BUDGET_S = 3600.0
PO_QUANTITY = 30


@dataclass(frozen=True)
class Plan:
    """A Shopify plan's GraphQL Admin bucket (../shared/reference/shopify-admin-api.md §7.1)."""

    name: str
    bucket: float
    restore_rate: float


PLANS = {plan.name: plan for plan in (Plan("standard", 2000, 100), Plan("plus", 20_000, 1000))}


@dataclass(frozen=True)
class SyncVsBound:
    products: int
    plan: Plan
    seconds: float
    cost_by_store: dict[str, float]
    calls: int
    pushed: int
    failed: int
    throttled: int

    @property
    def bound_s(self) -> float:
        """Σ charged points ÷ restore rate: the stores' points one after the other through one rate."""
        return sum(self.cost_by_store.values()) / self.plan.restore_rate

    @property
    def ratio(self) -> float:
        return self.seconds / self.bound_s

    @property
    def busiest_store_bound_s(self) -> float:
        """The store that needed most, alone: no sync of these listings can be faster, whatever it overlaps."""
        return max(self.cost_by_store.values()) / self.plan.restore_rate

    @property
    def ratio_to_busiest_store(self) -> float:
        return self.seconds / self.busiest_store_bound_s

    def summary(self) -> str:
        return (
            f"{self.products} products x {len(STORES)} stores: {self.pushed} listings pushed, {self.failed} failed, "
            f"{self.calls} calls ({self.throttled} throttled) in {self.seconds:.1f} s; Shopify {self.plan.name} "
            f"({self.plan.restore_rate:g} points/s, bucket {self.plan.bucket:g}, emptied first): "
            f"Σ {sum(self.cost_by_store.values()):.0f} points charged → bound {self.bound_s:.1f} s, ratio "
            f"{self.ratio:.3f}; busiest store alone {self.busiest_store_bound_s:.1f} s, ratio "
            f"{self.ratio_to_busiest_store:.3f}"
        )


@contextmanager
def plan_buckets(emulator: ShopifyEmulator, plan: Plan) -> Iterator[None]:
    """Every store's bucket as the plan's, emptied first."""
    saved = {}
    for shop_id in STORES:
        store = emulator.store(shop_id)
        saved[shop_id] = store.bucket
        store.bucket = LeakyBucket(plan.bucket, plan.restore_rate, time.monotonic)
        store.bucket.drain()
    try:
        yield
    finally:
        for shop_id, bucket in saved.items():
            emulator.store(shop_id).bucket = bucket


def measure(products: int, plan: Plan) -> SyncVsBound:
    with per_item_transaction_snapshots(), partition_queries(), sandbox() as box:
        emulator = box.shopify.emulator
        product_ids = seed_preorder_products(emulator, PARENT, CHILDREN, products, quantity=PO_QUANTITY, now=utc_now())
        charged_before = {shop: emulator.stats(shop)["cost_points_charged"] for shop in STORES}
        throttled_before = sum(emulator.stats(shop)["throttled"] for shop in STORES)
        with plan_buckets(emulator, plan):
            started = time.monotonic()
            report = sync_products(product_ids, now=utc_now(), time_left_s=lambda: SYNC_BUDGET_S)
            seconds = time.monotonic() - started
        return SyncVsBound(
            products=products,
            plan=plan,
            seconds=seconds,
            cost_by_store={s: emulator.stats(s)["cost_points_charged"] - charged_before[s] for s in STORES},
            calls=report.shopify_calls,
            pushed=len(report.pushed),
            failed=len(report.failed),
            throttled=sum(emulator.stats(shop)["throttled"] for shop in STORES) - throttled_before,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--plan", choices=sorted(PLANS), default="plus", help="the stores' Shopify plan (bucket, rate)")
    arguments = parser.parse_args()
    logging.getLogger("shopsync").setLevel(logging.WARNING)
    print(measure(arguments.products, PLANS[arguments.plan]).summary())


if __name__ == "__main__":
    main()

"""Time to sync N pre-order products into 3 stores against the rate-limit bound, Σ cost ÷ restore rate.

N extra one-variant products are added to each seeded store (same SKU and barcode everywhere), imported, linked by
the association job and put on pre-order by a PO line each; then one `sync_products` lists them all. The stores'
restore rate is lowered for the timed sync so that Shopify, not moto, is what it waits for; the bound sums each
store's charged points over that rate (the sync works through the stores one after the other).

    python -m bench.sync_vs_bound [--products 1000] [--restore-rate 200]
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from bench.moto_transactions import per_item_transaction_snapshots
from local.emulator import ShopifyEmulator
from local.emulator.bucket import LeakyBucket
from local.emulator.seed import AdminClient, SeedProduct, SeedVariant, StoreSeed, _fill_store, upc_a
from local.emulator.testing import in_process_http
from local.sandbox import sandbox
from local.scenarios import import_and_link_catalog, put_on_preorder
from shopsync.catalog.identifiers import legacy_id
from shopsync.jobs.clock import utc_now
from shopsync.preorder.sync import sync_products

STORES = ("us-parent", "eu-child", "uk-child")
UNLIMITED_RATE = 1_000_000.0  # points per second while preparing: only the timed sync meets the real limit
SYNC_BUDGET_S = 3600.0


@dataclass(frozen=True)
class SyncVsBound:
    products: int
    restore_rate: float
    seconds: float
    cost_by_store: dict[str, float]
    calls: int
    pushed: int
    failed: int
    throttled: int

    @property
    def bound_s(self) -> float:
        return sum(self.cost_by_store.values()) / self.restore_rate

    @property
    def ratio(self) -> float:
        return self.seconds / self.bound_s

    @property
    def ratio_to_busiest_store(self) -> float:
        """Against the one store that needed most: each store has its own bucket, so stores synced side by side
        could at best take this long."""
        return self.seconds / (max(self.cost_by_store.values()) / self.restore_rate)


def bench_catalog(count: int) -> list[SeedProduct]:
    return [
        SeedProduct(
            title=f"Bench Product {number}",
            handle=f"bench-{number}",
            product_type="Bench",
            tags=("bench",),
            sized=False,
            variants=(SeedVariant(f"BENCH-{number:05d}", "OS", upc_a(f"{85_000_000_000 + number:011d}"), "10.00", 0),),
        )
        for number in range(count)
    ]


def add_products(emulator: ShopifyEmulator, products: list[SeedProduct]) -> None:
    """The same products in every store, written in-process (no sockets) by the seed's own store filler."""
    with in_process_http(emulator) as http:
        for shop_id in STORES:
            summary = StoreSeed(shop_id, shop_id, "USD", f"shpat_local_{shop_id}", "")
            _fill_store(AdminClient(http, shop_id, summary.access_token), products, summary)


@contextmanager
def restore_rate(emulator: ShopifyEmulator, points_per_s: float) -> Iterator[None]:
    """Every store's bucket at this rate, emptied first so nothing runs on credit saved up before."""
    buckets = {}
    for shop_id in STORES:
        store = emulator.store(shop_id)
        buckets[shop_id] = store.bucket
        store.bucket = LeakyBucket(store.bucket.capacity, points_per_s, time.monotonic)
        store.bucket.drain()
    try:
        yield
    finally:
        for shop_id, bucket in buckets.items():
            emulator.store(shop_id).bucket = bucket


def measure(products: int, points_per_s: float) -> SyncVsBound:
    with per_item_transaction_snapshots(), sandbox() as box:
        emulator = box.shopify.emulator
        catalog = bench_catalog(products)
        with restore_rate(emulator, UNLIMITED_RATE):
            add_products(emulator, catalog)
            import_and_link_catalog()
            skus = [product.variants[0].sku for product in catalog]
            put_on_preorder(skus, quantity=30)
        parent = emulator.inspect("us-parent")["products"]
        product_ids = [legacy_id(v["id"]) for p in parent for v in p["variants"] if v["sku"] in set(skus)]
        charged_before = {shop: emulator.stats(shop)["cost_points_charged"] for shop in STORES}
        throttled_before = sum(emulator.stats(shop)["throttled"] for shop in STORES)
        with restore_rate(emulator, points_per_s):
            started = time.monotonic()
            report = sync_products(product_ids, now=utc_now(), time_left_s=lambda: SYNC_BUDGET_S)
            seconds = time.monotonic() - started
        return SyncVsBound(
            products=products,
            restore_rate=points_per_s,
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
    parser.add_argument("--restore-rate", type=float, default=200.0, help="points per second each store restores")
    arguments = parser.parse_args()
    logging.getLogger("shopsync").setLevel(logging.WARNING)
    result = measure(arguments.products, arguments.restore_rate)
    print(
        f"{result.products} products x {len(STORES)} stores: {result.pushed} listings pushed, {result.failed} failed, "
        f"{result.calls} calls ({result.throttled} throttled) in {result.seconds:.1f} s\n"
        f"  charged {sum(result.cost_by_store.values()):.0f} points at "
        f"{result.restore_rate:g} points/s → bound {result.bound_s:.1f} s, ratio {result.ratio:.3f}; "
        f"against the busiest store's bucket alone {result.ratio_to_busiest_store:.3f}"
    )


if __name__ == "__main__":
    main()

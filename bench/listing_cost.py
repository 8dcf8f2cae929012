"""Shopify cost points per listing change: 100 products going pre-order in one store at once, pushed by shopsync's
batched sync, against the naive way (one call per field and product: policy, metafield, tag, quantity).

    python -m bench.listing_cost [--products 100]
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import httpx

from local.sandbox import Sandbox, sandbox
from local.scenarios import import_and_link_catalog, put_on_preorder
from shopsync.catalog.identifiers import legacy_id
from shopsync.jobs.clock import utc_now
from shopsync.models.listing import InventoryPolicy, ListingFields
from shopsync.models.presell import PresellCategory
from shopsync.preorder.shopify_listing import QuantityChange, StoreListingClient
from shopsync.preorder.sync import sync_products
from shopsync.shopify.client import ShopifyClient

STORE = "us-parent"
TIME_BUDGET_S = 600.0


@dataclass(frozen=True)
class ListingCost:
    products: int
    batched_points: float
    batched_calls: int
    naive_points: float
    naive_calls: int

    @property
    def batched_per_change(self) -> float:
        return self.batched_points / self.products

    @property
    def naive_per_change(self) -> float:
        return self.naive_points / self.products


def _parent_variants(box: Sandbox) -> list[dict]:
    state = httpx.get(f"{box.shopify.base_url}/_emulator/stores/{STORE}").json()
    return [{**v, "product_id": p["id"]} for p in state["products"] for v in p["variants"]]


def _naive_push(box: Sandbox, variants: list[dict]) -> tuple[float, int]:
    """What a sync without batching sends: four calls per product, one per field."""
    shop = box.shops[STORE]
    fields = ListingFields(
        inventory_policy=InventoryPolicy.DENY,
        status="active",
        preorder_type=PresellCategory.PRE_ORDER,
        promise_date="12/31/2026",
        tag="HC:Pre-Order",
        quantity=10,
    )
    now = utc_now()
    with ShopifyClient(shop.base_url, shop.api_version, f"shpat_local_{STORE}") as client:
        listing = StoreListingClient(shop, client)
        listing.location_id()
        before = client.stats
        for variant in variants:
            listing.update_variants(variant["product_id"], {variant["id"]: fields}, now)
            listing.set_metafields({variant["id"]: fields}, now)
            listing.change_tags(variant["product_id"], {"HC:Pre-Order"}, set())
            listing.set_quantities([QuantityChange(variant["inventory_item_id"], None, 10)], "gid://bench/naive")
        after = client.stats
    return after.cost_spent - before.cost_spent, after.calls - before.calls


def measure(products: int) -> ListingCost:
    with sandbox() as box:
        import_and_link_catalog(child_shop_ids=())
        variants = _parent_variants(box)
        batched, naive = variants[:products], variants[products : 2 * products]
        put_on_preorder([v["sku"] for v in batched], quantity=50)
        report = sync_products([legacy_id(v["id"]) for v in batched], now=utc_now(), time_left_s=lambda: TIME_BUDGET_S)
        if report.failed or len(report.pushed) != products:
            raise RuntimeError(f"batched sync did not push every listing: {report.failed}")
        naive_points, naive_calls = _naive_push(box, naive)
        return ListingCost(products, report.shopify_cost, report.shopify_calls, naive_points, naive_calls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=100)
    cost = measure(parser.parse_args().products)
    print(f"{cost.products} listing changes in one store")
    for name, points, calls, per_change in (
        ("batched", cost.batched_points, cost.batched_calls, cost.batched_per_change),
        ("naive", cost.naive_points, cost.naive_calls, cost.naive_per_change),
    ):
        print(f"  {name:<8} {points:>6.0f} points in {calls:>4} calls = {per_change:.2f} per change")


if __name__ == "__main__":
    main()

"""Checkout storm: skewed demand on one pre-order product sold in three stores, shopsync vs the HotWax model.

shopsync publishes the real pre-orderable quantity with DENY, so Shopify refuses the sale at zero, and the sweep
moves stock to the stores that sell (lower the donor first, compare-and-set). The HotWax model lists with CONTINUE
and no quantity, and delists only when its 15-minute job sees the PO ATP used up; everything sold in between is
oversold. Both face the same seeded storm on the same emulator.

    python -m bench.storm [--attempts 1000] [--atp 100]
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import httpx

from local.emulator import ShopifyEmulator
from local.sandbox import Sandbox, sandbox
from local.scenarios import import_and_link_catalog, put_on_preorder
from shopsync.catalog.identifiers import legacy_id
from shopsync.jobs.clock import utc_now
from shopsync.models.listing import InventoryPolicy, ListingFields
from shopsync.preorder.shopify_listing import QuantityChange, StoreListingClient
from shopsync.preorder.sync import sync_products
from shopsync.shopify.client import ShopifyClient
from shopsync.store import catalog as catalog_store

STORES = ("us-parent", "eu-child", "uk-child")
SWEEP_BUDGET_S = 60.0


@dataclass(frozen=True)
class StormConfig:
    po_atp: int = 100
    attempts: int = 1000
    minutes: int = 30  # the storm's length; attempts arrive evenly
    demand: Mapping[str, float] = field(default_factory=lambda: {"us-parent": 0.8, "eu-child": 0.17, "uk-child": 0.03})
    sweep_every_minutes: int = 1
    hotwax_delist_every_minutes: int = 15
    seed: int = 7


@dataclass(frozen=True)
class StormResult:
    model: str
    po_atp: int
    sold: Mapping[str, int]
    refused: int

    @property
    def total_sold(self) -> int:
        return sum(self.sold.values())

    @property
    def oversold(self) -> int:
        return max(0, self.total_sold - self.po_atp)

    @property
    def sell_through(self) -> float:
        return min(self.total_sold, self.po_atp) / self.po_atp


def run_storm(
    emulator: ShopifyEmulator,
    variants: Mapping[str, str],
    config: StormConfig,
    every_minute: Callable[[int, int], None],
    model: str,
) -> StormResult:
    """`config.attempts` single-unit checkouts spread over `config.minutes`; `every_minute(minute, sold)` runs at each
    minute boundary (the model's scheduled work)."""
    rng = random.Random(config.seed)
    shops = list(config.demand)
    weights = [config.demand[shop] for shop in shops]
    sold = dict.fromkeys(shops, 0)
    refused = 0
    minute = 0
    for attempt in range(config.attempts):
        now_minute = attempt * config.minutes // config.attempts
        while minute < now_minute:
            minute += 1
            every_minute(minute, sum(sold.values()))
        shop = rng.choices(shops, weights)[0]
        if emulator.checkout(shop, [{"variant_id": variants[shop], "quantity": 1}]).ok:
            sold[shop] += 1
        else:
            refused += 1
    return StormResult(model, config.po_atp, sold, refused)


def shopsync_storm(box: Sandbox, product_id: str, variants: Mapping[str, str], config: StormConfig) -> StormResult:
    def sweep(minute: int, _sold: int) -> None:
        if minute % config.sweep_every_minutes == 0:
            sync_products([product_id], now=utc_now(), time_left_s=lambda: SWEEP_BUDGET_S, reconcile=True)

    return run_storm(box.shopify.emulator, variants, config, sweep, "shopsync")


def hotwax_storm(box: Sandbox, variants: Mapping[str, dict[str, str]], config: StormConfig) -> StormResult:
    """Listed with CONTINUE and quantity 0 in every store; delisted (DENY) by the first 15-minute job that sees the PO
    ATP used up."""
    clients = {shop: ShopifyClient(box.shops[shop].base_url, "2026-07", f"shpat_local_{shop}") for shop in variants}
    listings = {shop: StoreListingClient(box.shops[shop], client) for shop, client in clients.items()}

    def set_policy(policy: InventoryPolicy) -> None:
        fields = ListingFields(
            inventory_policy=policy, status="active", preorder_type=None, promise_date="_NA_", tag=None, quantity=None
        )
        for shop, variant in variants.items():
            listings[shop].update_variants(variant["product_id"], {variant["id"]: fields}, utc_now())

    for shop, variant in variants.items():
        listings[shop].set_quantities([QuantityChange(variant["inventory_item_id"], None, 0)], "gid://bench/hotwax")
    set_policy(InventoryPolicy.CONTINUE)

    def delist_job(minute: int, sold: int) -> None:
        if minute % config.hotwax_delist_every_minutes == 0 and sold >= config.po_atp:
            set_policy(InventoryPolicy.DENY)

    try:
        return run_storm(box.shopify.emulator, {s: v["id"] for s, v in variants.items()}, config, delist_job, "hotwax")
    finally:
        for client in clients.values():
            client.close()


def linked_everywhere(box: Sandbox, count: int) -> list[str]:
    """Catalog products linked in all three stores after the association jobs, by product id."""
    state = httpx.get(f"{box.shopify.base_url}/_emulator/stores/us-parent").json()
    product_ids = sorted(legacy_id(v["id"]) for p in state["products"] for v in p["variants"])
    links = {shop: catalog_store.associations_in_shop(product_ids, shop) for shop in STORES}
    return [p for p in product_ids if all(p in links[shop] for shop in STORES)][:count]


def prepare(box: Sandbox, config: StormConfig) -> tuple[str, dict[str, str], dict[str, dict[str, str]]]:
    """One product on pre-order in three stores (listed by shopsync), and one more for the HotWax model."""
    import_and_link_catalog()
    shopsync_product, hotwax_product = linked_everywhere(box, 2)
    sku = catalog_store.get_product(shopsync_product).sku  # type: ignore[union-attr]
    put_on_preorder([str(sku)], quantity=config.po_atp)
    sync_products([shopsync_product], now=utc_now(), time_left_s=lambda: SWEEP_BUDGET_S)
    links = {a.shop_id: a for a in catalog_store.get_associations(shopsync_product)}
    hotwax_links = {a.shop_id: a for a in catalog_store.get_associations(hotwax_product)}
    return (
        shopsync_product,
        {shop: links[shop].shopify_variant_id for shop in STORES},
        {
            shop: {
                "id": hotwax_links[shop].shopify_variant_id,
                "product_id": hotwax_links[shop].shopify_product_id,
                "inventory_item_id": str(hotwax_links[shop].inventory_item_id),
            }
            for shop in STORES
        },
    )


def measure(config: StormConfig) -> tuple[StormResult, StormResult]:
    with sandbox() as box:
        product_id, variants, hotwax_variants = prepare(box, config)
        return shopsync_storm(box, product_id, variants, config), hotwax_storm(box, hotwax_variants, config)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=1000)
    parser.add_argument("--atp", type=int, default=100)
    arguments = parser.parse_args()
    config = StormConfig(po_atp=arguments.atp, attempts=arguments.attempts)
    for result in measure(config):
        print(
            f"{result.model:<9} sold {result.total_sold:>4} of ATP {result.po_atp} {dict(result.sold)}  "
            f"oversold {result.oversold:>4}  sell-through {result.sell_through:.2%}  refused {result.refused}"
        )


if __name__ == "__main__":
    main()

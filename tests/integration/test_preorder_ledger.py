"""The quantity ledger once pre-orders are imported: a sale leaves the store's `available` and, once imported, the
PO ATP; the sync must count it once, so the stores together go on offering exactly what the PO has left."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local.sandbox import RunningEmulator
from shopsync.catalog.identifiers import legacy_id
from shopsync.catalog.refresh import CATALOG_REFRESH
from shopsync.jobs import runner
from shopsync.models.jobs import JobInvocation
from shopsync.preorder.triggers import ProductChange, sync_changed
from shopsync.store import listings as listing_store
from tests.integration.test_order_import import ADDRESS, PLENTY, api, box, catalog, run_import, shared_sku, shopify

__all__ = ["box", "catalog", "shopify"]  # the module fixtures this file shares with the order-import tests

PO_QUANTITY = 12
STORES = ("us-parent", "eu-child", "uk-child")


@pytest.fixture
def preorder(catalog: dict[str, dict[str, dict[str, Any]]]) -> tuple[str, str]:
    """(sku, product id) of a linked product with no stock on a PO of 12, listed in all three stores."""
    sku = shared_sku(catalog, 2)
    arrival = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()
    item = {"externalId": "PO-LEDGER", "itemId": "1", "sku": sku, "quantity": PO_QUANTITY, "arrivalDate": arrival}
    assert api("POST", "/purchase-orders", {"items": [{**item, "isNewProduct": "Y"}]})[0] == 200
    assert api("PUT", "/inventory", [{"sku": sku, "on_hand": 0, "online_atp": 0}])[0] == 200
    runner.execute(CATALOG_REFRESH, JobInvocation(params={"mode": "incremental"}), lambda: PLENTY)
    product_id = legacy_id(catalog["us-parent"][sku]["id"])
    sync(product_id)
    return sku, product_id


def sync(product_id: str) -> None:
    deadline = time.monotonic() + 60
    report = sync_changed([ProductChange(product_id)], lambda: deadline - time.monotonic())
    assert not report.failed, report.failed


def offered(shopify: RunningEmulator, catalog: dict[str, dict[str, dict[str, Any]]], sku: str) -> dict[str, int]:
    """What each store's storefront can still sell of the variant."""
    return {shop_id: _available(shopify, shop_id, catalog[shop_id][sku]["id"]) for shop_id in STORES}


def _available(shopify: RunningEmulator, shop_id: str, variant_gid: str) -> int:
    products = shopify.emulator.inspect(shop_id)["products"]
    (variant,) = [v for product in products for v in product["variants"] if v["id"] == variant_gid]
    return sum(level.get("available", 0) for level in variant.get("inventory", {}).values())


def test_an_imported_preorder_is_counted_once_and_its_cancellation_gives_the_units_back(preorder, catalog, shopify):
    sku, product_id = preorder
    assert sum(offered(shopify, catalog, sku).values()) == PO_QUANTITY

    # When a customer of the EU store pre-orders 3 and the order is imported (the PO ATP drops to 9)
    bought = shopify.emulator.checkout(
        "eu-child",
        [{"variant_id": catalog["eu-child"][sku]["id"], "quantity": 3}],
        email="ada@example.com",
        shipping_address=ADDRESS,
    )
    assert bought.ok, bought
    run_import("eu-child")
    state, hold = listing_store.listing_and_hold(product_id, "eu-child")
    assert hold is not None and state is not None and hold.units == 3 and hold.listed_since == state.listed_since
    sync(product_id)

    # Then the stores together offer the 9 the PO has left, not 6 (the sale counted twice)
    assert sum(offered(shopify, catalog, sku).values()) == PO_QUANTITY - 3

    # When the order is cancelled with a restock and the cancellation imported
    order_id = legacy_id(bought.order_id or "")
    shopify.emulator.cancel_order("eu-child", order_id, "CUSTOMER", restock=True)
    run_import("eu-child")
    sync(product_id)

    # Then the 3 are offered again, once
    assert listing_store.listing_and_hold(product_id, "eu-child")[1].units == 0  # type: ignore[union-attr]
    assert sum(offered(shopify, catalog, sku).values()) == PO_QUANTITY

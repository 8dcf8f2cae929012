"""Pre-order sync against the emulator's stores: the seed-000 story, diff push, store isolation, sweep repair."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from functions.api.app import lambda_handler as api_handler
from local.sandbox import RunningEmulator
from shopsync.catalog.identifiers import legacy_id
from shopsync.catalog.product_import import PRODUCT_IMPORT
from shopsync.catalog.refresh import CATALOG_REFRESH
from shopsync.jobs import runner
from shopsync.jobs.clock import utc_now
from shopsync.models.catalog import Association, AssociationSource
from shopsync.models.jobs import JobInvocation
from shopsync.models.listing import InventoryPolicy, PushStatus
from shopsync.preorder.shopify_listing import StoreListingClient, VariantSnapshot
from shopsync.preorder.triggers import PREORDER_SWEEP, ProductChange, sync_changed
from shopsync.shopify.client import ShopifyClient
from shopsync.store import catalog as catalog_store
from shopsync.store import listings as listing_store
from tests.factories import api_event, lambda_context

PO_QUANTITY = 90
PLENTY = 600_000


def run(definition, **invocation) -> None:
    runner.execute(definition, JobInvocation(**invocation), lambda: PLENTY)


def api(method: str, path: str, body: object = None, query: dict[str, str] | None = None) -> tuple[int, dict]:
    response = api_handler(api_event(method, path, body, query), lambda_context())
    return response["statusCode"], json.loads(response["body"] or "null")


def store_variants(shopify: RunningEmulator, shop_id: str) -> dict[str, dict]:
    state = httpx.get(f"{shopify.base_url}/_emulator/stores/{shop_id}").json()
    return {
        variant["sku"]: {**variant, "product_id": product["id"]}
        for product in state["products"]
        for variant in product["variants"]
    }


def shown(presell: dict, shop_id: str, variant_gid: str) -> VariantSnapshot:
    """What the store shows, read through the Admin API like any client would."""
    shop = presell["shops"][shop_id]
    with ShopifyClient(shop.base_url, "2026-07", f"shpat_local_{shop_id}") as client:
        return StoreListingClient(shop, client).snapshots([variant_gid])[variant_gid]


def mutations(shopify: RunningEmulator, shop_id: str) -> int:
    return sum(shopify.emulator.stats(shop_id)["mutations"].values())


@pytest.fixture
def presell(demo_shops, shopify):
    """A parent product with no stock, on a pre-order PO of 90, in the pre-sell catalog; linked to the parent only."""
    run(PRODUCT_IMPORT, shop_id="us-parent")
    parent = store_variants(shopify, "us-parent")
    child = store_variants(shopify, "eu-child")
    sku = next(s for s, v in sorted(parent.items()) if s in child and _available(v) == 0)
    product_id = legacy_id(parent[sku]["id"])
    arrival = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()
    status, _ = api(
        "POST",
        "/purchase-orders",
        {
            "items": [
                {
                    "externalId": "PO-1",
                    "itemId": "1",
                    "sku": sku,
                    "quantity": PO_QUANTITY,
                    "arrivalDate": arrival,
                    "isNewProduct": "Y",
                }
            ]
        },
    )
    assert status == 200
    assert api("PUT", "/inventory", [{"sku": sku, "on_hand": 0, "online_atp": 0}])[0] == 200
    run(CATALOG_REFRESH, params={"mode": "incremental"})
    return {
        "product_id": product_id,
        "parent": parent[sku],
        "child": child[sku],
        "arrival": arrival,
        "shops": demo_shops,
    }


def _available(variant: dict) -> int:
    return sum(level.get("available", 0) for level in variant.get("inventory", {}).values())


def link_child(presell: dict) -> None:
    child = presell["child"]
    catalog_store.put_association(
        Association(
            product_id=presell["product_id"],
            shop_id="eu-child",
            shopify_product_id=child["product_id"],
            shopify_variant_id=child["id"],
            inventory_item_id=child["inventory_item_id"],
            source=AssociationSource.ASSOCIATION_JOB,
            linked_at=utc_now(),
        )
    )


def sync(product_id: str, budget_s: float = 60.0):
    deadline = time.monotonic() + budget_s
    return sync_changed([ProductChange(product_id)], lambda: deadline - time.monotonic())


def test_seed_000_child_linked_after_the_listing_gets_listed_then_delisted(presell, shopify):
    product_id = presell["product_id"]
    # Given: the product went pre-order while only the parent store was linked
    report = sync(product_id)
    assert report.pushed == [f"{product_id}/us-parent"] and report.failed == {}
    parent = shown(presell, "us-parent", presell["parent"]["id"])
    assert parent.inventory_policy is InventoryPolicy.DENY
    assert parent.metafield["status"] == "active" and parent.metafield["preorderType"] == "PRE_ORDER"
    assert parent.metafield["promise_date"] == datetime.fromisoformat(presell["arrival"]).strftime("%m/%d/%Y")
    assert "HC:Pre-Order" in parent.product_tags
    assert parent.available == PO_QUANTITY
    # When: the association job links the child store later (the write the stream delivers)
    link_child(presell)
    report = sync(product_id)
    # Then: the child is listed with no other action, and the PO ATP is shared, never over-offered
    assert f"{product_id}/eu-child" in report.pushed
    child = shown(presell, "eu-child", presell["child"]["id"])
    parent = shown(presell, "us-parent", presell["parent"]["id"])
    assert child.metafield["status"] == "active" and "HC:Pre-Order" in child.product_tags
    assert child.available + parent.available == PO_QUANTITY and child.available > 0
    # When: the association is deleted
    catalog_store.delete_association(product_id, "eu-child")
    sync(product_id)
    # Then: the child is delisted (metafield inactive, tag removed, its own policy and quantity back)
    child = shown(presell, "eu-child", presell["child"]["id"])
    assert child.metafield["status"] == "inactive" and "HC:Pre-Order" not in child.product_tags
    assert child.inventory_policy.value == presell["child"]["inventory_policy"]
    assert child.available == _available(presell["child"])
    assert shown(presell, "us-parent", presell["parent"]["id"]).available == PO_QUANTITY


def test_a_second_sync_with_no_change_sends_no_mutation(presell, shopify):
    link_child(presell)
    sync(presell["product_id"])
    before = mutations(shopify, "us-parent") + mutations(shopify, "eu-child")
    report = sync(presell["product_id"])
    assert mutations(shopify, "us-parent") + mutations(shopify, "eu-child") == before
    assert report.pushed == [] and len(report.unchanged) == 2


def test_a_failing_store_does_not_block_the_others_and_the_sweep_retries_it(presell, shopify):
    link_child(presell)
    shopify.emulator.inject_fault("eu-child", "5xx", count=100)
    report = sync(presell["product_id"], budget_s=3)  # the client retries 5xx within the time it has
    assert f"{presell['product_id']}/us-parent" in report.pushed
    assert f"{presell['product_id']}/eu-child" in report.failed
    failed = listing_store.product_sync_inputs(presell["product_id"]).states["eu-child"]
    assert failed.status is PushStatus.FAILED and failed.attempts == 1 and "503" in (failed.error or "")
    # When: Shopify recovers and the sweep runs after the backoff
    shopify.emulator.clear_faults("eu-child")
    listing_store.save_states([failed.model_copy(update={"next_attempt_at": utc_now() - timedelta(seconds=1)})])
    run(PREORDER_SWEEP, shop_id="eu-child")
    state = listing_store.product_sync_inputs(presell["product_id"]).states["eu-child"]
    assert state.status is PushStatus.PUSHED and state.error is None
    child = shown(presell, "eu-child", presell["child"]["id"])
    parent = shown(presell, "us-parent", presell["parent"]["id"])
    assert child.metafield["status"] == "active" and child.available + parent.available <= PO_QUANTITY


def test_manual_resync_repairs_a_manual_edit_in_shopify(presell, shopify):
    sync(presell["product_id"])
    # Given: someone turned "continue selling" back on in the Shopify admin
    variant = presell["parent"]
    httpx.post(
        f"{shopify.store_url('us-parent')}/admin/api/2026-07/graphql.json",
        headers={"X-Shopify-Access-Token": "shpat_local_us-parent"},
        json={
            "query": "mutation($p: ID!, $v: [ProductVariantsBulkInput!]!) { productVariantsBulkUpdate(productId: $p, "
            "variants: $v) { userErrors { message } } }",
            "variables": {"p": variant["product_id"], "v": [{"id": variant["id"], "inventoryPolicy": "CONTINUE"}]},
        },
    )
    # When: the operator asks for a resync through the API
    status, report = api("POST", f"/products/{presell['product_id']}/sync")
    # Then: what Shopify shows is read and repaired
    assert status == 200 and report["pushed"] == [f"{presell['product_id']}/us-parent"]
    assert shown(presell, "us-parent", variant["id"]).inventory_policy is InventoryPolicy.DENY


def test_resync_of_an_unknown_product_is_a_404(demo_shops):
    status, body = api("POST", "/products/999999/sync")
    assert status == 404 and "not in the catalog" in body["reason"]


def test_the_product_tag_stays_while_another_variant_is_listed_and_goes_with_the_last(demo_shops, shopify):
    # Given: two sizes of one product, out of stock, both on a pre-order PO and listed in the parent store
    run(PRODUCT_IMPORT, shop_id="us-parent")
    by_product: dict[str, list[dict]] = {}
    for variant in store_variants(shopify, "us-parent").values():
        by_product.setdefault(variant["product_id"], []).append(variant)
    first, second = next(variants for variants in by_product.values() if len(variants) >= 2)[:2]
    arrival = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()
    items = [
        {"externalId": "PO-TAG", "itemId": str(n), "sku": v["sku"], "quantity": 10, "arrivalDate": arrival}
        for n, v in enumerate((first, second))
    ]
    assert api("POST", "/purchase-orders", {"items": [{**item, "isNewProduct": "Y"} for item in items]})[0] == 200
    out_of_stock = [{"sku": v["sku"], "on_hand": 0, "online_atp": 0} for v in (first, second)]
    assert api("PUT", "/inventory", out_of_stock)[0] == 200
    run(CATALOG_REFRESH, params={"mode": "incremental"})
    first_id, second_id = legacy_id(first["id"]), legacy_id(second["id"])
    sync(first_id)
    sync(second_id)  # listed by a later sync: the product already has the tag
    presell = {"shops": demo_shops}
    assert "HC:Pre-Order" in shown(presell, "us-parent", first["id"]).product_tags

    # When: the first size is back in stock and leaves the pre-sell catalog
    assert api("PUT", "/inventory", [{"sku": first["sku"], "on_hand": 5, "online_atp": 5}])[0] == 200
    run(CATALOG_REFRESH, params={"mode": "incremental"})
    sync(first_id)
    # Then: the product keeps its tag, the second size still being on pre-order
    assert shown(presell, "us-parent", first["id"]).metafield["status"] == "inactive"
    assert "HC:Pre-Order" in shown(presell, "us-parent", second["id"]).product_tags

    # When: the second size is back in stock too → Then: the tag goes
    assert api("PUT", "/inventory", [{"sku": second["sku"], "on_hand": 5, "online_atp": 5}])[0] == 200
    run(CATALOG_REFRESH, params={"mode": "incremental"})
    sync(second_id)
    assert "HC:Pre-Order" not in shown(presell, "us-parent", second["id"]).product_tags

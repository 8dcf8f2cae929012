"""Product import end to end in-process: handler → job framework → Shopify client → emulator (loopback) → moto."""

from __future__ import annotations

import json

import httpx
import pytest

from functions.api.app import lambda_handler as api_handler
from functions.product_import.app import lambda_handler as import_handler
from local.sandbox import RunningEmulator
from shopsync.catalog.identifiers import legacy_id, normalize_sku
from shopsync.errors import ChildStoreRefused
from shopsync.jobs.clock import utc_now
from shopsync.jobs.registry import registered_job
from shopsync.jobs.runner import queue_run
from shopsync.models.jobs import JobName, RunStatus
from shopsync.models.shop import IdentifierType
from shopsync.store import catalog as catalog_store
from shopsync.store import jobs as job_store
from tests.factories import api_event, lambda_context, load_event

IMPORT = JobName.PRODUCT_IMPORT


def parent_variants(shopify: RunningEmulator) -> list[dict]:
    state = httpx.get(f"{shopify.base_url}/_emulator/stores/us-parent").json()
    return [variant for product in state["products"] for variant in product["variants"]]


def run_import(params: dict | None = None, timeout_s: int = 600, shop_id: str | None = None) -> dict:
    event = load_event("product_import_schedule.json")
    event["params"] = params or {}
    if shop_id:
        event["shop_id"] = shop_id
    (run,) = import_handler(event, lambda_context(timeout_s))["runs"]
    return run


def rename_product(shopify: RunningEmulator, product_gid: str, title: str) -> None:
    """Change a product the way merchant tooling does: productSet through the Admin API."""
    mutation = """
    mutation Rename($input: ProductSetInput!) {
      productSet(input: $input, synchronous: true) { product { id } userErrors { field message } }
    }"""
    response = httpx.post(
        f"{shopify.store_url('us-parent')}/admin/api/2026-07/graphql.json",
        headers={"X-Shopify-Access-Token": "shpat_local_us-parent"},
        json={"query": mutation, "variables": {"input": {"id": product_gid, "title": title}}},
    )
    assert response.json()["data"]["productSet"]["userErrors"] == []


def test_full_import_stores_every_parent_variant_with_identifiers_and_parent_link(demo_shops, shopify):
    # Given: the seeded parent store
    variants = parent_variants(shopify)
    # When: the scheduled import runs for the first time (no watermark → full load through a bulk operation)
    run = run_import()
    # Then: every variant is a catalog product, linked to the parent store and findable by its SKU
    stored = job_store.get_run(run["run_id"])
    assert stored.status is RunStatus.FINISHED and stored.completed, stored.error
    assert stored.counts.read == stored.counts.written == len(variants) >= 200
    assert stored.shopify_cost > 0 and stored.shopify_calls >= 3  # start, poll, download
    sample = variants[0]
    product = catalog_store.get_product(legacy_id(sample["id"]))
    assert product is not None and product.sku == sample["sku"]
    (link,) = catalog_store.get_associations(product.product_id)
    assert (link.shop_id, link.shopify_variant_id) == ("us-parent", sample["id"])
    assert catalog_store.product_ids_by_identifier(IdentifierType.SKU, normalize_sku(sample["sku"])) == [
        product.product_id
    ]
    assert job_store.get_watermark(IMPORT, "us-parent") == stored.started_at


def test_incremental_run_writes_only_what_changed(demo_shops, shopify):
    run_import()
    # Given: nothing changed since the full load → an incremental run writes nothing (idempotent re-run)
    quiet = job_store.get_run(run_import()["run_id"])
    assert quiet.completed and quiet.counts.written == 0
    assert quiet.counts.read == quiet.counts.skipped > 0, "the overlap re-reads the recent changes, then dedupes"
    # When: one product is renamed in Shopify
    product = httpx.get(f"{shopify.base_url}/_emulator/stores/us-parent").json()["products"][3]
    rename_product(shopify, product["id"], "Renamed Tee")
    changed = job_store.get_run(run_import()["run_id"])
    # Then: only that product's variants are written; everything else read in the overlap is unchanged
    assert changed.counts.written == len(product["variants"])
    assert catalog_store.get_product(legacy_id(product["variants"][0]["id"])).title == "Renamed Tee"


def test_child_store_is_refused_and_nothing_changes(demo_shops, shopify):
    with pytest.raises(ChildStoreRefused, match="child store"):
        run_import(shop_id="eu-child")
    assert job_store.list_runs(IMPORT) == []
    assert catalog_store.get_product(legacy_id(parent_variants(shopify)[0]["id"])) is None


def test_run_now_for_a_child_store_is_a_422_with_the_reason(demo_shops):
    response = api_handler(api_event("POST", "/jobs/product-import/runs", {"shop_id": "eu-child"}), lambda_context())
    assert response["statusCode"] == 422
    body = json.loads(response["body"])
    assert "parent store" in body["reason"] and body["shop_id"] == "eu-child"
    assert job_store.list_runs(IMPORT) == []


def test_run_now_while_a_run_holds_the_lease_is_a_409_naming_it(demo_shops):
    running = queue_run(registered_job(IMPORT).definition, "us-parent", {}, utc_now())
    response = api_handler(api_event("POST", "/jobs/product-import/runs", {"shop_id": "us-parent"}), lambda_context())
    assert response["statusCode"] == 409
    assert json.loads(response["body"])["running_run_id"] == running.run_id


def test_a_run_out_of_time_suspends_and_the_next_run_resumes_the_bulk_operation(demo_shops, shopify):
    # Given: a run with almost no time left (DEADLINE_MARGIN_MS is 10 s in tests)
    first = job_store.get_run(run_import(timeout_s=11)["run_id"])
    # Then: it started the bulk operation, saved it as its cursor and left the watermark alone
    assert first.status is RunStatus.FINISHED and not first.completed
    cursor = job_store.get_cursor(IMPORT, "us-parent")
    assert cursor is not None and cursor.state["operation_id"].startswith("gid://shopify/BulkOperation/")
    assert job_store.get_watermark(IMPORT, "us-parent") is None
    # When: the next run has time
    second = job_store.get_run(run_import()["run_id"])
    # Then: it finishes the same operation (no second export) inside the first run's window
    assert second.completed and second.counts.written == len(parent_variants(shopify))
    assert job_store.get_watermark(IMPORT, "us-parent") == cursor.window_end
    assert job_store.get_cursor(IMPORT, "us-parent") is None

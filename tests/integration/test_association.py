"""The association job and manual association against moto and the emulator's seeded demo stores: the catalog comes
from a product import of us-parent; eu-child matches by SKU, uk-child by barcode.

One moto table per module, on which both child stores are associated once: a first run reads the whole store and
looks every identifier up in the catalog, and moto answers each query in time proportional to the table size, so the
tests share that state and run in file order (the last one changes eu-child in the emulator)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from moto import mock_aws

from functions.api.app import lambda_handler as api_handler
from local.sandbox import RunningEmulator, create_store_tokens, register_demo_shops
from shopsync.catalog.association import ASSOCIATION, association_status
from shopsync.catalog.identifiers import legacy_id, normalize
from shopsync.catalog.product_import import PRODUCT_IMPORT
from shopsync.errors import UnprocessableRequest
from shopsync.jobs import runner
from shopsync.jobs.runner import JobDefinition
from shopsync.models.association import UnmatchedReason
from shopsync.models.catalog import AssociationSource
from shopsync.models.jobs import JobInvocation, JobRun
from shopsync.models.shop import IdentifierType, Shop, ShopRole
from shopsync.settings import get_settings
from shopsync.shopify.client import ShopifyClient
from shopsync.store import catalog as catalog_store
from shopsync.store.aws import dynamodb_client, reset_clients
from tests.factories import api_event, create_table_from_template, lambda_context, register_shop_record

PLENTY_OF_TIME_MS = 600_000
CHILD_STORES = {"eu-child": IdentifierType.SKU, "uk-child": IdentifierType.BARCODE}

PRODUCT_SET = """
mutation AddProduct($input: ProductSetInput!) {
  productSet(input: $input, synchronous: true) {
    product { variants(first: 1) { nodes { id legacyResourceId inventoryItem { id } } } }
    userErrors { field message code }
  }
}
"""


def run_job(definition: JobDefinition, shop_id: str, params: dict[str, Any] | None = None) -> JobRun:
    invocation = JobInvocation(source="api", shop_id=shop_id, params=params or {})
    (run,) = runner.execute(definition, invocation, lambda: PLENTY_OF_TIME_MS)
    return run


@dataclass(frozen=True)
class LinkedStores:
    shops: dict[str, Shop]
    first_runs: dict[str, JobRun]


@pytest.fixture(scope="module")
def linked(shopify: RunningEmulator) -> Iterator[LinkedStores]:
    """us-parent imported, then eu-child and uk-child associated once. No overlap, so an incremental run reads only
    what changed after the previous run."""
    with pytest.MonkeyPatch.context() as env, mock_aws():
        env.setenv("OVERLAP_SECONDS", "0")
        get_settings.cache_clear()
        reset_clients()
        create_table_from_template(get_settings().table_name)
        create_store_tokens()
        shops = register_demo_shops(shopify)
        run_job(PRODUCT_IMPORT, "us-parent", {"mode": "incremental"})
        yield LinkedStores(shops, {shop_id: run_job(ASSOCIATION, shop_id) for shop_id in CHILD_STORES})
    get_settings.cache_clear()
    reset_clients()


def variants_of(shopify: RunningEmulator, shop_id: str) -> list[dict[str, Any]]:
    return [variant for product in shopify.emulator.inspect(shop_id)["products"] for variant in product["variants"]]


def expected_outcomes(shopify: RunningEmulator, shop_id: str, kind: IdentifierType) -> dict[str, str]:
    """The rule applied by hand to the seeded data: variant legacy id → product id or unmatched reason."""
    field = kind.value.lower()
    catalog_ids: dict[str, list[str]] = {}
    for variant in variants_of(shopify, "us-parent"):
        if value := normalize(kind, variant[field]):
            catalog_ids.setdefault(value, []).append(legacy_id(variant["id"]))
    child = {legacy_id(v["id"]): normalize(kind, v[field]) for v in variants_of(shopify, shop_id)}
    in_store = Counter(value for value in child.values() if value)
    outcomes = {}
    for variant_id, value in child.items():
        if value is None:
            outcomes[variant_id] = UnmatchedReason.MISSING_IDENTIFIER.value
        elif in_store[value] > 1:
            outcomes[variant_id] = UnmatchedReason.DUPLICATE_IN_STORE.value
        elif len(catalog_ids.get(value, [])) != 1:
            many = len(catalog_ids.get(value, [])) > 1
            outcomes[variant_id] = (UnmatchedReason.DUPLICATE_IN_CATALOG if many else UnmatchedReason.NO_MATCH).value
        else:
            outcomes[variant_id] = catalog_ids[value][0]
    return outcomes


def call_api(method: str, path: str, body: Any = None, query: dict[str, str] | None = None) -> tuple[int, Any]:
    response = api_handler(api_event(method, path, body, query), lambda_context())
    return response["statusCode"], json.loads(response["body"]) if response.get("body") else None


def actual_outcomes(shopify: RunningEmulator, shop_id: str, unmatched: list[dict[str, Any]]) -> dict[str, str]:
    """Variant legacy id → linked product id (from the association items) or recorded reason."""
    outcomes = {legacy_id(record["variant_id"]): record["reason"] for record in unmatched}
    for association in catalog_store.associations_in_shop(parent_product_ids(shopify), shop_id).values():
        outcomes[legacy_id(association.shopify_variant_id)] = association.product_id
    return outcomes


def parent_product_ids(shopify: RunningEmulator) -> list[str]:
    return [legacy_id(variant["id"]) for variant in variants_of(shopify, "us-parent")]


JOB_BOOKKEEPING = ("JOB#", "RUN#")  # leases, watermarks, cursors and run records
WRITE_OPERATIONS = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")


@contextmanager
def catalog_writes() -> Iterator[list[tuple[str, str]]]:
    """(operation, PK) of every DynamoDB write made inside the block, job bookkeeping left out."""
    writes: list[tuple[str, str]] = []

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        requests = [params] if "Item" in params or "Key" in params else []
        for batch in params.get("RequestItems", {}).values():
            requests += [request.get("PutRequest") or request.get("DeleteRequest") for request in batch]
        requests += [next(iter(operation.values())) for operation in params.get("TransactItems", [])]
        for request in requests:
            pk = (request.get("Item") or request.get("Key"))["PK"]["S"]
            if not pk.startswith(JOB_BOOKKEEPING):
                writes.append((model.name, pk))

    events = dynamodb_client().meta.events
    for operation in WRITE_OPERATIONS:
        events.register(f"before-call.dynamodb.{operation}", record)
    try:
        yield writes
    finally:
        for operation in WRITE_OPERATIONS:
            events.unregister(f"before-call.dynamodb.{operation}", record)


def unmatched_of(shop_id: str) -> list[dict[str, Any]]:
    status, body = call_api("GET", "/associations/unmatched", query={"shop": shop_id})
    assert status == 200, body
    return body["items"]


@pytest.mark.parametrize(("shop_id", "kind"), CHILD_STORES.items())
def test_child_store_variants_are_linked_or_reported_with_their_reason(shopify, linked, shop_id, kind):
    run = linked.first_runs[shop_id]

    expected = expected_outcomes(shopify, shop_id, kind)
    unmatched = unmatched_of(shop_id)
    assert actual_outcomes(shopify, shop_id, unmatched) == expected
    reasons = Counter(outcome for outcome in expected.values() if not outcome.isdigit())
    assert run.counts.read == len(expected) and run.counts.failed == sum(reasons.values())
    linked_products = [outcome for outcome in expected.values() if outcome.isdigit()]
    # A first run may link a variant and unlink it when its duplicate turns up on a later page.
    assert run.counts.written >= len(linked_products) > 0
    assert all(record["message"] and record["identifier_type"] == kind.value for record in unmatched)
    association = catalog_store.get_association(linked_products[0], shop_id)
    assert association and association.source is AssociationSource.ASSOCIATION_JOB
    assert association.shopify_variant_id.startswith("gid://shopify/ProductVariant/")


def test_the_seeded_anomalies_are_reported_exactly(linked):
    eu = Counter(record["reason"] for record in unmatched_of("eu-child"))
    # eu-child: two SKUs carried by two variants each; its three missing SKUs are simply absent (nothing to report).
    assert eu == {UnmatchedReason.DUPLICATE_IN_STORE.value: 4}
    duplicated = [r for r in unmatched_of("eu-child") if r["reason"] == UnmatchedReason.DUPLICATE_IN_STORE.value]
    assert all(len(r["sharing_variant_ids"]) == 1 for r in duplicated)
    assert len({r["identifier"] for r in duplicated}) == 2
    # uk-child matches by barcode: its SKU typed in lower case with a trailing space does not matter.
    assert unmatched_of("uk-child") == []
    status, body = call_api(
        "GET", "/associations/unmatched", query={"shop": "eu-child", "reason": "NO_MATCH", "limit": "1"}
    )
    assert (status, body["items"], body["next_after"]) == (200, [], None)
    status, body = call_api("GET", "/associations/unmatched", query={"shop": "eu-child", "limit": "3"})
    assert len(body["items"]) == 3 and body["next_after"]
    status, rest = call_api("GET", "/associations/unmatched", query={"shop": "eu-child", "after": body["next_after"]})
    assert len(rest["items"]) == 1 and rest["next_after"] is None
    assert call_api("GET", "/associations/unmatched", query={"shop": "nowhere"})[0] == 404
    assert call_api("GET", "/associations/unmatched")[0] == 422


def test_a_rerun_writes_nothing(linked):
    with catalog_writes() as writes:
        full_again = run_job(ASSOCIATION, "eu-child", {"mode": "full"})
        incremental = run_job(ASSOCIATION, "eu-child")

    assert writes == []
    assert full_again.counts.written == incremental.counts.written == 0
    assert full_again.counts.read == linked.first_runs["eu-child"].counts.read
    assert full_again.counts.failed == linked.first_runs["eu-child"].counts.failed
    assert incremental.counts.read == 0


def test_the_parent_store_is_refused(linked):
    with pytest.raises(UnprocessableRequest, match="parent store"):
        run_job(ASSOCIATION, "us-parent")
    status, body = call_api("POST", "/jobs/association/runs", {"shop_id": "us-parent"})
    assert status == 422 and "parent store" in body["reason"]


def test_association_status_says_why_a_product_is_not_linked(shopify, linked):
    parent = {legacy_id(v["id"]): v for v in variants_of(shopify, "us-parent")}
    eu_skus = Counter(normalize(IdentifierType.SKU, v["sku"]) for v in variants_of(shopify, "eu-child"))
    missing = next(p for p, v in parent.items() if eu_skus[normalize(IdentifierType.SKU, v["sku"])] == 0)
    duplicated = next(p for p, v in parent.items() if eu_skus[normalize(IdentifierType.SKU, v["sku"])] == 2)
    linked_one = next(p for p, v in parent.items() if eu_skus[normalize(IdentifierType.SKU, v["sku"])] == 1)
    eu_child = linked.shops["eu-child"]

    missing_sku = normalize(IdentifierType.SKU, parent[missing]["sku"])
    assert association_status(missing, eu_child).reason == f"no variant in eu-child has SKU {missing_sku}"
    duplicated_sku = normalize(IdentifierType.SKU, parent[duplicated]["sku"])
    assert (
        association_status(duplicated, eu_child).reason == f"SKU {duplicated_sku} is shared by 2 variants in eu-child"
    )
    status = association_status(linked_one, eu_child)
    assert status.linked and status.association and status.association.shop_id == "eu-child"
    ca_child = register_shop_record("ca-child", role=ShopRole.CHILD, currency="CAD")
    assert association_status(linked_one, ca_child).reason == "association job has not run for ca-child"


def test_manual_association_through_the_api(shopify, linked):
    duplicated = [r for r in unmatched_of("eu-child") if r["reason"] == UnmatchedReason.DUPLICATE_IN_STORE.value]
    record = duplicated[0]
    parent_by_sku = {normalize(IdentifierType.SKU, v["sku"]): v for v in variants_of(shopify, "us-parent")}
    product_id = legacy_id(parent_by_sku[record["identifier"]]["id"])
    path = f"/products/{product_id}/shops/eu-child"
    body = {"shopify_product_id": legacy_id(record["shopify_product_id"]), "shopify_variant_id": record["variant_id"]}

    status, created = call_api("PUT", path, body)
    assert status == 201, created
    assert created["source"] == "manual" and created["shopify_product_id"] == record["shopify_product_id"]
    assert created["inventory_item_id"].startswith("gid://shopify/InventoryItem/")
    assert record["variant_id"] not in {r["variant_id"] for r in unmatched_of("eu-child")}
    with catalog_writes() as writes:
        assert call_api("PUT", path, {**body, "inventory_item_id": created["inventory_item_id"]})[0] == 200
        # The job re-checks the other variant with that SKU, and leaves the operator's link alone.
        assert run_job(ASSOCIATION, "eu-child").counts.written == 0
    assert writes == []

    status, refused = call_api("PUT", path, {**body, "shopify_product_id": "1"})
    assert status == 422 and "belongs to product" in refused["reason"]
    status, refused = call_api("PUT", path, {**body, "inventory_item_id": "1"})
    assert status == 422 and "inventory item" in refused["reason"]
    status, refused = call_api("PUT", path, {**body, "shopify_variant_id": "1"})
    assert status == 422 and "does not exist" in refused["reason"]
    other_product = next(p for p in parent_product_ids(shopify) if p != product_id)
    status, refused = call_api("PUT", f"/products/{other_product}/shops/eu-child", body)
    assert status == 409 and f"already linked to product {product_id}" in refused["reason"]
    assert call_api("PUT", "/products/1/shops/eu-child", body)[0] == 404
    assert call_api("PUT", f"/products/{product_id}/shops/nowhere", body)[0] == 404
    assert call_api("PUT", f"/products/{product_id}/shops/us-parent", body)[0] == 422

    assert call_api("DELETE", path) == (204, None)
    assert catalog_store.get_association(product_id, "eu-child") is None
    assert call_api("DELETE", path)[0] == 404
    # Unlinked again, the variant is a duplicate again once the job re-checks.
    run_job(ASSOCIATION, "eu-child")
    assert record["variant_id"] in {r["variant_id"] for r in unmatched_of("eu-child")}


def add_child_variant(shop: Shop, title: str, sku: str) -> dict[str, Any]:
    with ShopifyClient(shop.base_url, shop.api_version, f"shpat_local_{shop.shop_id}") as client:
        response = client.execute(
            PRODUCT_SET,
            {
                "input": {
                    "title": title,
                    "productOptions": [{"name": "Title", "values": [{"name": "Default Title"}]}],
                    "variants": [
                        {"optionValues": [{"optionName": "Title", "name": "Default Title"}], "sku": sku, "price": "9"}
                    ],
                }
            },
        )
    payload = response.data["productSet"]
    assert not payload["userErrors"], payload["userErrors"]
    return payload["product"]["variants"]["nodes"][0]


def test_incremental_run_sees_changed_variants_against_the_whole_store(shopify, linked):
    """Runs last in this module: it adds products to eu-child."""
    expected = expected_outcomes(shopify, "eu-child", IdentifierType.SKU)
    linked_variants = {product_id: variant_id for variant_id, product_id in expected.items() if product_id.isdigit()}
    parent = {legacy_id(v["id"]): v for v in variants_of(shopify, "us-parent")}
    child_skus = {normalize(IdentifierType.SKU, v["sku"]) for v in variants_of(shopify, "eu-child")}
    missing_in_child = next(p for p, v in parent.items() if normalize(IdentifierType.SKU, v["sku"]) not in child_skus)
    already_linked = next(iter(linked_variants))

    new_match = add_child_variant(linked.shops["eu-child"], "Now sold in the EU", parent[missing_in_child]["sku"])
    # The SKU of a variant linked in an earlier run, typed differently: now a duplicate in the store.
    clash = add_child_variant(linked.shops["eu-child"], "Clash", f" {parent[already_linked]['sku'].lower()} ")

    run = run_job(ASSOCIATION, "eu-child")

    assert run.counts.read == 2
    association = catalog_store.get_association(missing_in_child, "eu-child")
    assert association and association.shopify_variant_id == new_match["id"]
    assert association.inventory_item_id == new_match["inventoryItem"]["id"]
    assert catalog_store.get_association(already_linked, "eu-child") is None
    duplicates = {
        legacy_id(r["variant_id"]): r["sharing_variant_ids"]
        for r in unmatched_of("eu-child")
        if r["reason"] == UnmatchedReason.DUPLICATE_IN_STORE.value
    }
    assert duplicates[clash["legacyResourceId"]] == [linked_variants[already_linked]]
    assert duplicates[linked_variants[already_linked]] == [clash["legacyResourceId"]]

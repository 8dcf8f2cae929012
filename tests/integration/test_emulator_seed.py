"""Demo seeding over a real loopback server: catalog size, identifiers, child-store anomalies, control endpoints."""

import httpx
import pytest

from local.emulator import ShopifyEmulator, serve_in_thread
from local.emulator.seed import PARENT, SeedSummary, build_catalog, seed_demo_stores, upc_a
from local.emulator.testing import AdminGraphQL

VARIANTS = """query($after: String) { productVariants(first: 250, after: $after) {
  nodes { sku barcode inventoryQuantity inventoryPolicy product { handle } }
  pageInfo { hasNextPage endCursor } } }"""


@pytest.fixture(scope="module")
def served():
    emulator = ShopifyEmulator()
    server, base_url = serve_in_thread(emulator, host="127.0.0.1", port=0)
    summary = seed_demo_stores(base_url)
    with httpx.Client(base_url=base_url, timeout=10) as client:
        yield emulator, base_url, summary, client
    server.shutdown()


def all_variants(client: httpx.Client, summary: SeedSummary, shop_id: str) -> list[dict]:
    admin = AdminGraphQL(client, shop_id, summary.stores[shop_id].access_token)
    variants, after = [], None
    while True:
        page = admin(VARIANTS, {"after": after})["data"]["productVariants"]
        variants += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            return variants
        after = page["pageInfo"]["endCursor"]


def test_the_catalog_is_deterministic_with_unique_skus_and_valid_upcs():
    catalog = build_catalog()
    assert catalog == build_catalog()
    variants = [v for p in catalog for v in p.variants]
    assert len(variants) >= 200
    assert 60 <= len(catalog) <= 80
    assert len({v.sku for v in variants}) == len(variants)
    assert all(len(v.barcode) == 12 and upc_a(v.barcode[:11]) == v.barcode for v in variants)
    assert upc_a("03600029145") == "036000291452"  # the textbook UPC-A example


def test_the_parent_store_holds_the_catalog_with_stock_and_pre_order_candidates(served):
    _, _, summary, client = served
    variants = all_variants(client, summary, PARENT)
    assert len(variants) == summary.parent.variants >= 200
    skus = [v["sku"] for v in variants]
    assert len(set(skus)) == len(skus)
    assert all(v["inventoryPolicy"] == "DENY" for v in variants)
    zero = {v["sku"] for v in variants if v["inventoryQuantity"] == 0}
    assert zero == set(summary.parent.zero_stock_skus)
    assert len(zero) == 20


def test_child_stores_carry_the_documented_anomalies(served):
    _, _, summary, client = served
    parent_skus = {v["sku"] for v in all_variants(client, summary, PARENT)}
    eu = summary.stores["eu-child"]
    eu_skus = [v["sku"] for v in all_variants(client, summary, "eu-child")]
    assert set(eu.missing_skus) == parent_skus - set(eu_skus)
    assert len(eu.missing_skus) >= 2
    assert len(eu.duplicated_skus) == 2
    assert all(eu_skus.count(sku) == 2 for sku in eu.duplicated_skus)
    uk = summary.stores["uk-child"]
    uk_skus = {v["sku"] for v in all_variants(client, summary, "uk-child")}
    ((original, altered),) = uk.altered_skus.items()
    assert altered != original and altered.strip().upper() == original
    assert altered in uk_skus and original not in uk_skus
    assert set(uk.missing_skus) | {original} == parent_skus - uk_skus


def test_seeding_paced_itself_and_was_never_throttled(served):
    emulator, _, summary, _ = served
    for shop_id in summary.stores:
        stats = emulator.stats(shop_id)
        assert stats["throttled"] == 0
        assert stats["mutations"]["productSet"] == summary.stores[shop_id].products


def test_control_endpoints_mirror_the_python_api(served):
    client = served[3]
    stores = client.get("/_emulator/stores").json()["stores"]
    assert [s["shop_id"] for s in stores] == ["us-parent", "eu-child", "uk-child"]
    created = client.post(
        "/_emulator/stores", json={"shop_id": "extra", "currency": "CAD", "bucket_size": 100, "restore_rate": 5}
    )
    assert created.status_code == 201
    assert client.post("/_emulator/stores", json={"shop_id": "extra"}).status_code == 409
    assert client.post("/_emulator/stores", json={"shop": "x"}).status_code == 400
    inspected = client.get("/_emulator/stores/uk-child").json()
    assert inspected["locations"][0]["name"] == "Warehouse"
    variant = inspected["products"][0]["variants"][0]
    assert {"sku", "barcode", "inventory_policy", "inventory"} <= set(variant)
    assert client.post("/_emulator/stores/extra/faults", json={"kind": "429", "count": 1}).status_code == 201
    assert client.post("/_emulator/stores/extra/faults", json={"kind": "nope"}).status_code == 400
    admin = AdminGraphQL(client, "extra", "shpat_local_extra")
    assert admin.post("{ shop { currencyCode } }").status_code == 429
    assert admin("{ shop { currencyCode } }")["data"]["shop"]["currencyCode"] == "CAD"
    assert client.delete("/_emulator/stores/extra/faults").json() == {"faults": []}
    stats = client.get("/_emulator/stores/extra/stats").json()
    assert stats["requests"] == 2 and stats["faults_injected"] == {"429": 1}
    assert stats["throttle_status"]["maximumAvailable"] == 100.0
    assert client.get("/_emulator/stores/nowhere").status_code == 404


def test_bulk_result_urls_point_at_the_real_server(served):
    _, base_url, summary, client = served
    admin = AdminGraphQL(client, "eu-child", summary.stores["eu-child"].access_token)
    run = admin(
        'mutation { bulkOperationRunQuery(query: "{ productVariants { edges { node { id sku } } } }") {'
        " bulkOperation { id } userErrors { message } } }"
    )
    operation_id = run["data"]["bulkOperationRunQuery"]["bulkOperation"]["id"]
    poll = "query($id: ID!) { bulkOperation(id: $id) { status url objectCount } }"
    admin(poll, {"id": operation_id})
    done = admin(poll, {"id": operation_id})["data"]["bulkOperation"]
    assert done["status"] == "COMPLETED"
    assert done["url"].startswith(f"{base_url}/_emulator/bulk/eu-child/")
    lines = httpx.get(done["url"]).text.splitlines()
    assert len(lines) == int(done["objectCount"]) == summary.stores["eu-child"].variants

"""Bulk operations: run → poll → download JSONL (two-pass assembly by __parentId), validators, limits, cancel."""

import json
from pathlib import Path

import pytest

from local.emulator import ShopifyEmulator
from local.emulator.seed import seed_demo_stores
from local.emulator.testing import AdminGraphQL, in_process_http

RECORDINGS = Path(__file__).resolve().parents[2] / "local" / "emulator" / "recordings"
RUN = """mutation Run($query: String!, $group: Boolean!) {
  bulkOperationRunQuery(query: $query, groupObjects: $group) {
    bulkOperation { id status type objectCount url } userErrors { field message code } } }"""
POLL = """query Poll($id: ID!) { bulkOperation(id: $id) {
  id status errorCode objectCount rootObjectCount fileSize url partialDataUrl completedAt } }"""
EXPORT = """{ products(query: "tag:hoodies") { edges { node { id handle tags
  variants { edges { node { id sku barcode inventoryQuantity inventoryItem { id } } } } } } } }"""


@pytest.fixture(scope="module")
def seeded() -> ShopifyEmulator:
    emulator = ShopifyEmulator()
    seed_demo_stores(emulator=emulator)
    return emulator


@pytest.fixture(scope="module")
def http(seeded: ShopifyEmulator):
    with in_process_http(seeded) as client:
        yield client


@pytest.fixture
def admin(http) -> AdminGraphQL:
    return AdminGraphQL(http, "us-parent", "shpat_local_us-parent")


def run_to_completion(admin: AdminGraphQL, query: str, group: bool = False) -> dict:
    started = admin(RUN, {"query": query, "group": group})["data"]["bulkOperationRunQuery"]
    assert started["userErrors"] == []
    assert started["bulkOperation"]["status"] == "CREATED"
    statuses = []
    for _ in range(5):
        operation = admin(POLL, {"id": started["bulkOperation"]["id"]})["data"]["bulkOperation"]
        statuses.append(operation["status"])
        if operation["status"] == "COMPLETED":
            break
    assert statuses == ["RUNNING", "COMPLETED"]
    return operation


def test_bulk_export_round_trip_with_parent_ids(admin, http):
    operation = run_to_completion(admin, EXPORT)
    assert operation["url"].startswith("http://emulator.local/_emulator/bulk/us-parent/")
    response = http.get(operation["url"])
    assert response.status_code == 200
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert str(len(lines)) == operation["objectCount"]
    assert int(operation["fileSize"]) == len(response.content)
    # Two passes: index the parents, then attach the children wherever they appear in the file.
    products = {line["id"]: {**line, "variants": []} for line in lines if "__parentId" not in line}
    for line in lines:
        if "__parentId" in line:
            products[line["__parentId"]]["variants"].append(line)
    assert str(len(products)) == operation["rootObjectCount"]
    assert all("hoodies" in p["tags"] for p in products.values())
    assert all(p["variants"] for p in products.values())
    variant = next(iter(products.values()))["variants"][0]
    assert set(variant) == {"id", "sku", "barcode", "inventoryQuantity", "inventoryItem", "__parentId"}
    expected = admin('{ productVariants(first: 250, query: "tag:hoodies") { nodes { id } } }')
    assert sum(len(p["variants"]) for p in products.values()) == len(expected["data"]["productVariants"]["nodes"])


def test_children_do_not_necessarily_follow_their_parent_unless_grouped(admin, http):
    def parents_seen_in_order(group: bool) -> bool:
        lines = [json.loads(x) for x in http.get(run_to_completion(admin, EXPORT, group)["url"]).text.splitlines()]
        seen: set[str] = set()
        current = None
        for line in lines:
            if "__parentId" not in line:
                seen.add(line["id"])
                current = line["id"]
            elif line["__parentId"] != current:
                return False
        return True

    assert parents_seen_in_order(group=True)
    assert not parents_seen_in_order(group=False)


def test_an_empty_result_completes_without_a_file(admin):
    operation = run_to_completion(admin, '{ products(query: "tag:no-such-tag") { edges { node { id } } } }')
    assert operation["objectCount"] == "0"
    assert operation["url"] is None and operation["fileSize"] is None


RECORDED_VALIDATIONS = json.loads((RECORDINGS / "bulk-operation-run-query-validators.json").read_text())["validations"]


@pytest.mark.parametrize("name", sorted(RECORDED_VALIDATIONS))
def test_bulk_query_validators_answer_like_shopify(admin, name):
    case = RECORDED_VALIDATIONS[name]
    inner = case["variables"]["query"]
    body = admin(RUN, {"query": inner, "group": False})
    recorded = case["response"]["data"]["bulkOperationRunQuery"]
    assert body["data"]["bulkOperationRunQuery"]["bulkOperation"] is None
    assert body["data"]["bulkOperationRunQuery"]["userErrors"] == recorded["userErrors"]


def test_more_than_five_running_queries_are_refused_then_cancel(admin):
    emulator = ShopifyEmulator()
    emulator.add_store(shop_id="bulky", access_token="shpat_b")
    bulky = AdminGraphQL(in_process_http(emulator), "bulky", "shpat_b")
    query = "{ products { edges { node { id } } } }"
    ids = [
        bulky(RUN, {"query": query, "group": False})["data"]["bulkOperationRunQuery"]["bulkOperation"]["id"]
        for _ in range(5)
    ]
    sixth = bulky(RUN, {"query": query, "group": False})["data"]["bulkOperationRunQuery"]
    assert sixth == {
        "bulkOperation": None,
        "userErrors": [
            {
                "field": None,
                "message": f"A bulk query operation for this app and shop is already in progress: {', '.join(ids)}.",
                "code": "OPERATION_IN_PROGRESS",
            }
        ],
    }
    cancel = (
        "mutation($id: ID!) { bulkOperationCancel(id: $id) { bulkOperation { status } userErrors { field message } } }"
    )
    assert bulky(cancel, {"id": ids[0]})["data"]["bulkOperationCancel"] == {
        "bulkOperation": {"status": "CANCELING"},
        "userErrors": [],
    }
    assert bulky(POLL, {"id": ids[0]})["data"]["bulkOperation"]["status"] == "CANCELED"
    assert bulky(RUN, {"query": query, "group": False})["data"]["bulkOperationRunQuery"]["userErrors"] == []
    bulky(POLL, {"id": ids[1]})
    bulky(POLL, {"id": ids[1]})
    refused = bulky(cancel, {"id": ids[1]})["data"]["bulkOperationCancel"]
    assert refused["userErrors"] == [
        {"field": None, "message": "A bulk operation cannot be canceled when it is completed"}
    ]


def test_bulk_operations_listing_filters_and_read_argument_errors(admin):
    run_to_completion(admin, "{ products { edges { node { id } } } }")
    listed = admin('{ bulkOperations(first: 5, query: "status:completed") { nodes { id status type } } }')
    statuses = {n["status"] for n in listed["data"]["bulkOperations"]["nodes"]}
    assert statuses == {"COMPLETED"}
    current = admin("{ currentBulkOperation { status } }")["data"]["currentBulkOperation"]
    assert current == {"status": "COMPLETED"}
    recorded = json.loads((RECORDINGS / "bulk-operations-read-arg-validation.json").read_text())["cases"]
    for name in ("missingWindow", "firstAndLast", "invalidCreatedAt", "invalidStatusExpired", "invalidOperationType"):
        case = recorded[name]
        query = case["query"].removeprefix("#graphql\n")
        body = admin(query)
        expected = case["response"]
        if "errors" in expected:
            assert body["errors"][0]["message"] == expected["errors"][0]["message"], name
            assert body["errors"][0]["extensions"] == expected["errors"][0]["extensions"], name
            assert body["data"] is None
        else:
            assert body["data"] == expected["data"], name
            assert body["extensions"]["search"] == expected["extensions"]["search"], name

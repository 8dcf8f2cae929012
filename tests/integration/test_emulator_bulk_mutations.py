"""Bulk mutations: staged uploads on the emulator, bulkOperationRunMutation validators vs the recordings, the
result JSONL, and what a bulk mutation costs compared with one call per line."""

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from local.emulator import ShopifyEmulator
from local.emulator.testing import AdminGraphQL, FakeClock, in_process_http

RECORDINGS = Path(__file__).resolve().parents[2] / "local" / "emulator" / "recordings"
STAGED = """mutation Stage($input: [StagedUploadInput!]!) { stagedUploadsCreate(input: $input) {
  stagedTargets { url resourceUrl parameters { name value } } userErrors { field message } } }"""
RUN = """mutation Run($mutation: String!, $path: String!, $client: String) {
  bulkOperationRunMutation(mutation: $mutation, stagedUploadPath: $path, clientIdentifier: $client) {
    bulkOperation { id status type errorCode objectCount rootObjectCount fileSize url partialDataUrl query }
    userErrors { field message code } } }"""
POLL = """query Poll($id: ID!) { bulkOperation(id: $id) {
  id status type objectCount rootObjectCount fileSize url } }"""
TAGS_ADD = """mutation Tag($id: ID!, $tags: [String!]!) {
  tagsAdd(id: $id, tags: $tags) { node { id } userErrors { field message } } }"""
TAGS_ADD_ONE = (
    """mutation Tag($id: ID!, $tags: [String!]!) { tagsAdd(id: $id, tags: $tags) { userErrors { field message } } }"""
)
PRODUCT_SET = """mutation Set($input: ProductSetInput!) { productSet(input: $input, synchronous: true) {
  product { id } userErrors { field message } } }"""


@pytest.fixture
def emulator() -> ShopifyEmulator:
    emulator = ShopifyEmulator(clock=FakeClock())
    emulator.add_store(shop_id="us-parent", access_token="shpat_x", bucket_size=50_000)  # the clock stands still
    return emulator


@pytest.fixture
def http(emulator: ShopifyEmulator) -> httpx.Client:
    return in_process_http(emulator)


@pytest.fixture
def admin(http: httpx.Client) -> AdminGraphQL:
    return AdminGraphQL(http, "us-parent", "shpat_x")


def recorded(name: str) -> dict[str, Any]:
    return json.loads((RECORDINGS / name).read_text())


def stage(admin: AdminGraphQL, filename: str = "vars.jsonl") -> tuple[str, dict[str, str]]:
    target = admin(
        STAGED,
        {
            "input": [
                {
                    "resource": "BULK_MUTATION_VARIABLES",
                    "filename": filename,
                    "mimeType": "text/jsonl",
                    "httpMethod": "POST",
                }
            ]
        },
    )["data"]["stagedUploadsCreate"]["stagedTargets"][0]
    return target["url"], {p["name"]: p["value"] for p in target["parameters"]}


def upload(http: httpx.Client, admin: AdminGraphQL, lines: list[dict[str, Any]], *, multipart: bool = True) -> str:
    url, params = stage(admin)
    body = "".join(json.dumps(line) + "\n" for line in lines).encode()
    if multipart:  # like Shopify's staged upload: the parameters as form fields, then the file
        response = http.post(url, data=params, files={"file": ("vars.jsonl", body, "text/jsonl")})
    else:
        response = http.post(url, content=body)
    assert response.status_code == 201, response.text
    assert "<PostResponse>" in response.text
    return params["key"]


def products(admin: AdminGraphQL, count: int) -> list[str]:
    return [
        admin(PRODUCT_SET, {"input": {"title": f"P{i}"}})["data"]["productSet"]["product"]["id"] for i in range(count)
    ]


def run_to_completion(admin: AdminGraphQL, mutation: str, path: str) -> dict[str, Any]:
    run = admin(RUN, {"mutation": mutation, "path": path})["data"]["bulkOperationRunMutation"]
    assert run["userErrors"] == [], run
    assert run["bulkOperation"]["status"] == "CREATED" and run["bulkOperation"]["type"] == "MUTATION"
    for _ in range(5):
        op = admin(POLL, {"id": run["bulkOperation"]["id"]})["data"]["bulkOperation"]
        if op["status"] == "COMPLETED":
            return op
    raise AssertionError(f"bulk mutation did not complete: {op}")


def test_bulk_mutation_runs_each_line_and_writes_the_result_file(admin, http, emulator):
    ids = products(admin, 3)
    path = upload(
        http,
        admin,
        [{"id": pid, "tags": ["HC:Pre-Order"]} for pid in ids] + [{"id": "gid://shopify/Product/1", "tags": ["x"]}],
    )
    op = run_to_completion(admin, TAGS_ADD, path)
    assert (op["objectCount"], op["rootObjectCount"]) == ("4", "4")
    lines = [json.loads(line) for line in http.get(op["url"]).text.splitlines()]
    assert lines[0] == {"data": {"tagsAdd": {"node": {"id": ids[0]}, "userErrors": []}}, "__lineNumber": 0}
    assert lines[3]["__lineNumber"] == 3
    assert lines[3]["data"]["tagsAdd"]["userErrors"] == [{"field": ["id"], "message": "Product does not exist"}]
    assert int(op["fileSize"]) == len(http.get(op["url"]).content)
    tags = admin("{ products(first: 5) { nodes { tags } } }")["data"]["products"]["nodes"]
    assert all(p["tags"] == ["HC:Pre-Order"] for p in tags)
    assert emulator.stats("us-parent")["bulk_mutation_lines"] == {"tagsAdd": 4}
    current = admin("{ currentBulkOperation(type: MUTATION) { status type } }")["data"]["currentBulkOperation"]
    assert current == {"status": "COMPLETED", "type": "MUTATION"}


def test_result_line_shape_matches_the_recording(admin, http):
    recording = recorded("bulk-operation-run-mutation-allowed-roots.json")
    recorded_line = json.loads(recording["cases"]["metafieldsSet"]["success"]["result"]["body"])
    shop = admin("{ shop { id } }")["data"]["shop"]["id"]
    mutation = recording["cases"]["metafieldsSet"]["success"]["run"]["variables"]["mutation"]
    metafield = {"ownerId": shop, "namespace": "bulk_allowed_roots", "key": "case_1", "type": "single_line_text_field"}
    path = upload(http, admin, [{"metafields": [{**metafield, "value": "v"}]}], multipart=False)
    op = run_to_completion(admin, mutation, path)
    line = json.loads(http.get(op["url"]).text.splitlines()[0])
    assert list(line) == list(recorded_line) == ["data", "__lineNumber"]
    got = line["data"]["metafieldsSet"]["metafields"][0]
    expected = recorded_line["data"]["metafieldsSet"]["metafields"][0]
    assert set(got) == set(expected) and got["ownerType"] == expected["ownerType"] == "SHOP"


@pytest.mark.parametrize(
    "case", ["parserError", "queryInsteadOfMutation", "multipleTopLevelMutations", "disallowedMutationName"]
)
def test_mutation_validators_match_the_recordings(admin, case):
    recording = recorded("bulk-operation-run-mutation-validators.json")["validations"][case]
    body = admin(RUN, recording["variables"])
    expected = recording["response"]["data"]["bulkOperationRunMutation"]["userErrors"]
    got = body["data"]["bulkOperationRunMutation"]["userErrors"]
    if case == "parserError":  # graphql-core and Shopify's parser point at different columns
        assert got[0]["message"].startswith(
            "Failed to parse the mutation - syntax error, unexpected end of file at [1, "
        )
        assert (got[0]["field"], got[0]["code"]) == (expected[0]["field"], expected[0]["code"])
    else:
        assert got == expected
    assert body["extensions"]["cost"]["actualQueryCost"] == 10


def test_file_errors_and_their_precedence(admin, http):
    recording = recorded("bulk-operation-run-mutation-no-such-file-precedence.json")
    expected_missing = recording["missingRun"]["response"]["data"]["bulkOperationRunMutation"]["userErrors"]
    path = upload(http, admin, [{"id": "gid://shopify/Product/1", "tags": ["a"]}])
    for _ in range(5):  # five in-progress mutation operations ...
        assert admin(RUN, {"mutation": TAGS_ADD, "path": path})["data"]["bulkOperationRunMutation"]["userErrors"] == []
    missing = admin(RUN, {"mutation": TAGS_ADD, "path": "tmp/1/bulk/none/missing.jsonl"})
    assert missing["data"]["bulkOperationRunMutation"]["userErrors"] == expected_missing  # ... NO_SUCH_FILE first
    concurrency = recorded("bulk-operation-run-mutation-concurrency-limit.json")["sixthRun"]["response"]
    expected_limit = concurrency["data"]["bulkOperationRunMutation"]["userErrors"][0]
    sixth = admin(RUN, {"mutation": TAGS_ADD, "path": path})["data"]["bulkOperationRunMutation"]["userErrors"][0]
    assert sixth["code"] == expected_limit["code"] == "OPERATION_IN_PROGRESS"
    assert sixth["message"].startswith("A bulk mutation operation for this app and shop is already in progress: gid://")
    empty_url, params = stage(admin)
    http.post(empty_url, content=b"")
    empty = admin(RUN, {"mutation": TAGS_ADD, "path": params["key"]})["data"]["bulkOperationRunMutation"]
    expected_empty = recorded("bulk-operation-run-mutation-empty-file.json")["validation"]["run"]["response"]
    assert empty["userErrors"] == expected_empty["data"]["bulkOperationRunMutation"]["userErrors"]
    not_uploaded = admin(RUN, {"mutation": TAGS_ADD, "path": stage(admin)[1]["key"]})
    assert not_uploaded["data"]["bulkOperationRunMutation"]["userErrors"][0]["code"] == "NO_SUCH_FILE"
    client = recorded("bulk-operation-run-mutation-client-identifier-validation.json")["validations"]["tooShort"]
    short = admin(RUN, {"mutation": TAGS_ADD, "path": path, "client": "short"})["data"]["bulkOperationRunMutation"]
    assert short["userErrors"] == client["response"]["data"]["bulkOperationRunMutation"]["userErrors"]


def test_upload_needs_a_staged_target(http):
    response = http.post("/_emulator/uploads/us-parent/tmp/1/bulk/x/never-staged.jsonl", content=b"{}\n")
    assert response.status_code == 403


def test_a_bulk_mutation_of_100_lines_costs_a_fraction_of_100_calls(admin, http, emulator):
    ids = products(admin, 100)
    before = emulator.stats("us-parent")["cost_points_charged"]
    for pid in ids:
        admin(TAGS_ADD_ONE, {"id": pid, "tags": ["one-by-one"]})
    one_by_one = emulator.stats("us-parent")["cost_points_charged"] - before
    before = emulator.stats("us-parent")["cost_points_charged"]
    path = upload(http, admin, [{"id": pid, "tags": ["bulk"]} for pid in ids])
    run_to_completion(admin, TAGS_ADD_ONE, path)
    bulk = emulator.stats("us-parent")["cost_points_charged"] - before
    # stagedUploadsCreate 11 (parameters are one level below the payload) + bulkOperationRunMutation 10
    # + two status reads of 1: 23 points instead of 1000
    assert (one_by_one, bulk) == (1000, 23)

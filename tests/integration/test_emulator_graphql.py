"""The emulator's GraphQL surface through httpx (in-process WSGI): auth, error shapes, cost, pagination, search."""

import json
from pathlib import Path

import pytest

from local.emulator import API_VERSION, ShopifyEmulator
from local.emulator.testing import AdminGraphQL, FakeClock, in_process_http

RECORDINGS = Path(__file__).resolve().parents[2] / "local" / "emulator" / "recordings"
PRODUCT_SET = """mutation($input: ProductSetInput!, $identifier: ProductSetIdentifiers) {
  productSet(input: $input, identifier: $identifier) {
  product { id handle variants(first: 5) { nodes { id sku inventoryItem { id } } } }
  userErrors { field message code } } }"""


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emulator(clock: FakeClock) -> ShopifyEmulator:
    emulator = ShopifyEmulator(clock=clock)
    emulator.add_store(shop_id="us-parent", name="US Store", currency="USD", access_token="shpat_x")
    return emulator


@pytest.fixture
def admin(emulator: ShopifyEmulator) -> AdminGraphQL:
    return AdminGraphQL(in_process_http(emulator), "us-parent", "shpat_x")


def create_product(admin: AdminGraphQL, title: str, skus: list[str], identifier: dict | None = None) -> dict:
    variants = [
        {"optionValues": [{"optionName": "Size", "name": f"S{i}"}], "price": "10.00", "inventoryItem": {"sku": sku}}
        for i, sku in enumerate(skus)
    ]
    options = [{"name": "Size", "values": [{"name": f"S{i}"} for i in range(len(skus))]}]
    product_input = {"title": title, "productOptions": options, "variants": variants}
    body = admin(PRODUCT_SET, {"input": product_input, "identifier": identifier})
    assert body["data"]["productSet"]["userErrors"] == []
    return body["data"]["productSet"]["product"]


def test_a_wrong_token_is_refused_with_shopifys_401_body(admin):
    response = admin.post("{ shop { id } }", token="shpat_wrong")
    assert response.status_code == 401
    assert response.json() == {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
    assert response.headers["X-Shopify-API-Version"] == API_VERSION


def test_shop_fields_and_cost_extension(admin):
    body = admin("{ shop { id name currencyCode myshopifyDomain ianaTimezone } }")
    assert body["data"]["shop"] == {
        "id": body["data"]["shop"]["id"],
        "name": "US Store",
        "currencyCode": "USD",
        "myshopifyDomain": "us-parent.myshopify.com",
        "ianaTimezone": "UTC",
    }
    assert body["extensions"]["cost"] == {
        "requestedQueryCost": 1,
        "actualQueryCost": 1,
        "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 1999, "restoreRate": 100.0},
    }


def test_validation_errors_have_shopifys_shape_and_no_data(admin):
    query = "query Probe { shop { id nopeField } product { id } }"
    body = admin(query)
    assert "data" not in body
    assert body["errors"] == [
        {
            "message": "Field 'nopeField' doesn't exist on type 'Shop'",
            "locations": [{"line": 1, "column": query.index("nopeField") + 1}],
            "path": ["query Probe", "shop", "nopeField"],
            "extensions": {"code": "undefinedField", "typeName": "Shop", "fieldName": "nopeField"},
        },
        {
            "message": "Field 'product' is missing required arguments: id",
            "locations": [{"line": 1, "column": query.index("product") + 1}],
            "path": ["query Probe", "product"],
            "extensions": {
                "code": "missingRequiredArguments",
                "className": "Field",
                "name": "product",
                "arguments": "id",
            },
        },
    ]


def test_an_argument_the_field_does_not_accept(admin):
    body = admin(
        'mutation Probe { bulkOperationRunQuery(query: "{ shop { id } }", clientIdentifier: "x") '
        "{ userErrors { field } } }"
    )
    assert body["errors"][0]["message"] == "Field 'bulkOperationRunQuery' doesn't accept argument 'clientIdentifier'"
    assert body["errors"][0]["path"] == ["mutation Probe", "bulkOperationRunQuery", "clientIdentifier"]
    assert body["errors"][0]["extensions"]["code"] == "argumentNotAccepted"


def test_a_field_the_emulator_does_not_emulate_is_an_error_not_a_silent_null(admin):
    body = admin("{ shop { id plan { shopifyPlus } } }")
    assert body["errors"][0]["message"] == "Field 'plan' on type 'Shop' is not supported by the shopsync emulator"
    assert body["errors"][0]["path"] == ["shop", "plan"]
    assert body["data"] is None  # Shop.plan is non-null, so the null bubbles up like in any GraphQL server


def test_a_known_null_is_a_real_null(admin):
    create_product(admin, "Plain Tee", ["TEE-1"])
    body = admin("{ productVariants(first: 1) { nodes { sku barcode compareAtPrice } } }")
    assert "errors" not in body
    assert body["data"]["productVariants"]["nodes"] == [{"sku": "TEE-1", "barcode": None, "compareAtPrice": None}]


def test_invalid_variables_are_reported_like_shopify(admin):
    recorded = json.loads((RECORDINGS / "inventory-quantity-contracts-2026-04.json").read_text())["legacySetShape"]
    query = """mutation Set($input: InventorySetQuantitiesInput!, $idempotencyKey: String!) {
      inventorySetQuantities(input: $input) @idempotent(key: $idempotencyKey) { userErrors { code } } }"""
    body = admin(query, recorded["variables"])
    expected = recorded["response"]["errors"][0]
    assert body["errors"][0]["message"] == expected["message"]
    assert body["errors"][0]["extensions"]["code"] == "INVALID_VARIABLE"
    assert body["errors"][0]["extensions"]["problems"] == expected["extensions"]["problems"]


def test_max_cost_exceeded_is_refused_before_execution(admin):
    big = admin(
        "{ products(first: 250) { nodes { variants(first: 250) { nodes { inventoryItem { "
        "inventoryLevels(first: 250) { nodes { id } } } } } } } }"
    )
    error = big["errors"][0]
    assert error["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert (
        error["message"]
        == f"Query cost is {error['extensions']['cost']}, which exceeds the single query max cost limit (1000)."
    )
    assert big["extensions"]["cost"]["actualQueryCost"] is None


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ("", "you must provide one of first or last"),
        ("first: 1, last: 1", "providing both first and last is not supported"),
        ("first: 251", "The value of `first` must be between 0 and 250 (got 251)."),
    ],
)
def test_page_size_rules(admin, arguments, message):
    query = f"{{ products{f'({arguments})' if arguments else ''} {{ nodes {{ id }} }} }}"
    body = admin(query)
    assert body["data"] is None
    assert body["errors"][0]["message"] == message
    assert body["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}
    assert body["errors"][0]["path"] == ["products"]


def test_cursor_pagination_forwards_and_backwards_with_exact_page_info(admin):
    titles = [f"Product {n:02d}" for n in range(7)]
    for title in reversed(titles):
        create_product(admin, title, [title.replace(" ", "-")])
    page_query = """query($first: Int, $after: String, $last: Int, $before: String) {
      products(first: $first, after: $after, last: $last, before: $before, sortKey: TITLE) {
        edges { cursor node { title } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""
    seen, after, pages = [], None, []
    while True:
        connection = admin(page_query, {"first": 3, "after": after})["data"]["products"]
        seen += [edge["node"]["title"] for edge in connection["edges"]]
        pages.append(connection["pageInfo"])
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert seen == titles
    assert [(p["hasNextPage"], p["hasPreviousPage"]) for p in pages] == [(True, False), (True, True), (False, True)]
    last_page = admin(page_query, {"last": 2})["data"]["products"]
    assert [e["node"]["title"] for e in last_page["edges"]] == titles[-2:]
    assert last_page["pageInfo"]["hasPreviousPage"] and not last_page["pageInfo"]["hasNextPage"]
    before = admin(page_query, {"last": 2, "before": last_page["pageInfo"]["startCursor"]})["data"]["products"]
    assert [e["node"]["title"] for e in before["edges"]] == titles[-4:-2]
    reverse = admin("{ products(first: 2, reverse: true, sortKey: TITLE) { nodes { title } } }")
    assert [n["title"] for n in reverse["data"]["products"]["nodes"]] == titles[::-1][:2]


def test_an_invalid_cursor_is_a_bad_request(admin):
    body = admin('{ products(first: 2, after: "not-a-cursor") { nodes { id } } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_aliases_fragments_node_and_nodes(admin):
    product = create_product(admin, "Alias Tee", ["ALIAS-1", "ALIAS-2"])
    variant_id = product["variants"]["nodes"][0]["id"]
    body = admin(
        """query($ids: [ID!]!, $id: ID!) {
          first: node(id: $id) { __typename ... on Product { title ...Skus } }
          many: nodes(ids: $ids) { __typename id ... on ProductVariant { sku product { handle } } }
        }
        fragment Skus on Product { variants(first: 5) { edges { node { sku } } } }""",
        {"id": product["id"], "ids": [variant_id, "gid://shopify/Product/1", "gid://shopify/Order/5"]},
    )
    assert "errors" not in body
    assert body["data"]["first"] == {
        "__typename": "Product",
        "title": "Alias Tee",
        "variants": {"edges": [{"node": {"sku": "ALIAS-1"}}, {"node": {"sku": "ALIAS-2"}}]},
    }
    assert body["data"]["many"] == [
        {"__typename": "ProductVariant", "id": variant_id, "sku": "ALIAS-1", "product": {"handle": "alias-tee"}},
        None,
        None,
    ]


def test_updated_at_filters_and_sort_for_incremental_imports(admin, clock):
    create_product(admin, "Old", ["OLD-1"])
    clock.advance(3600)
    watermark = clock().strftime("%Y-%m-%dT%H:%M:%SZ")
    clock.advance(60)
    create_product(admin, "New", ["NEW-1"])
    clock.advance(60)
    create_product(
        admin, "Old", ["OLD-1", "OLD-2"], identifier={"handle": "old"}
    )  # an update moves it past the watermark
    body = admin(
        "query($q: String) { products(first: 10, query: $q, sortKey: UPDATED_AT) { nodes { title updatedAt } } }",
        {"q": f"updated_at:>'{watermark}'"},
    )
    assert [n["title"] for n in body["data"]["products"]["nodes"]] == ["New", "Old"]
    assert "search" not in body["extensions"]
    older = admin(f"{{ products(first: 10, query: \"updated_at:<='{watermark}'\") {{ nodes {{ title }} }} }}")
    assert older["data"]["products"]["nodes"] == []


def test_variant_search_by_sku_barcode_and_product(admin):
    first = create_product(admin, "Search Tee", ["SS-TEE-BLK-M", "SS-TEE-BLK-L"])
    create_product(admin, "Search Cap", ["SS-CAP-BLK-OS"])
    product_number = first["id"].rsplit("/", 1)[-1]

    def skus(query: str) -> list[str]:
        body = admin("query($q: String) { productVariants(first: 10, query: $q) { nodes { sku } } }", {"q": query})
        return [n["sku"] for n in body["data"]["productVariants"]["nodes"]]

    assert skus("sku:'SS-TEE-BLK-M'") == ["SS-TEE-BLK-M"]
    assert skus("sku:SS-TEE-BLK-M OR sku:SS-CAP-BLK-OS") == ["SS-TEE-BLK-M", "SS-CAP-BLK-OS"]
    assert skus(f"product_id:{product_number}") == ["SS-TEE-BLK-M", "SS-TEE-BLK-L"]
    assert skus("-sku:SS-TEE-BLK-M") == ["SS-TEE-BLK-L", "SS-CAP-BLK-OS"]


def test_unknown_search_fields_are_reported_in_extensions(admin):
    body = admin('{ products(first: 1, query: "made_up:value") { nodes { id } } }')
    assert body["extensions"]["search"] == [
        {
            "path": ["products"],
            "query": "made_up:value",
            "parsed": {"field": "made_up", "match_all": "value"},
            "warnings": [
                {"field": "made_up", "message": "Invalid search field for this query.", "code": "invalid_field"}
            ],
        }
    ]


def test_locations_and_inventory_item_levels(admin):
    product = create_product(admin, "Stocked Tee", ["STOCK-1"])
    item_id = product["variants"]["nodes"][0]["inventoryItem"]["id"]
    location = admin("{ location { id name isPrimary } }")["data"]["location"]
    assert location["name"] == "Warehouse" and location["isPrimary"]
    body = admin(
        """query($item: ID!, $loc: ID!) { inventoryItem(id: $item) { sku tracked
             inventoryLevel(locationId: $loc) {
               quantities(names: ["available", "on_hand", "committed"]) { name quantity } }
             inventoryLevels(first: 5) { nodes { location { name } } } } }""",
        {"item": item_id, "loc": location["id"]},
    )
    item = body["data"]["inventoryItem"]
    assert item["sku"] == "STOCK-1"
    assert [q["quantity"] for q in item["inventoryLevel"]["quantities"]] == [0, 0, 0]
    assert item["inventoryLevels"]["nodes"] == [{"location": {"name": "Warehouse"}}]

"""Listing mutations: productVariantsBulkUpdate, tagsAdd/tagsRemove, metafieldsSet and the reads that check them."""

import json
from pathlib import Path
from typing import Any

import pytest

from local.emulator import ShopifyEmulator
from local.emulator.testing import AdminGraphQL, FakeClock, in_process_http

RECORDINGS = Path(__file__).resolve().parents[2] / "local" / "emulator" / "recordings"
PRODUCT_SET = """mutation Set($input: ProductSetInput!) { productSet(input: $input, synchronous: true) {
  product { id variants(first: 10) { nodes { id inventoryItem { id } } } } userErrors { field message code } } }"""
BULK_UPDATE = """mutation Update($productId: ID!, $variants: [ProductVariantsBulkInput!]!, $partial: Boolean) {
  productVariantsBulkUpdate(productId: $productId, variants: $variants, allowPartialUpdates: $partial) {
    product { id }
    productVariants { id price inventoryPolicy barcode sku }
    userErrors { field message code } } }"""
TAGS_ADD = """mutation Add($id: ID!, $tags: [String!]!) { tagsAdd(id: $id, tags: $tags) {
  node { id ... on Product { tags } } userErrors { field message } } }"""
TAGS_REMOVE = TAGS_ADD.replace("tagsAdd", "tagsRemove").replace("Add(", "Remove(")
METAFIELDS_SET = """mutation Set($metafields: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $metafields) {
  metafields { id namespace key type value compareDigest updatedAt owner { ... on ProductVariant { id } } }
  userErrors { field message code elementIndex } } }"""
VARIANT_READ = """query Read($ids: [ID!]!, $loc: ID!) { nodes(ids: $ids) { ... on ProductVariant {
  id inventoryPolicy updatedAt
  metafield(namespace: "HC_PREORDER", key: "status") { id namespace key type value compareDigest updatedAt
    owner { ... on ProductVariant { id } } }
  metafields(first: 10, namespace: "HC_PREORDER") { nodes { key value } }
  product { tags updatedAt metafield(namespace: "HC_PREORDER", key: "product") { value } }
  inventoryItem { inventoryLevel(locationId: $loc) { quantities(names: ["available", "committed"]) { name quantity } } }
} } }"""


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emulator(clock: FakeClock) -> ShopifyEmulator:
    emulator = ShopifyEmulator(clock=clock)
    emulator.add_store(shop_id="us-parent", access_token="shpat_x")
    return emulator


@pytest.fixture
def admin(emulator: ShopifyEmulator) -> AdminGraphQL:
    return AdminGraphQL(in_process_http(emulator), "us-parent", "shpat_x")


@pytest.fixture
def product(admin: AdminGraphQL) -> dict[str, Any]:
    data = {
        "title": "Black Tee",
        "tags": ["demo", "Other-App"],
        "productOptions": [{"name": "Size", "values": [{"name": "S"}, {"name": "M"}]}],
        "variants": [
            {"optionValues": [{"optionName": "Size", "name": s}], "price": "24.00", "inventoryItem": {"sku": f"T-{s}"}}
            for s in ("S", "M")
        ],
    }
    payload = admin(PRODUCT_SET, {"input": data})["data"]["productSet"]
    assert payload["userErrors"] == []
    product = payload["product"]
    return {"id": product["id"], "variants": [v["id"] for v in product["variants"]["nodes"]]}


def recorded(name: str) -> dict[str, Any]:
    return json.loads((RECORDINGS / name).read_text())


def test_bulk_update_writes_policy_price_barcode_sku_and_metafields(admin, product, clock):
    red, blue = product["variants"]
    clock.advance(60)
    body = admin(
        BULK_UPDATE,
        {
            "productId": product["id"],
            "variants": [
                {
                    "id": red,
                    "inventoryPolicy": "CONTINUE",
                    "price": "9.5",
                    "barcode": "123",
                    "inventoryItem": {"sku": "T-S-NEW"},
                    "metafields": [
                        {"namespace": "HC_PREORDER", "key": "status", "type": "json", "value": '{"status":"active"}'}
                    ],
                }
            ],
        },
    )
    payload = body["data"]["productVariantsBulkUpdate"]
    assert payload["userErrors"] == []
    assert payload["productVariants"] == [
        {"id": red, "price": "9.50", "inventoryPolicy": "CONTINUE", "barcode": "123", "sku": "T-S-NEW"}
    ]
    assert body["extensions"]["cost"]["requestedQueryCost"] == 10  # the payload's own objects are free
    read = admin(VARIANT_READ, {"ids": [red, blue], "loc": admin_location(admin)})["data"]["nodes"]
    assert read[0]["metafield"]["value"] == '{"status":"active"}'
    assert read[0]["metafield"]["owner"] == {"id": red}
    assert read[0]["updatedAt"] == "2026-07-01T12:01:00Z"
    assert read[0]["product"]["updatedAt"] == "2026-07-01T12:01:00Z"
    assert read[1]["updatedAt"] == "2026-07-01T12:00:00Z"  # untouched variant keeps its stamp
    assert read[1]["metafield"] is None


def admin_location(admin: AdminGraphQL) -> str:
    location: str = admin("{ location { id } }")["data"]["location"]["id"]
    return location


def test_bulk_update_partial_and_error_order_match_the_recording(admin, product):
    recording = recorded("product-variants-bulk-update-allow-partial-and-error-order.json")
    red, blue = product["variants"]
    partial = admin(
        BULK_UPDATE,
        {
            "productId": product["id"],
            "partial": True,
            "variants": [{"id": red, "price": "9.99"}, {"id": blue, "price": "-1.00"}],
        },
    )["data"]["productVariantsBulkUpdate"]
    expected = recording["partialUpdate"]["response"]["payload"]["data"]["productVariantsBulkUpdate"]
    assert partial["userErrors"] == expected["userErrors"]
    assert [v["price"] for v in partial["productVariants"]] == ["9.99", "24.00"]  # valid one written
    ordering = admin(
        BULK_UPDATE,
        {
            "productId": product["id"],
            "variants": [{"id": red, "price": "-1.00", "compareAtPrice": "1000000000000000000"}],
        },
    )["data"]["productVariantsBulkUpdate"]
    expected = recording["errorOrdering"]["response"]["payload"]["data"]["productVariantsBulkUpdate"]
    assert ordering["userErrors"] == expected["userErrors"]


def test_bulk_update_is_all_or_nothing_and_variants_must_belong_to_the_product(admin, product):
    red, _blue = product["variants"]
    other = admin(PRODUCT_SET, {"input": {"title": "Other"}})["data"]["productSet"]["product"]
    foreign = other["variants"]["nodes"][0]["id"]
    payload = admin(
        BULK_UPDATE,
        {
            "productId": product["id"],
            "variants": [{"id": red, "inventoryPolicy": "CONTINUE"}, {"id": foreign, "price": "1.00"}],
        },
    )["data"]["productVariantsBulkUpdate"]
    assert payload["userErrors"] == [
        {
            "field": ["variants", "1", "id"],
            "message": "Product variant does not belong to the product",
            "code": "MUST_BE_FOR_THIS_PRODUCT",
        }
    ]
    assert payload["productVariants"][0]["inventoryPolicy"] == "DENY"  # nothing written
    missing = admin(BULK_UPDATE, {"productId": "gid://shopify/Product/1", "variants": [{"id": red}]})
    assert missing["data"]["productVariantsBulkUpdate"]["userErrors"][0]["code"] == "PRODUCT_DOES_NOT_EXIST"
    bad_metafield = admin(
        BULK_UPDATE,
        {
            "productId": product["id"],
            "variants": [{"id": red, "metafields": [{"namespace": "HC_PREORDER", "key": "s", "value": "x"}]}],
        },
    )["data"]["productVariantsBulkUpdate"]["userErrors"]
    assert [e["field"] for e in bad_metafield] == [
        ["variants", "0", "metafields", "0", "key"],
        ["variants", "0", "metafields", "0", "type"],
    ]


def test_tags_add_and_remove_have_set_semantics(admin, product, clock):
    clock.advance(5)
    added = admin(TAGS_ADD, {"id": product["id"], "tags": "HC:Pre-Order, demo"})["data"]["tagsAdd"]
    assert added == {"node": {"id": product["id"], "tags": ["demo", "HC:Pre-Order", "Other-App"]}, "userErrors": []}
    again = admin(TAGS_ADD, {"id": product["id"], "tags": ["hc:pre-order"]})["data"]["tagsAdd"]
    assert again["node"]["tags"] == ["demo", "HC:Pre-Order", "Other-App"]  # no-op, case-insensitive
    removed = admin(TAGS_REMOVE, {"id": product["id"], "tags": ["HC:Pre-Order", "never-there"]})
    assert removed["data"]["tagsRemove"]["node"]["tags"] == ["demo", "Other-App"]  # other tags never clobbered
    assert removed["extensions"]["cost"]["actualQueryCost"] == 10
    unknown = admin(TAGS_ADD, {"id": "gid://shopify/Product/42", "tags": ["x"]})["data"]["tagsAdd"]
    assert unknown == {"node": None, "userErrors": [{"field": ["id"], "message": "Product does not exist"}]}


def test_metafields_set_upserts_atomically_with_compare_digest(admin, product, clock):
    red, blue = product["variants"]
    value = {"ownerId": red, "namespace": "HC_PREORDER", "key": "status", "type": "json", "value": '{"a":1}'}
    first = admin(METAFIELDS_SET, {"metafields": [value]})
    created = first["data"]["metafieldsSet"]["metafields"][0]
    assert first["extensions"]["cost"]["requestedQueryCost"] == 11  # owner { } is one level below the payload
    assert created["owner"] == {"id": red} and created["type"] == "json"
    clock.advance(10)
    updated = admin(
        METAFIELDS_SET,
        {"metafields": [{**value, "type": None, "value": '{"a":2}', "compareDigest": created["compareDigest"]}]},
    )["data"]["metafieldsSet"]
    assert updated["userErrors"] == []
    assert updated["metafields"][0]["id"] == created["id"]  # upsert by (owner, namespace, key)
    assert updated["metafields"][0]["updatedAt"] == "2026-07-01T12:00:10Z"
    stale = admin(
        METAFIELDS_SET,
        {
            "metafields": [
                {**value, "ownerId": blue, "value": "{}"},  # valid on its own
                {**value, "value": '{"a":3}', "compareDigest": created["compareDigest"]},
            ]
        },
    )["data"]["metafieldsSet"]
    assert stale["metafields"] == []
    assert stale["userErrors"] == [
        {
            "field": ["metafields", "1", "compareDigest"],
            "message": "The resource has been updated since it was loaded. "
            "Try again with an updated `compareDigest` value.",
            "code": "STALE_OBJECT",
            "elementIndex": None,
        }
    ]
    loc = admin_location(admin)
    read = admin(VARIANT_READ, {"ids": [blue], "loc": loc})["data"]["nodes"][0]
    assert read["metafield"] is None  # atomic: the valid element was not written either


def test_metafields_set_validation(admin, product):
    red = product["variants"][0]
    base = {"ownerId": red, "namespace": "HC_PREORDER", "key": "status", "type": "json", "value": "{}"}
    cases = [
        ({"value": "{not json"}, ["metafields", "0", "value"], "INVALID_VALUE"),
        ({"type": None}, ["metafields", "0", "type"], "BLANK"),
        ({"type": "nope"}, ["metafields", "0", "type"], "INVALID_TYPE"),
        ({"namespace": "ab"}, ["metafields", "0", "namespace"], "TOO_SHORT"),
        ({"key": "k" * 65}, ["metafields", "0", "key"], "TOO_LONG"),
        ({"key": "bad key!"}, ["metafields", "0", "key"], "INVALID"),
        ({"compareDigest": "zz"}, ["metafields", "0", "compareDigest"], "INVALID_COMPARE_DIGEST"),
        ({"ownerId": "gid://shopify/Product/9"}, ["metafields", "0", "ownerId"], "INVALID"),
    ]
    for override, field, code in cases:
        errors = admin(METAFIELDS_SET, {"metafields": [{**base, **override}]})["data"]["metafieldsSet"]["userErrors"]
        assert [(e["field"], e["code"]) for e in errors] == [(field, code)], override
    too_many = [{**base, "key": f"key{i}"} for i in range(26)]
    errors = admin(METAFIELDS_SET, {"metafields": too_many})["data"]["metafieldsSet"]["userErrors"]
    assert errors == [
        {
            "field": ["metafields"],
            "message": "Exceeded the maximum metafields input limit of 25.",
            "code": "LESS_THAN_OR_EQUAL_TO",
            "elementIndex": None,
        }
    ]
    ok = admin(METAFIELDS_SET, {"metafields": too_many[:25]})["data"]["metafieldsSet"]
    assert ok["userErrors"] == [] and len(ok["metafields"]) == 25


def test_metafield_error_shape_matches_the_recording(admin, product):
    recording = recorded("metafield-definition-validation-affects-values.json")
    expected = recording["setTooLongAfterUpdate"]["response"]["data"]["metafieldsSet"]
    red = product["variants"][0]
    got = admin(
        METAFIELDS_SET, {"metafields": [{"ownerId": red, "namespace": "abc", "key": "k1", "type": "x", "value": "v"}]}
    )["data"]["metafieldsSet"]
    assert got["metafields"] == expected["metafields"] == []
    assert set(got["userErrors"][0]) == set(expected["userErrors"][0])
    assert got["userErrors"][0]["elementIndex"] is expected["userErrors"][0]["elementIndex"] is None


def test_product_metafields_and_nodes_with_inventory_levels(admin, product, emulator):
    red = product["variants"][0]
    admin(
        METAFIELDS_SET,
        {
            "metafields": [
                {"ownerId": product["id"], "namespace": "HC_PREORDER", "key": "product", "type": "json", "value": "[]"}
            ]
        },
    )
    read = admin(VARIANT_READ, {"ids": [red, "gid://shopify/ProductVariant/1"], "loc": admin_location(admin)})
    nodes = read["data"]["nodes"]
    assert nodes[1] is None
    assert nodes[0]["inventoryPolicy"] == "DENY"
    assert nodes[0]["product"]["metafield"] == {"value": "[]"}
    assert nodes[0]["inventoryItem"]["inventoryLevel"]["quantities"] == [
        {"name": "available", "quantity": 0},
        {"name": "committed", "quantity": 0},
    ]

"""Bulk query rules and JSONL flattening, without HTTP."""

import json

from local.emulator.bulk import to_jsonl, validate_bulk_query
from local.emulator.schema import admin_schema

NESTED = """{ productVariants { edges { node { id sku
  inventoryItem { id inventoryLevels { edges { node { id location { name } } } } } } } } }"""


def test_connections_two_levels_below_the_root_are_allowed_three_are_not():
    assert validate_bulk_query(admin_schema(), NESTED)[1] == []
    too_deep = "{ products { edges { node { id variants { edges { node { id inventoryItem { inventoryLevels { edges { node { id location { inventoryLevels { edges { node { id } } } } } } } } } } } } } } }"  # noqa: E501
    assert validate_bulk_query(admin_schema(), too_deep)[1] == [
        "Bulk queries cannot contain connections with a nesting depth greater than 2."
    ]


def test_syntax_errors_and_mutations_are_refused_with_shopifys_messages():
    assert validate_bulk_query(admin_schema(), "   ")[1] == ["Invalid bulk query: syntax error, unexpected end of file"]
    assert validate_bulk_query(admin_schema(), "{ products { edges")[1][0].startswith(
        "Invalid bulk query: syntax error"
    )
    assert validate_bulk_query(admin_schema(), 'mutation { productDelete(input: {id: "x"}) { deletedProductId } }')[
        1
    ] == ["Invalid operation type. Only `query` operations are supported."]


def test_connections_inside_nested_objects_belong_to_the_enclosing_node():
    document, problems = validate_bulk_query(admin_schema(), NESTED)
    assert document is not None and not problems
    level = {"node": {"id": "gid://shopify/InventoryLevel/7?inventory_item_id=3", "location": {"name": "Warehouse"}}}
    data = {
        "productVariants": {
            "edges": [
                {
                    "node": {
                        "id": "gid://shopify/ProductVariant/1",
                        "sku": "SKU-1",
                        "inventoryItem": {"id": "gid://shopify/InventoryItem/3", "inventoryLevels": {"edges": [level]}},
                    }
                }
            ]
        }
    }
    result = to_jsonl(admin_schema(), document, data, group_objects=True, seed=1)
    lines = [json.loads(line) for line in result.body.decode().splitlines()]
    assert lines == [
        {
            "id": "gid://shopify/ProductVariant/1",
            "sku": "SKU-1",
            "inventoryItem": {"id": "gid://shopify/InventoryItem/3"},
        },
        {
            "id": "gid://shopify/InventoryLevel/7?inventory_item_id=3",
            "location": {"name": "Warehouse"},
            "__parentId": "gid://shopify/ProductVariant/1",
        },
    ]
    assert (result.object_count, result.root_object_count) == (2, 1)

"""Rebuilding the bulk export tree from JSONL records that arrive in any order."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopsync.shopify.bulk import CHILD_CONNECTION_BY_TYPE, assemble_bulk_objects, gid_resource_type
from shopsync.shopify.errors import BulkAssemblyError, BulkOrphanRecords


def _product(number: int) -> dict[str, Any]:
    return {"id": f"gid://shopify/Product/{number}", "handle": f"p-{number}", "tags": ["x"]}


def _variant(number: int, product: int) -> dict[str, Any]:
    return {
        "id": f"gid://shopify/ProductVariant/{number}",
        "sku": f"SKU-{number}",
        "inventoryItem": {"id": f"gid://shopify/InventoryItem/{number}", "tracked": True},
        "__parentId": f"gid://shopify/Product/{product}",
    }


# Three products (one without variants), variant ids deliberately not in product order, and ids whose string
# order differs from their numeric order (9 < 10 < 100).
RECORDS: list[dict[str, Any]] = [
    _product(10),
    _variant(100, 10),
    _variant(9, 10),
    _product(9),
    _variant(11, 9),
    _product(100),
    _variant(12, 10),
]

EXPECTED_TREE = [
    {**_product(9), "variants": [{k: v for k, v in _variant(11, 9).items() if k != "__parentId"}]},
    {
        **_product(10),
        "variants": [
            {k: v for k, v in _variant(n, 10).items() if k != "__parentId"}  # ordered by numeric id
            for n in (9, 12, 100)
        ],
    },
    _product(100),
]


def test_assembles_children_under_their_connection_ordered_by_id() -> None:
    assert assemble_bulk_objects(RECORDS) == EXPECTED_TREE


@given(st.permutations(RECORDS))
def test_any_line_order_gives_the_same_tree(shuffled: list[dict[str, Any]]) -> None:
    assert assemble_bulk_objects(shuffled) == EXPECTED_TREE


def test_input_records_are_not_modified() -> None:
    records = copy.deepcopy(RECORDS)
    assemble_bulk_objects(records)
    assert records == RECORDS


def test_connection_mapping_is_explicit() -> None:
    # Lines only carry their parent's id; the child's GID type names the list it goes into.
    assert CHILD_CONNECTION_BY_TYPE == {"ProductVariant": "variants"}
    assert gid_resource_type("gid://shopify/ProductVariant/11") == "ProductVariant"
    assert gid_resource_type("gid://shopify/InventoryLevel/1?inventory_item_id=2") == "InventoryLevel"
    assert gid_resource_type("not-a-gid") is None


def test_custom_mapping_attaches_deeper_levels_in_any_order() -> None:
    level = {"id": "gid://shopify/InventoryLevel/7?inventory_item_id=1", "__parentId": "gid://shopify/ProductVariant/1"}
    variant = {"id": "gid://shopify/ProductVariant/1", "__parentId": "gid://shopify/Product/1"}
    product = {"id": "gid://shopify/Product/1"}

    tree = assemble_bulk_objects(
        [level, variant, product],
        child_connections={"ProductVariant": "variants", "InventoryLevel": "inventoryLevels"},
    )

    assert tree == [
        {
            "id": "gid://shopify/Product/1",
            "variants": [
                {
                    "id": "gid://shopify/ProductVariant/1",
                    "inventoryLevels": [{"id": "gid://shopify/InventoryLevel/7?inventory_item_id=1"}],
                }
            ],
        }
    ]


def test_unmapped_child_type_is_an_error_not_a_guess() -> None:
    records = [_product(1), {"id": "gid://shopify/Metafield/5", "__parentId": "gid://shopify/Product/1"}]
    with pytest.raises(BulkAssemblyError, match="Metafield"):
        assemble_bulk_objects(records)


def test_orphans_raise_by_default() -> None:
    orphan = _variant(50, 999)
    with pytest.raises(BulkOrphanRecords) as raised:
        assemble_bulk_objects([*RECORDS, orphan])
    assert raised.value.orphans == [orphan]
    assert "gid://shopify/Product/999" in str(raised.value)


@given(st.permutations([*RECORDS, _variant(50, 999), _variant(51, 998)]))
def test_orphans_are_reported_when_collected(shuffled: list[dict[str, Any]]) -> None:
    orphans: list[dict[str, Any]] = []

    tree = assemble_bulk_objects(shuffled, orphans=orphans)

    assert tree == EXPECTED_TREE
    assert sorted(orphan["id"] for orphan in orphans) == [
        "gid://shopify/ProductVariant/50",
        "gid://shopify/ProductVariant/51",
    ]
    assert all("__parentId" in orphan for orphan in orphans)


def test_identical_duplicate_lines_collapse_and_conflicting_ones_fail() -> None:
    assert assemble_bulk_objects([*RECORDS, _variant(9, 10), _product(9)]) == EXPECTED_TREE

    conflicting = {**_variant(9, 10), "sku": "OTHER"}
    with pytest.raises(BulkAssemblyError, match="twice"):
        assemble_bulk_objects([*RECORDS, conflicting])


def test_empty_export_gives_empty_tree() -> None:
    assert assemble_bulk_objects([]) == []

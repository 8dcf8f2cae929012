"""The association matching rule, table-driven: normalisation, the case/whitespace rule, missing identifiers,
duplicates in the catalog and in the store, barcodes with leading zeros, and product-id stores."""

from collections import defaultdict

import pytest
from pydantic import ValidationError

from shopsync.catalog.association import Linked, NotLinked, decide, describe, identifier_of
from shopsync.catalog.identifiers import normalize
from shopsync.models.association import ManualAssociationRequest, UnmatchedReason
from shopsync.models.shop import IdentifierType

SKU, BARCODE, PRODUCT_ID = IdentifierType.SKU, IdentifierType.BARCODE, IdentifierType.PRODUCT_ID
NO_MATCH = NotLinked(UnmatchedReason.NO_MATCH)
MISSING = NotLinked(UnmatchedReason.MISSING_IDENTIFIER)


def variant_node(legacy_id: str, sku: str | None = None, barcode: str | None = None) -> dict:
    return {
        "id": f"gid://shopify/ProductVariant/{legacy_id}",
        "legacyResourceId": legacy_id,
        "sku": sku,
        "barcode": barcode,
        "product": {"id": "gid://shopify/Product/1"},
    }


def match_store(kind: IdentifierType, children: list[dict], catalog: dict[str, dict]) -> dict[str, object]:
    """The job's decision for every child variant, against an in-memory catalog indexed like the table is."""
    catalog_index: dict[str, list[str]] = defaultdict(list)
    for product_id, fields in catalog.items():
        raw = product_id if kind is PRODUCT_ID else fields.get(kind.value.lower())
        if value := normalize(kind, raw):
            catalog_index[value].append(product_id)
    store_index: dict[str, list[str]] = defaultdict(list)
    identifiers = {node["legacyResourceId"]: identifier_of(kind, node) for node in children}
    for variant_id, identifier in identifiers.items():
        if identifier:
            store_index[identifier].append(variant_id)
    return {
        variant_id: decide(
            variant_id,
            identifier,
            store_index.get(identifier or "", []),
            catalog_index.get(identifier or "", []) if identifier else [],
        )
        for variant_id, identifier in identifiers.items()
    }


CASES = [
    pytest.param(
        SKU,
        [variant_node("11", sku="SS-TEE-BLK-M")],
        {"1": {"sku": "SS-TEE-BLK-M"}},
        {"11": Linked("1")},
        id="sku-exact",
    ),
    pytest.param(
        SKU,
        [variant_node("11", sku="  ss-tee-blk-m\t")],
        {"1": {"sku": "SS-TEE-BLK-M"}},
        {"11": Linked("1")},
        id="sku-case-and-trim",
    ),
    pytest.param(
        SKU,
        [variant_node("11", sku="Gift  Card 10")],
        {"1": {"sku": "gift card 10"}},
        {"11": Linked("1")},
        id="sku-inner-whitespace",
    ),
    pytest.param(
        SKU,
        [variant_node("11", sku="SS-TEE-BLK")],
        {"1": {"sku": "SS-TEE-BLK-M"}},
        {"11": NO_MATCH},
        id="sku-prefix-is-no-match",
    ),
    pytest.param(SKU, [variant_node("11", sku="SS-TEE-BLK-M")], {}, {"11": NO_MATCH}, id="sku-not-in-catalog"),
    pytest.param(
        SKU,
        [variant_node("11", sku=None), variant_node("12", sku="   ")],
        {"1": {"sku": "A"}},
        {"11": MISSING, "12": MISSING},
        id="sku-missing-or-blank",
    ),
    pytest.param(
        SKU,
        [variant_node("11", sku="DUP-1")],
        {"1": {"sku": "dup-1"}, "2": {"sku": " DUP-1 "}},
        {"11": NotLinked(UnmatchedReason.DUPLICATE_IN_CATALOG, candidate_product_ids=("1", "2"))},
        id="sku-duplicate-in-catalog",
    ),
    pytest.param(
        SKU,
        [variant_node("11", sku="X-1"), variant_node("12", sku=" x-1"), variant_node("13", sku="Y-1")],
        {"1": {"sku": "X-1"}, "2": {"sku": "Y-1"}},
        {
            "11": NotLinked(UnmatchedReason.DUPLICATE_IN_STORE, sharing_variant_ids=("12",)),
            "12": NotLinked(UnmatchedReason.DUPLICATE_IN_STORE, sharing_variant_ids=("11",)),
            "13": Linked("2"),
        },
        id="sku-duplicate-in-store-after-normalisation",
    ),
    pytest.param(
        BARCODE,
        [variant_node("11", barcode=" 012345678905 ")],
        {"1": {"barcode": "012345678905"}},
        {"11": Linked("1")},
        id="barcode-trimmed",
    ),
    pytest.param(
        BARCODE,
        [variant_node("11", barcode="012345678905")],
        {"1": {"barcode": "12345678905"}},
        {"11": NO_MATCH},
        id="barcode-leading-zeros-count",
    ),
    pytest.param(
        BARCODE,
        [variant_node("11", sku="A", barcode=None)],
        {"1": {"sku": "A", "barcode": "99"}},
        {"11": MISSING},
        id="barcode-store-ignores-sku",
    ),
    pytest.param(
        PRODUCT_ID,
        [variant_node("2001"), variant_node("3001")],
        {"2001": {}},
        {"2001": Linked("2001"), "3001": NO_MATCH},
        id="product-id-equal-ids-only",
    ),
]


@pytest.mark.parametrize(("kind", "children", "catalog", "expected"), CASES)
def test_matching_rule(kind, children, catalog, expected):
    assert match_store(kind, children, catalog) == expected


def test_duplicate_in_store_is_checked_before_the_catalog():
    decision = decide("11", "X", ["11", "12"], ["1", "2"])
    assert decision == NotLinked(UnmatchedReason.DUPLICATE_IN_STORE, sharing_variant_ids=("12",))


@pytest.mark.parametrize(
    ("decision", "identifier", "message"),
    [
        (MISSING, None, "the variant has no SKU, which eu-child is matched by"),
        (NO_MATCH, "X-1", "no catalog product has SKU X-1"),
        (
            NotLinked(UnmatchedReason.DUPLICATE_IN_STORE, sharing_variant_ids=("12",)),
            "X-1",
            "SKU X-1 is shared by 2 variants in eu-child",
        ),
        (
            NotLinked(UnmatchedReason.DUPLICATE_IN_CATALOG, candidate_product_ids=("1", "2")),
            "X-1",
            "SKU X-1 is shared by 2 catalog products (1, 2)",
        ),
    ],
)
def test_each_reason_reads_as_a_sentence(decision, identifier, message):
    assert describe(decision, SKU, identifier, "eu-child") == message


def test_manual_request_accepts_numbers_or_gids_and_stores_gids():
    request = ManualAssociationRequest(
        shopify_product_id="1001", shopify_variant_id="gid://shopify/ProductVariant/2001"
    )
    assert request.shopify_product_id == "gid://shopify/Product/1001"
    assert request.shopify_variant_id == "gid://shopify/ProductVariant/2001"
    assert request.inventory_item_id is None
    with pytest.raises(ValidationError):
        ManualAssociationRequest(shopify_product_id="abc", shopify_variant_id="2001")

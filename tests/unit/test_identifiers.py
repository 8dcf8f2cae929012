import pytest

from shopsync.catalog.identifiers import legacy_id, normalize, normalize_barcode, normalize_sku
from shopsync.models.shop import IdentifierType


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("SS-TEE-BLK-M", "SS-TEE-BLK-M"),
        ("  ss-tee-blk-m ", "SS-TEE-BLK-M"),
        ("Gift  Card\t10", "GIFT CARD 10"),
        ("   ", None),
        ("", None),
        (None, None),
    ],
)
def test_sku_is_trimmed_collapsed_and_case_insensitive(raw, expected):
    assert normalize_sku(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("012345678905", "012345678905"), (" 012345678905\n", "012345678905"), ("", None), (None, None)],
)
def test_barcode_keeps_leading_zeros_and_only_trims(raw, expected):
    assert normalize_barcode(raw) == expected


def test_product_id_accepts_gid_or_number():
    assert legacy_id("gid://shopify/ProductVariant/42") == "42"
    assert legacy_id("gid://shopify/InventoryLevel/7?inventory_item_id=9") == "7"
    assert normalize(IdentifierType.PRODUCT_ID, " 42 ") == "42"
    assert normalize(IdentifierType.PRODUCT_ID, "  ") is None


def test_normalize_dispatches_on_the_store_identifier_type():
    assert normalize(IdentifierType.SKU, " ab ") == "AB"
    assert normalize(IdentifierType.BARCODE, " 0042 ") == "0042"

from datetime import UTC, datetime

from shopsync.catalog.product_import import catalog_products

PAGE_NODE = {
    "id": "gid://shopify/Product/1",
    "legacyResourceId": "1",
    "title": "Tee",
    "handle": "tee",
    "status": "ACTIVE",
    "vendor": "Acme",
    "productType": "Shirts",
    "tags": ["summer"],
    "createdAt": "2026-01-01T00:00:00Z",
    "updatedAt": "2026-02-01T00:00:00Z",
    "variants": {
        "pageInfo": {"hasNextPage": False, "endCursor": None},
        "nodes": [
            {
                "id": "gid://shopify/ProductVariant/11",
                "legacyResourceId": "11",
                "title": "M",
                "sku": "TEE-M",
                "barcode": "012345678905",
                "price": "10.00",
                "inventoryPolicy": "DENY",
                "inventoryQuantity": 3,
                "updatedAt": "2026-03-01T00:00:00Z",
                "inventoryItem": {"id": "gid://shopify/InventoryItem/21", "tracked": True},
            },
            {
                "id": "gid://shopify/ProductVariant/12",
                "legacyResourceId": "12",
                "title": "L",
                "sku": "",
                "barcode": None,
                "price": "10.00",
                "inventoryPolicy": "DENY",
                "inventoryQuantity": 0,
                "updatedAt": "2026-01-15T00:00:00Z",
                "inventoryItem": {"id": "gid://shopify/InventoryItem/22", "tracked": True},
            },
        ],
    },
}


def test_one_catalog_product_per_variant_keyed_by_the_variant_id():
    products = catalog_products(PAGE_NODE)
    assert [p.product_id for p in products] == ["11", "12"]
    first = products[0]
    assert first.shopify_product_id == "gid://shopify/Product/1"
    assert first.inventory_item_id == "gid://shopify/InventoryItem/21"
    assert (first.sku, first.barcode, first.tags) == ("TEE-M", "012345678905", ("summer",))


def test_updated_at_is_the_later_of_product_and_variant():
    newer_variant, older_variant = catalog_products(PAGE_NODE)
    assert newer_variant.shopify_updated_at == datetime(2026, 3, 1, tzinfo=UTC)
    assert older_variant.shopify_updated_at == datetime(2026, 2, 1, tzinfo=UTC)


def test_empty_identifiers_are_stored_as_missing():
    _, without_sku = catalog_products(PAGE_NODE)
    assert without_sku.sku is None and without_sku.barcode is None


def test_bulk_tree_with_a_plain_variant_list_maps_the_same():
    bulk_tree = {**PAGE_NODE, "variants": PAGE_NODE["variants"]["nodes"]}
    assert catalog_products(bulk_tree) == catalog_products(PAGE_NODE)


def test_content_hash_changes_only_with_content():
    product = catalog_products(PAGE_NODE)[0]
    assert product.content_hash() == catalog_products(PAGE_NODE)[0].content_hash()
    assert product.model_copy(update={"price": "11.00"}).content_hash() != product.content_hash()

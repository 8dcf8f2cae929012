"""Storefront checkout: Shopify's own stock rule (DENY stops at zero, CONTINUE oversells), atomic carts, and a
threaded storm that must never oversell."""

import random
import threading
from typing import Any

import pytest

from local.emulator import ShopifyEmulator
from local.emulator.testing import AdminGraphQL, in_process_http

PRODUCT_SET = """mutation Set($input: ProductSetInput!) { productSet(input: $input, synchronous: true) {
  product { id variants(first: 1) { nodes { id inventoryItem { id } } } } userErrors { field message } } }"""
SET_QUANTITIES = """mutation Stock($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) { userErrors { field message code } } }"""
LEVEL = """query Level($item: ID!) { inventoryItem(id: $item) { inventoryLevels(first: 5) { nodes {
  location { id } quantities(names: ["available", "committed", "on_hand"]) { name quantity } } } } }"""
SHOPS = ("us-parent", "eu-child", "uk-child")


@pytest.fixture
def emulator() -> ShopifyEmulator:
    emulator = ShopifyEmulator()
    for shop in SHOPS:
        emulator.add_store(shop_id=shop, access_token=f"shpat_{shop}")
    return emulator


def admin_for(emulator: ShopifyEmulator, shop: str) -> AdminGraphQL:
    return AdminGraphQL(in_process_http(emulator), shop, f"shpat_{shop}")


def stocked_variant(admin: AdminGraphQL, available: int, policy: str = "DENY", sku: str = "PRE-1") -> dict[str, str]:
    product = admin(
        PRODUCT_SET,
        {
            "input": {
                "title": f"Tee {sku}",
                "productOptions": [{"name": "Title", "values": [{"name": "Default Title"}]}],
                "variants": [
                    {
                        "optionValues": [{"optionName": "Title", "name": "Default Title"}],
                        "price": "10.00",
                        "inventoryPolicy": policy,
                        "inventoryItem": {"sku": sku, "tracked": True},
                    }
                ],
            }
        },
    )["data"]["productSet"]["product"]
    variant = product["variants"]["nodes"][0]
    location = admin("{ location { id } }")["data"]["location"]["id"]
    item = variant["inventoryItem"]["id"]
    quantities = [{"inventoryItemId": item, "locationId": location, "quantity": available, "changeFromQuantity": None}]
    body = admin(
        SET_QUANTITIES,
        {"input": {"name": "available", "reason": "correction", "quantities": quantities}, "key": f"stock-{sku}"},
    )
    assert body["data"]["inventorySetQuantities"]["userErrors"] == []
    return {"variant": variant["id"], "item": item, "location": location}


def quantities(admin: AdminGraphQL, item: str) -> dict[str, int]:
    level = admin(LEVEL, {"item": item})["data"]["inventoryItem"]["inventoryLevels"]["nodes"][0]
    return {q["name"]: q["quantity"] for q in level["quantities"]}


def test_deny_sells_down_to_zero_and_moves_available_to_committed(emulator):
    admin = admin_for(emulator, "us-parent")
    stock = stocked_variant(admin, 3)
    first = emulator.checkout("us-parent", [{"variant_id": stock["variant"], "quantity": 2}], email="a@example.com")
    assert first.ok and first.order_name == "#1001"
    assert first.lines == [{"variant_id": stock["variant"], "quantity": 2, "location_id": stock["location"]}]
    assert quantities(admin, stock["item"]) == {"available": 1, "committed": 2, "on_hand": 3}
    refused = emulator.checkout("us-parent", [{"variant_id": stock["variant"], "quantity": 2}])
    assert (refused.ok, refused.error, refused.variant_id) == (False, "OUT_OF_STOCK", stock["variant"])
    assert quantities(admin, stock["item"])["available"] == 1  # a refused cart changes nothing
    assert emulator.checkout("us-parent", [{"variant_id": stock["variant"], "quantity": 1}]).order_name == "#1002"


def test_continue_oversells_and_a_cart_is_all_or_nothing(emulator):
    admin = admin_for(emulator, "us-parent")
    backorder = stocked_variant(admin, 1, policy="CONTINUE", sku="BACK-1")
    scarce = stocked_variant(admin, 1, sku="SCARCE-1")
    assert emulator.checkout("us-parent", [{"variant_id": backorder["variant"], "quantity": 3}]).ok
    assert quantities(admin, backorder["item"])["available"] == -2
    cart = [{"variant_id": backorder["variant"], "quantity": 1}, {"variant_id": scarce["variant"], "quantity": 2}]
    refused = emulator.checkout("us-parent", cart)
    assert (refused.ok, refused.variant_id) == (False, scarce["variant"])
    assert quantities(admin, backorder["item"])["available"] == -2  # the allowed line was not sold either
    same_variant_twice = [{"variant_id": scarce["variant"], "quantity": 1}] * 2
    assert not emulator.checkout("us-parent", same_variant_twice).ok  # quantities of one variant add up
    unknown = emulator.checkout("us-parent", [{"variant_id": "gid://shopify/ProductVariant/1", "quantity": 1}])
    assert unknown.error == "UNKNOWN_VARIANT"


def test_checkout_over_http(emulator):
    admin = admin_for(emulator, "us-parent")
    stock = stocked_variant(admin, 1)
    http = admin.http
    address = {
        "first_name": "Ada",
        "last_name": "L",
        "address1": "1 Main St",
        "city": "Town",
        "zip": "1",
        "country_code": "US",
    }
    created = http.post(
        "/_emulator/stores/us-parent/checkout",
        json={
            "lines": [{"variant_id": stock["variant"], "quantity": 1}],
            "email": "ada@example.com",
            "shipping_address": address,
        },
    )
    assert created.status_code == 201
    order = created.json()["order"]
    assert order["name"] == "#1001" and order["email"] == "ada@example.com"
    assert order["line_items"][0]["sku"] == "PRE-1" and order["line_items"][0]["quantity"] == 1
    assert order["shipping_address"]["city"] == "Town" and order["customer"]["first_name"] == "Ada"
    refused = http.post(
        "/_emulator/stores/us-parent/checkout", json={"lines": [{"variant_id": stock["variant"], "quantity": 1}]}
    )
    assert refused.status_code == 409
    assert refused.json() == {"error": "OUT_OF_STOCK", "variant_id": stock["variant"]}
    assert http.post("/_emulator/stores/us-parent/checkout", json={}).status_code == 400


def test_concurrent_storm_never_oversells(emulator):
    """1000 attempts from 8 threads, skewed towards the parent, on 100 units split 50/30/20 over three stores."""
    split = {"us-parent": 50, "eu-child": 30, "uk-child": 20}
    stock = {shop: stocked_variant(admin_for(emulator, shop), units) for shop, units in split.items()}
    weights = [0.6, 0.3, 0.1]
    sold: dict[str, int] = dict.fromkeys(SHOPS, 0)
    lock = threading.Lock()

    def shopper(seed: int, attempts: int) -> None:
        rng = random.Random(seed)
        for _ in range(attempts):
            shop = rng.choices(SHOPS, weights)[0]
            result = emulator.checkout(
                shop, [{"variant_id": stock[shop]["variant"], "quantity": rng.choice([1, 1, 2])}]
            )
            if result.ok:
                with lock:
                    sold[shop] += result.lines[0]["quantity"]

    threads = [threading.Thread(target=shopper, args=(seed, 125)) for seed in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for shop in SHOPS:
        level: dict[str, Any] = quantities(admin_for(emulator, shop), stock[shop]["item"])
        assert level["available"] >= 0
        assert level["committed"] == sold[shop] == split[shop] - level["available"]
        assert level["available"] <= 1  # demand exceeded supply everywhere: only an odd unit may be left
    assert sum(sold.values()) >= 97
    assert sum(sold.values()) <= 100

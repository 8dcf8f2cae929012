"""productSet, inventorySetQuantities (2026-04 contract, compared with the recordings) and inventoryActivate."""

import json
from pathlib import Path

import pytest

from local.emulator import ShopifyEmulator
from local.emulator.testing import AdminGraphQL, FakeClock, in_process_http

RECORDINGS = Path(__file__).resolve().parents[2] / "local" / "emulator" / "recordings"
PRODUCT_SET = """mutation Set($input: ProductSetInput!, $identifier: ProductSetIdentifiers, $synchronous: Boolean!) {
  productSet(input: $input, identifier: $identifier, synchronous: $synchronous) {
    product { id title handle status tags variants(first: 10) { nodes {
      id title sku barcode price inventoryPolicy position selectedOptions { name value }
      inventoryItem { id tracked } } } }
    userErrors { field message code } } }"""
SET_QUANTITIES = """mutation Stock($input: InventorySetQuantitiesInput!, $idempotencyKey: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $idempotencyKey) {
    inventoryAdjustmentGroup { reason referenceDocumentUri
      changes { name delta quantityAfterChange item { id } location { id } } }
    userErrors { field message code } } }"""
LEVEL = """query($item: ID!, $loc: ID!) { inventoryItem(id: $item) { inventoryLevel(locationId: $loc) {
  quantities(names: ["available", "on_hand", "committed", "reserved"]) { name quantity } } } }"""


@pytest.fixture
def emulator() -> ShopifyEmulator:
    emulator = ShopifyEmulator(clock=FakeClock())
    emulator.add_store(shop_id="us-parent", name="US Store", currency="USD", access_token="shpat_x")
    return emulator


@pytest.fixture
def admin(emulator: ShopifyEmulator) -> AdminGraphQL:
    return AdminGraphQL(in_process_http(emulator), "us-parent", "shpat_x")


def tee_input(sizes: dict[str, str], **overrides) -> dict:
    return {
        "title": "Black Classic Tee",
        "status": "ACTIVE",
        "tags": ["demo", "tees"],
        "productOptions": [{"name": "Size", "values": [{"name": size} for size in sizes]}],
        "variants": [
            {
                "optionValues": [{"optionName": "Size", "name": size}],
                "price": "24.00",
                "barcode": f"0000000000{n}",
                "inventoryPolicy": "DENY",
                "inventoryItem": {"sku": sku, "tracked": True},
            }
            for n, (size, sku) in enumerate(sizes.items())
        ],
        **overrides,
    }


def product_set(admin: AdminGraphQL, data: dict, identifier: dict | None = None, synchronous: bool = True) -> dict:
    body = admin(PRODUCT_SET, {"input": data, "identifier": identifier, "synchronous": synchronous})
    assert "errors" not in body, body
    return body["data"]["productSet"]


@pytest.fixture
def stocked(admin: AdminGraphQL) -> dict:
    """One tracked item stocked at the primary location with available 5."""
    payload = product_set(admin, tee_input({"M": "SS-TEE-BLK-M"}))
    item = payload["product"]["variants"]["nodes"][0]["inventoryItem"]["id"]
    location = admin("{ location { id } }")["data"]["location"]["id"]
    quantities = [{"inventoryItemId": item, "locationId": location, "quantity": 5, "changeFromQuantity": 0}]
    result = admin(SET_QUANTITIES, {"input": stock_input(quantities), "idempotencyKey": "setup"})
    assert result["data"]["inventorySetQuantities"]["userErrors"] == []
    return {"item": item, "location": location}


def stock_input(quantities: list[dict], name: str = "available", reason: str = "correction") -> dict:
    return {"name": name, "reason": reason, "referenceDocumentUri": "gid://shopsync/Test/1", "quantities": quantities}


def quantities(admin: AdminGraphQL, stocked: dict) -> dict[str, int]:
    body = admin(LEVEL, {"item": stocked["item"], "loc": stocked["location"]})
    return {q["name"]: q["quantity"] for q in body["data"]["inventoryItem"]["inventoryLevel"]["quantities"]}


# ---- productSet --------------------------------------------------------------------------------------


def test_product_set_creates_a_product_with_options_and_variants(admin):
    payload = product_set(admin, tee_input({"S": "SS-TEE-BLK-S", "M": "SS-TEE-BLK-M"}))
    assert payload["userErrors"] == []
    product = payload["product"]
    assert product["handle"] == "black-classic-tee"
    assert product["tags"] == ["demo", "tees"]
    variants = product["variants"]["nodes"]
    assert [(v["title"], v["sku"], v["price"], v["position"]) for v in variants] == [
        ("S", "SS-TEE-BLK-S", "24.00", 1),
        ("M", "SS-TEE-BLK-M", "24.00", 2),
    ]
    assert variants[0]["selectedOptions"] == [{"name": "Size", "value": "S"}]
    assert variants[0]["inventoryItem"]["tracked"] is True


def test_product_set_by_handle_updates_in_place_and_replaces_the_variant_list(admin):
    created = product_set(admin, tee_input({"S": "SS-TEE-BLK-S", "M": "SS-TEE-BLK-M"}))["product"]
    kept = created["variants"]["nodes"][1]
    update = tee_input({"M": "SS-TEE-BLK-M", "L": "SS-TEE-BLK-L"}, title="Black Classic Tee v2")
    update["variants"][0]["price"] = "19.50"
    update["variants"][0]["inventoryPolicy"] = "CONTINUE"
    updated = product_set(admin, update, identifier={"handle": "black-classic-tee"})["product"]
    assert updated["id"] == created["id"]
    assert updated["title"] == "Black Classic Tee v2"
    variants = updated["variants"]["nodes"]
    assert [v["sku"] for v in variants] == ["SS-TEE-BLK-M", "SS-TEE-BLK-L"]
    assert variants[0]["id"] == kept["id"]  # matched on its option values: same variant, same inventory item
    assert variants[0]["inventoryItem"]["id"] == kept["inventoryItem"]["id"]
    assert (variants[0]["price"], variants[0]["inventoryPolicy"]) == ("19.50", "CONTINUE")
    assert admin("{ productVariants(first: 10) { nodes { sku } } }")["data"]["productVariants"]["nodes"] == [
        {"sku": "SS-TEE-BLK-M"},
        {"sku": "SS-TEE-BLK-L"},
    ]


def test_product_set_asynchronous_returns_an_operation(admin):
    payload = product_set(admin, tee_input({"S": "SS-A"}), synchronous=False)
    assert payload["product"] is None and payload["userErrors"] == []


def test_product_set_id_with_identifier_is_refused_like_shopify(admin):
    recorded = json.loads((RECORDINGS / "product-set-id-not-allowed.json").read_text())
    case = recorded["idNotAllowed"]
    body = admin(
        "mutation($input: ProductSetInput!, $identifier: ProductSetIdentifiers, $synchronous: Boolean!) {"
        " productSet(input: $input, identifier: $identifier, synchronous: $synchronous) {"
        " product { id } userErrors { field message code } } }",
        case["variables"],
    )
    assert body["data"] == case["response"]["data"]
    missing = recorded["missingIdentifier"]
    created = product_set(admin, missing["variables"]["input"])
    assert created["product"]["handle"] == missing["response"]["data"]["productSet"]["product"]["handle"]


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"title": "  "}, ["input", "title"], "INVALID_PRODUCT"),
        ({"productOptions": None}, ["input", "productOptions"], "PRODUCT_OPTIONS_INPUT_MISSING"),
    ],
)
def test_product_set_user_errors(admin, change, field, code):
    payload = product_set(admin, tee_input({"S": "SS-X-S", "M": "SS-X-M"}, **change))
    assert payload["product"] is None
    assert payload["userErrors"][0]["field"] == field
    assert payload["userErrors"][0]["code"] == code


def test_product_set_rejects_unknown_option_values_and_taken_handles(admin):
    data = tee_input({"S": "SS-X-S"})
    data["variants"][0]["optionValues"] = [{"optionName": "Size", "name": "XXL"}]
    errors = product_set(admin, data)["userErrors"]
    assert errors[0]["code"] == "OPTION_VALUE_DOES_NOT_EXIST"
    assert errors[0]["field"] == ["input", "variants", "0", "optionValues", "0"]
    product_set(admin, tee_input({"S": "SS-X-S"}, handle="taken"))
    errors = product_set(admin, tee_input({"S": "SS-Y-S"}, handle="taken", title="Other"))["userErrors"]
    assert errors == [
        {
            "field": ["input", "handle"],
            "message": "Handle 'taken' already in use. Please provide a new handle.",
            "code": "HANDLE_NOT_UNIQUE",
        }
    ]


# ---- inventorySetQuantities --------------------------------------------------------------------------


def test_setting_available_moves_on_hand_by_the_same_delta(admin, stocked):
    body = admin(
        SET_QUANTITIES,
        {
            "input": stock_input(
                [
                    {
                        "inventoryItemId": stocked["item"],
                        "locationId": stocked["location"],
                        "quantity": 12,
                        "changeFromQuantity": 5,
                    }
                ]
            ),
            "idempotencyKey": "k-1",
        },
    )
    group = body["data"]["inventorySetQuantities"]["inventoryAdjustmentGroup"]
    assert [(c["name"], c["delta"], c["quantityAfterChange"]) for c in group["changes"]] == [
        ("available", 7, None),  # Shopify 2026-04 answers null here (see the recordings)
        ("on_hand", 7, None),
    ]
    assert group["reason"] == "correction"
    assert quantities(admin, stocked) == {"available": 12, "on_hand": 12, "committed": 0, "reserved": 0}


def test_compare_and_set_refuses_a_stale_change_from_quantity_and_applies_nothing(admin, stocked):
    stale = [
        {"inventoryItemId": stocked["item"], "locationId": stocked["location"], "quantity": 1, "changeFromQuantity": 4}
    ]
    body = admin(SET_QUANTITIES, {"input": stock_input(stale), "idempotencyKey": "k-2"})
    assert body["data"]["inventorySetQuantities"] == {
        "inventoryAdjustmentGroup": None,
        "userErrors": [
            {
                "field": ["input", "quantities", "0", "changeFromQuantity"],
                "message": "The changeFromQuantity value does not match persisted value.",
                "code": "CHANGE_FROM_QUANTITY_STALE",
            }
        ],
    }
    assert quantities(admin, stocked)["available"] == 5
    unchecked = [
        {
            "inventoryItemId": stocked["item"],
            "locationId": stocked["location"],
            "quantity": 1,
            "changeFromQuantity": None,
        }
    ]
    assert (
        admin(SET_QUANTITIES, {"input": stock_input(unchecked), "idempotencyKey": "k-3"})["data"][
            "inventorySetQuantities"
        ]["userErrors"]
        == []
    )
    assert quantities(admin, stocked)["available"] == 1


def test_idempotency_key_replays_the_first_result_and_refuses_other_parameters(admin, stocked):
    def set_to(quantity: int, key: str) -> dict:
        entry = {
            "inventoryItemId": stocked["item"],
            "locationId": stocked["location"],
            "quantity": quantity,
            "changeFromQuantity": None,
        }
        return admin(SET_QUANTITIES, {"input": stock_input([entry]), "idempotencyKey": key})["data"][
            "inventorySetQuantities"
        ]

    first = set_to(9, "same-key")
    assert first["userErrors"] == []
    admin(
        SET_QUANTITIES,
        {
            "input": stock_input(
                [
                    {
                        "inventoryItemId": stocked["item"],
                        "locationId": stocked["location"],
                        "quantity": 2,
                        "changeFromQuantity": None,
                    }
                ]
            ),
            "idempotencyKey": "other",
        },
    )
    assert set_to(9, "same-key") == first  # replayed, not re-applied
    assert quantities(admin, stocked)["available"] == 2
    assert set_to(10, "same-key")["userErrors"] == [
        {
            "field": None,
            "message": "The same idempotency key cannot be used with different operation parameters.",
            "code": "IDEMPOTENCY_KEY_PARAMETER_MISMATCH",
        }
    ]


def test_missing_idempotent_directive_and_missing_change_from_quantity_match_the_recordings(admin, stocked):
    recorded = json.loads((RECORDINGS / "inventory-quantity-contracts-2026-04.json").read_text())
    entry = {
        "inventoryItemId": stocked["item"],
        "locationId": stocked["location"],
        "quantity": 3,
        "changeFromQuantity": 5,
    }
    without_directive = SET_QUANTITIES.replace(" @idempotent(key: $idempotencyKey)", "").replace(
        ", $idempotencyKey: String!", ""
    )
    body = admin(without_directive, {"input": stock_input([entry])})
    expected = recorded["missingSetIdempotency"]["response"]
    assert body["data"] == expected["data"]
    assert {k: body["errors"][0][k] for k in ("message", "extensions", "path")} == {
        k: expected["errors"][0][k] for k in ("message", "extensions", "path")
    }
    del entry["changeFromQuantity"]
    body = admin(SET_QUANTITIES, {"input": stock_input([entry]), "idempotencyKey": "no-cfq"})
    expected = recorded["missingSetChangeFromQuantity"]["response"]
    assert body["data"] == expected["data"]
    assert {k: body["errors"][0][k] for k in ("message", "extensions", "path")} == {
        k: expected["errors"][0][k] for k in ("message", "extensions", "path")
    }
    assert len(body["errors"][0]["locations"]) == 2  # the field and the $input definition
    assert quantities(admin, stocked)["available"] == 5


def recorded_cases(name: str, *groups: str) -> list[tuple[str, dict]]:
    data = json.loads((RECORDINGS / name).read_text())
    return [
        (f"{group}/{key}", case)
        for group in groups
        for key, case in data[group].items()
        if "inventorySetQuantities(" in case["query"]  # adjust/move/setOnHand are not emulated
    ]


@pytest.mark.parametrize(
    ("case_id", "case"),
    recorded_cases("inventorySetQuantities-quantity-bounds.json", "cases")
    + recorded_cases("inventorySetQuantities-name-validation.json", "cases")
    + recorded_cases("inventory-reason-validation.json", "invalidReasonCases"),
)
def test_validation_user_errors_match_the_recordings(admin, stocked, case_id, case):
    variables = json.loads(
        json.dumps(case["variables"])
        .replace(case["variables"]["input"]["quantities"][0]["inventoryItemId"], stocked["item"])
        .replace(case["variables"]["input"]["quantities"][0]["locationId"], stocked["location"])
    )
    for quantity in variables["input"]["quantities"]:
        quantity["changeFromQuantity"] = None
    body = admin(case["query"], variables)
    recorded = case["response"]["data"]["inventorySetQuantities"]
    got = body["data"]["inventorySetQuantities"]
    assert got["userErrors"] == recorded["userErrors"], case_id
    if recorded["inventoryAdjustmentGroup"] is None:
        assert got["inventoryAdjustmentGroup"] is None


def test_unknown_item_and_location_are_both_reported(admin):
    entry = {
        "inventoryItemId": "gid://shopify/InventoryItem/42",
        "locationId": "gid://shopify/Location/7",
        "quantity": 1,
        "changeFromQuantity": 0,
    }
    errors = admin(SET_QUANTITIES, {"input": stock_input([entry]), "idempotencyKey": "unknown"})["data"][
        "inventorySetQuantities"
    ]["userErrors"]
    assert [e["code"] for e in errors] == ["INVALID_INVENTORY_ITEM", "INVALID_LOCATION"]


def test_inventory_activate_stocks_an_item_at_another_location(admin, emulator, stocked):
    second = emulator.store("us-parent").add_location("Store Room")
    location_gid = f"gid://shopify/Location/{second.id}"
    activate = """mutation($item: ID!, $loc: ID!, $available: Int, $key: String!) {
      inventoryActivate(inventoryItemId: $item, locationId: $loc, available: $available) @idempotent(key: $key) {
        inventoryLevel { isActive location { name } quantities(names: ["available", "on_hand"]) { name quantity } }
        userErrors { field message } } }"""
    body = admin(activate, {"item": stocked["item"], "loc": location_gid, "available": 4, "key": "act-1"})
    assert body["data"]["inventoryActivate"] == {
        "inventoryLevel": {
            "isActive": True,
            "location": {"name": "Store Room"},
            "quantities": [{"name": "available", "quantity": 4}, {"name": "on_hand", "quantity": 4}],
        },
        "userErrors": [],
    }
    again = admin(activate, {"item": stocked["item"], "loc": location_gid, "available": 6, "key": "act-2"})
    assert again["data"]["inventoryActivate"]["userErrors"] == [
        {
            "field": ["available"],
            "message": "Not allowed to set an available quantity when the item is already active at the location.",
        }
    ]
    total = admin(
        "query($id: ID!) { inventoryItem(id: $id) { variant { inventoryQuantity } } }", {"id": stocked["item"]}
    )
    assert total["data"]["inventoryItem"]["variant"]["inventoryQuantity"] == 9

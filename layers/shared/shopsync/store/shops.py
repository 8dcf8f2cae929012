"""Shop registrations. Exactly one parent is enforced by a marker item written in the same transaction."""

from __future__ import annotations

from typing import Any

from shopsync.errors import Conflict
from shopsync.models.shop import Shop, ShopRole
from shopsync.store import table

_PARENT_MARKER = ("SHOP-ROLE#parent", "MARKER")


def _shop_item(shop: Shop) -> table.Item:
    return {
        "PK": f"SHOP#{shop.shop_id}",
        "SK": "CONFIG",
        "type": "SHOP",
        "GSI1PK": "SHOPS",
        "GSI1SK": shop.shop_id,
        **shop.model_dump(mode="json"),
    }


def get_shop(shop_id: str) -> Shop | None:
    item = table.get_item(f"SHOP#{shop_id}", "CONFIG")
    return Shop.model_validate(item) if item else None


def list_shops() -> list[Shop]:
    items = table.query("GSI1PK = :pk", {":pk": "SHOPS"}, index="GSI1")
    return [Shop.model_validate(item) for item in items]


def save_shop(shop: Shop, previous: Shop | None) -> None:
    """Create or replace a registration; refuse a second parent, and never lose the marker of the current one."""
    operations: list[dict[str, Any]] = [{"Put": {"Item": _shop_item(shop)}}]
    pk, sk = _PARENT_MARKER
    if shop.role is ShopRole.PARENT:
        operations.append(
            {
                "Put": {
                    "Item": {"PK": pk, "SK": sk, "type": "SHOP_ROLE", "shop_id": shop.shop_id},
                    "ConditionExpression": "attribute_not_exists(PK) OR shop_id = :id",
                    "ExpressionAttributeValues": {":id": shop.shop_id},
                }
            }
        )
    elif previous is not None and previous.role is ShopRole.PARENT:
        operations.append(
            {
                "Delete": {
                    "Key": {"PK": pk, "SK": sk},
                    "ConditionExpression": "shop_id = :id",
                    "ExpressionAttributeValues": {":id": shop.shop_id},
                }
            }
        )
    try:
        table.transact_write(operations)
    except table.TransactionConflict as conflict:
        marker = table.get_item(pk, sk)
        holder = marker["shop_id"] if marker else "another store"
        raise Conflict(
            f"a parent store is already registered ({holder}); register {shop.shop_id} as a child, "
            f"or re-register {holder} as a child first",
            parent_shop_id=holder,
        ) from conflict


def get_parent_shop() -> Shop | None:
    marker = table.get_item(*_PARENT_MARKER)
    return get_shop(marker["shop_id"]) if marker else None

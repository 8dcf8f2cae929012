"""Inventory and locations: reads, inventorySetQuantities (2026-04 semantics) and inventoryActivate."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo, VariableNode

from local.emulator.connections import connection
from local.emulator.context import RequestContext, context_of
from local.emulator.idempotency import KEY_MISMATCH, replay_or_run, required_key
from local.emulator.ids import parse_gid
from local.emulator.resolvers.catalog import search
from local.emulator.resolvers.product_set import UserError, user_error
from local.emulator.search import SearchField
from local.emulator.state import AdjustmentGroup, InventoryChange, InventoryItem, InventoryLevel, Location, Store
from local.emulator.views import (
    View,
    adjustment_group_view,
    inventory_item_view,
    level_view,
    location_view,
)

QUANTITY_LIMIT = 1_000_000_000
MAX_INPUT_ARRAY = 250
# The documented reasons, in the order Shopify lists them in its INVALID_REASON message.
REASONS = (
    "correction",
    "cycle_count_available",
    "damaged",
    "movement_canceled",
    "movement_created",
    "movement_received",
    "movement_updated",
    "other",
    "promotion",
    "quality_control",
    "received",
    "reservation_created",
    "reservation_deleted",
    "reservation_updated",
    "restock",
    "safety_stock",
    "shrinkage",
)
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")

LOCATION_SEARCH: dict[str, SearchField[Location]] = {
    "default": SearchField("text", lambda loc: loc.name),
    "name": SearchField("text", lambda loc: loc.name),
    "id": SearchField("id", lambda loc: loc.id),
    "location_id": SearchField("id", lambda loc: loc.id),
    "active": SearchField("bool", lambda loc: loc.is_active),
    "created_at": SearchField("time", lambda loc: loc.created_at),
}
ITEM_SEARCH: dict[str, SearchField[InventoryItem]] = {
    "id": SearchField("id", lambda item: item.id),
    "sku": SearchField("keyword", lambda item: item.sku),
    "created_at": SearchField("time", lambda item: item.created_at),
    "updated_at": SearchField("time", lambda item: item.updated_at),
}


# ---- reads -------------------------------------------------------------------------------------------


def inventory_item(info: GraphQLResolveInfo, id: str, **_: Any) -> View | None:
    ctx = context_of(info)
    item = ctx.store.inventory_items.get(parse_gid(id, "InventoryItem") or -1)
    return inventory_item_view(ctx, item) if item else None


def inventory_items(info: GraphQLResolveInfo, **args: Any) -> View:
    ctx = context_of(info)
    matching = search(info, args.get("query"), ITEM_SEARCH).filter(ctx.store.inventory_items.values())
    return connection(
        matching,
        args,
        sort_value=lambda item: item.id,
        item_id=lambda item: item.id,
        view=lambda item: inventory_item_view(ctx, item),
        unbounded=ctx.bulk,
    )


def inventory_level(info: GraphQLResolveInfo, id: str, **_: Any) -> View | None:
    ctx = context_of(info)
    level = ctx.store.levels.get(parse_gid(id, "InventoryLevel") or -1)
    return level_view(ctx, level) if level else None


def locations(info: GraphQLResolveInfo, **args: Any) -> View:
    ctx = context_of(info)
    found = [loc for loc in ctx.store.locations.values() if loc.is_active or args.get("includeInactive")]
    found = search(info, args.get("query"), LOCATION_SEARCH).filter(found)
    by_id = args.get("sortKey") == "ID"
    return connection(
        found,
        args,
        sort_value=lambda loc: loc.id if by_id else loc.name.casefold(),
        item_id=lambda loc: loc.id,
        view=lambda loc: location_view(ctx, loc),
        unbounded=ctx.bulk,
    )


def location(info: GraphQLResolveInfo, id: str | None = None, **_: Any) -> View | None:
    ctx = context_of(info)
    if id is None:
        return location_view(ctx, ctx.store.primary_location)
    found = ctx.store.locations.get(parse_gid(id, "Location") or -1)
    return location_view(ctx, found) if found else None


# ---- inventorySetQuantities --------------------------------------------------------------------------


def inventory_set_quantities(info: GraphQLResolveInfo, input: dict[str, Any], **_: Any) -> View:
    ctx = context_of(info)
    key = required_key(info)
    quantities = input.get("quantities") or []
    if len(quantities) > MAX_INPUT_ARRAY:
        raise GraphQLError(
            f"The input array size of {len(quantities)} is greater than the maximum allowed of {MAX_INPUT_ARRAY}.",
            nodes=info.field_nodes,
            extensions={"code": "MAX_INPUT_SIZE_EXCEEDED"},
        )
    if any("changeFromQuantity" not in q for q in quantities):
        # 2026-04: the key is mandatory, an explicit null opts out of the compare-and-set.
        raise GraphQLError(
            "InventoryQuantityInput must include the following argument: changeFromQuantity.",
            nodes=_argument_nodes(info, "input"),
            extensions={"code": "INVALID_FIELD_ARGUMENTS"},
        )
    group_id, errors = replay_or_run(
        ctx.store,
        key,
        "inventorySetQuantities",
        input,
        run=lambda: _set_quantities(ctx.store, input),
        mismatch=lambda: (None, [user_error(None, KEY_MISMATCH, "IDEMPOTENCY_KEY_PARAMETER_MISMATCH")]),
    )
    group = ctx.store.adjustment_groups.get(group_id) if group_id is not None else None
    return {"inventoryAdjustmentGroup": adjustment_group_view(ctx, group) if group else None, "userErrors": errors}


def _set_quantities(store: Store, data: dict[str, Any]) -> tuple[int | None, list[UserError]]:
    name, reason = data["name"], data["reason"]
    errors: list[UserError] = []
    if name not in ("available", "on_hand"):
        errors.append(
            user_error(["input", "name"], "The quantity name must be either 'available' or 'on_hand'.", "INVALID_NAME")
        )
    if reason not in REASONS:
        message = f"The specified reason is invalid. Valid values are: {', '.join(REASONS)}."
        errors.append(user_error(["input", "reason"], message, "INVALID_REASON"))
    reference = data.get("referenceDocumentUri")
    if reference is not None and not _URI.match(reference):
        errors.append(
            user_error(
                ["input", "referenceDocumentUri"],
                "The specified reference document is invalid.",
                "INVALID_REFERENCE_DOCUMENT",
            )
        )
    targets = [_resolve_quantity(store, name, index, q, errors) for index, q in enumerate(data["quantities"])]
    pairs = Counter((q["inventoryItemId"], q["locationId"]) for q in data["quantities"])
    for index, q in enumerate(data["quantities"]):
        if pairs[(q["inventoryItemId"], q["locationId"])] > 1:
            errors.append(
                user_error(
                    ["input", "quantities", index, "locationId"],
                    "The combination of inventoryItemId and locationId must be unique.",
                    "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR",
                )
            )
    if errors:
        return None, errors
    levels: list[InventoryLevel] = []
    for index, ((item, location), q) in enumerate(zip(targets, data["quantities"], strict=True)):
        assert item is not None and location is not None  # unresolved ids were reported above
        level = item.levels.get(location.id)
        path: list[str | int] = ["input", "quantities", index]
        if level is None or not level.is_active:
            errors.append(
                user_error(
                    [*path, "locationId"],
                    "The specified inventory item is not stocked at the location.",
                    "ITEM_NOT_STOCKED_AT_LOCATION",
                )
            )
        elif q["changeFromQuantity"] is not None and q["changeFromQuantity"] != level.quantity(name):
            errors.append(
                user_error(
                    [*path, "changeFromQuantity"],
                    "The changeFromQuantity value does not match persisted value.",
                    "CHANGE_FROM_QUANTITY_STALE",
                )
            )
        if level is not None:
            levels.append(level)
    if errors:
        return None, errors  # all or nothing: one stale quantity rejects the whole call
    return _apply_quantities(store, data, levels), []


def _resolve_quantity(
    store: Store, name: str, index: int, q: dict[str, Any], errors: list[UserError]
) -> tuple[InventoryItem | None, Location | None]:
    path: list[str | int] = ["input", "quantities", index]
    item = store.inventory_items.get(parse_gid(q["inventoryItemId"], "InventoryItem") or -1)
    location = store.locations.get(parse_gid(q["locationId"], "Location") or -1)
    if item is None:
        errors.append(
            user_error(
                [*path, "inventoryItemId"], "The specified inventory item could not be found.", "INVALID_INVENTORY_ITEM"
            )
        )
    if location is None:
        errors.append(
            user_error([*path, "locationId"], "The specified location could not be found.", "INVALID_LOCATION")
        )
    quantity = q["quantity"]
    if name == "on_hand" and quantity < 0:
        errors.append(user_error([*path, "quantity"], "The quantity can't be negative.", "INVALID_QUANTITY_NEGATIVE"))
    elif quantity > QUANTITY_LIMIT:
        errors.append(
            user_error(
                [*path, "quantity"], "The quantity can't be higher than 1,000,000,000.", "INVALID_QUANTITY_TOO_HIGH"
            )
        )
    elif quantity < -QUANTITY_LIMIT:
        errors.append(
            user_error(
                [*path, "quantity"], "The quantity can't be lower than -1,000,000,000.", "INVALID_QUANTITY_TOO_LOW"
            )
        )
    return item, location


def _apply_quantities(store: Store, data: dict[str, Any], levels: list[InventoryLevel]) -> int | None:
    now = store.now()
    changes: list[InventoryChange] = []
    for level, q in zip(levels, data["quantities"], strict=True):
        for changed, delta in level.set_quantity(data["name"], q["quantity"], now).items():
            # Shopify 2026-04 answers quantityAfterChange: null for set mutations (see the recordings).
            changes.append(InventoryChange(changed, delta, None, level.item_id, level.location_id))
    if not changes:
        return None  # nothing moved: Shopify returns no adjustment group and no error
    group = AdjustmentGroup(store.new_id(), now, data["reason"], data.get("referenceDocumentUri"), changes)
    store.adjustment_groups[group.id] = group
    return group.id


def _argument_nodes(info: GraphQLResolveInfo, argument: str) -> list[Any]:
    """The field and, when the argument is a variable, its definition (where Shopify points its error)."""
    field_node = info.field_nodes[0]
    nodes: list[Any] = [field_node]
    value = next((a.value for a in field_node.arguments or () if a.name.value == argument), None)
    if isinstance(value, VariableNode):
        definitions = info.operation.variable_definitions or ()
        nodes.extend(d for d in definitions if d.variable.name.value == value.name.value)
    return nodes


# ---- inventoryActivate -------------------------------------------------------------------------------


def inventory_activate(
    info: GraphQLResolveInfo,
    inventoryItemId: str,
    locationId: str,
    available: int | None = None,
    onHand: int | None = None,
    **_: Any,
) -> View:
    ctx = context_of(info)
    key = required_key(info)
    arguments = {"inventoryItemId": inventoryItemId, "locationId": locationId, "available": available, "onHand": onHand}
    level_id, errors = replay_or_run(
        ctx.store,
        key,
        "inventoryActivate",
        arguments,
        run=lambda: _activate(ctx, inventoryItemId, locationId, available, onHand),
        mismatch=lambda: (None, [user_error(None, KEY_MISMATCH, "IDEMPOTENCY_KEY_PARAMETER_MISMATCH")]),
    )
    level = ctx.store.levels.get(level_id) if level_id is not None else None
    return {"inventoryLevel": level_view(ctx, level) if level else None, "userErrors": errors}


def _activate(
    ctx: RequestContext, item_gid: str, location_gid: str, available: int | None, on_hand: int | None
) -> tuple[int | None, list[UserError]]:
    store = ctx.store
    item = store.inventory_items.get(parse_gid(item_gid, "InventoryItem") or -1)
    location = store.locations.get(parse_gid(location_gid, "Location") or -1)
    errors: list[UserError] = []
    if item is None:
        errors.append(user_error(["inventoryItemId"], "The specified inventory item could not be found.", "NOT_FOUND"))
    if location is None:
        errors.append(user_error(["locationId"], "The specified location could not be found.", "NOT_FOUND"))
    if item is None or location is None:
        return None, errors
    prefix = f"The product couldn't be stocked at {location.name} because"
    if available is not None and on_hand is not None:
        message = f"{prefix} not allowed to set available and on_hand quantities at the same time."
        return None, [user_error(["available"], message, "INVALID"), user_error(["onHand"], message, "INVALID")]
    for argument, value in (("available", available), ("onHand", on_hand)):
        if value is not None and abs(value) > QUANTITY_LIMIT:
            message = f"{prefix} the quantity needs to be between -1 billion and 1 billion."
            return None, [user_error([argument], message, "INVALID")]
    level = item.levels.get(location.id)
    if level is not None and level.is_active:
        for argument, value, label in (("available", available, "an available"), ("onHand", on_hand, "an on_hand")):
            if value is not None:
                message = f"Not allowed to set {label} quantity when the item is already active at the location."
                return level.id, [user_error([argument], message, "INVALID")]
        return level.id, []
    level = store.activate(item, location)
    if available is not None:
        level.set_quantity("available", available, store.now())
    elif on_hand is not None:
        level.set_quantity("on_hand", on_hand, store.now())
    return level.id, []


def resolve_node(ctx: RequestContext, kind: str, number: int) -> View | None:
    store = ctx.store
    if kind == "InventoryItem" and number in store.inventory_items:
        return inventory_item_view(ctx, store.inventory_items[number])
    if kind == "InventoryLevel" and number in store.levels:
        return level_view(ctx, store.levels[number])
    if kind == "Location" and number in store.locations:
        return location_view(ctx, store.locations[number])
    if kind == "InventoryAdjustmentGroup" and number in store.adjustment_groups:
        return adjustment_group_view(ctx, store.adjustment_groups[number])
    return None

"""The PO units each pre-order line holds.

Item: PK=ORDER#<shop>#<order legacy id>  SK=ALLOC#<line legacy id>  product, allocations, unallocated, revision.

A change is one transaction: the allocation record (created only if absent, else only at the revision read), every
PO item it touches (`allocated` set only if it is still the value read; a take also needs the item still open with
the quantity read), the ordering store's hold (only if still as read) and the product's refresh marker. A duplicate
webhook or a concurrent re-import therefore cannot allocate twice: it loses the transaction, re-reads, and finds
nothing left to do. The PO item writes reach the
pre-order sync through the stream (the item lives in the product's partition); the marker makes the catalog refresh
re-decide the product's membership.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from shopsync.catalog.identifiers import legacy_id
from shopsync.models.listing import StoreHold
from shopsync.models.orders import LineAllocation
from shopsync.models.presell import POItemRef, POItemStatus, PurchaseOrderItem
from shopsync.store import table
from shopsync.store.listings import hold_item
from shopsync.store.orders import order_pk
from shopsync.store.presell import po_item_key, refresh_marker_put

_PREFIX = "ALLOC#"


class HeldAllocation(BaseModel):
    line_id: str
    product_id: str
    allocations: tuple[LineAllocation, ...] = ()
    unallocated: int = 0
    revision: int = Field(default=0, ge=0)

    @property
    def units(self) -> int:
        return sum(allocation.quantity for allocation in self.allocations)


def held_allocations(shop_id: str, order_legacy_id: str) -> dict[str, HeldAllocation]:
    """The allocation records of one order, by Shopify line id."""
    items = table.query_partition(order_pk(shop_id, order_legacy_id), _PREFIX)
    return {str(item["line_id"]): HeldAllocation.model_validate(item) for item in items}


@dataclass(frozen=True)
class HoldChange:
    """The ordering store's hold as read, and what the allocation makes it."""

    seen: StoreHold | None
    updated: StoreHold


def _hold_put(product_id: str, shop_id: str, change: HoldChange) -> dict[str, Any]:
    put: dict[str, Any] = {"Item": hold_item(product_id, shop_id, change.updated)}
    if change.seen is None:
        put["ConditionExpression"] = "attribute_not_exists(PK)"
    else:
        put["ConditionExpression"] = "units = :units AND listed_since = :since"
        seen = change.seen.model_dump(mode="json")  # compared as stored
        put["ExpressionAttributeValues"] = {":units": seen["units"], ":since": seen["listed_since"]}
    return {"Put": put}


def _po_item_update(product_id: str, item: PurchaseOrderItem, delta: int) -> dict[str, Any]:
    pk, sk = po_item_key(product_id, item.ref)
    condition = "allocated = :seen"
    names: dict[str, str] = {}
    values: dict[str, Any] = {":seen": item.allocated, ":new": item.allocated + delta}
    if delta > 0:
        condition += " AND #status IN (:created, :approved) AND #quantity = :quantity"
        names = {"#status": "status", "#quantity": "quantity"}
        values |= {
            ":created": POItemStatus.CREATED.value,
            ":approved": POItemStatus.APPROVED.value,
            ":quantity": item.quantity,
        }
    update: dict[str, Any] = {
        "Key": {"PK": pk, "SK": sk},
        "UpdateExpression": "SET allocated = :new",
        "ConditionExpression": condition,
        "ExpressionAttributeValues": values,
    }
    if names:
        update["ExpressionAttributeNames"] = names
    return {"Update": update}


def save_allocation(
    shop_id: str,
    order_legacy_id: str,
    *,
    previous: HeldAllocation | None,
    updated: HeldAllocation,
    deltas: Mapping[POItemRef, int],
    po_items: Mapping[POItemRef, PurchaseOrderItem],
    hold: HoldChange | None,
    now: datetime,
) -> None:
    """Raises table.TransactionConflict when the record or a PO item changed since it was read."""
    record: dict[str, Any] = {
        "Item": {
            "PK": order_pk(shop_id, order_legacy_id),
            "SK": f"{_PREFIX}{legacy_id(updated.line_id)}",
            "type": "ORDER_ALLOCATION",
            **updated.model_copy(update={"revision": (previous.revision + 1) if previous else 1}).model_dump(
                mode="json"
            ),
            "updated_at": now.isoformat(),
        }
    }
    if previous is None:
        record["ConditionExpression"] = "attribute_not_exists(PK)"
    else:
        record["ConditionExpression"] = "revision = :revision"
        record["ExpressionAttributeValues"] = {":revision": previous.revision}
    operations = [{"Put": record}]
    operations += [_po_item_update(updated.product_id, po_items[ref], delta) for ref, delta in deltas.items() if delta]
    if hold is not None:
        operations.append(_hold_put(updated.product_id, shop_id, hold))
    if deltas:
        operations.append(refresh_marker_put(updated.product_id, uuid.uuid4().hex, now))
    table.transact_write(operations)

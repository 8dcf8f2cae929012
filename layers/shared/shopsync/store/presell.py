"""Purchase-order items, inventory, pre-sell membership and the "refresh needed" markers.

Items:
- PO line lookup   PK=PO#<external id>          SK=ITEM#<item id>             product_id + content hash, so an
                   upload finds what it stored before by (external id, item id); GSI1PK=PO-PRODUCTS#<shard>
                   GSI1SK=<product id>#… lists every product with PO items for the nightly full refresh
- PO item          PK=PRODUCT#<id>              SK=POITEM#<external id>#<item id>   the full line + `allocated`
- inventory        PK=PRODUCT#<id>              SK=INVENTORY
- membership       PK=PRODUCT#<id>              SK=MEMBERSHIP    GSI1PK=PRESELL-MEMBERS GSI1SK=<promise date>#<id>
                   (members only: the index is sparse, so "members whose promise date passed" is one query)
- refresh marker   PK=REFRESH#<shard>           SK=PRODUCT#<id>   mark_id; a few shards so heavy uploads do not
                   pile onto one partition, few enough that reading them all stays a handful of requests

Everything about one product lives in its partition, so the refresh reads a product with one query. A PO line or
inventory change and its refresh marker are written in one transaction: there is no stored change without a
marker, and no half-written row.
"""

from __future__ import annotations

import hashlib
import uuid
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from shopsync.models.catalog import CatalogProduct
from shopsync.models.presell import InventoryLevel, Membership, POItemRef, PurchaseOrderItem, PurchaseOrderLine
from shopsync.store import table

REFRESH_SHARDS = 8
MEMBERS_INDEX_PK = "PRESELL-MEMBERS"
_MAX_KEY_PART = 200


def _key_part(value: str) -> str:
    """A value safe inside a key: '#' escaped so parts never run together; very long values digested ("%%" never
    appears in quoted text, so a digest cannot equal a quoted value)."""
    quoted = quote(value, safe="")
    return quoted if len(quoted) <= _MAX_KEY_PART else "%%" + hashlib.sha256(value.encode()).hexdigest()[:40]


def _shard(product_id: str) -> int:
    return zlib.crc32(product_id.encode()) % REFRESH_SHARDS


def _product_pk(product_id: str) -> str:
    return f"PRODUCT#{product_id}"


def _line_lookup_key(external_id: str, item_id: str) -> tuple[str, str]:
    return f"PO#{_key_part(external_id)}", f"ITEM#{_key_part(item_id)}"


def _po_item_key(product_id: str, external_id: str, item_id: str) -> tuple[str, str]:
    return _product_pk(product_id), f"POITEM#{_key_part(external_id)}#{_key_part(item_id)}"


def _inventory_key(product_id: str) -> tuple[str, str]:
    return _product_pk(product_id), "INVENTORY"


def _membership_key(product_id: str) -> tuple[str, str]:
    return _product_pk(product_id), "MEMBERSHIP"


def refresh_marker_key(product_id: str) -> tuple[str, str]:
    return f"REFRESH#{_shard(product_id)}", f"PRODUCT#{product_id}"


# ---------------------------------------------------------------- atomic row writes


@dataclass
class RowWrite:
    """The writes of one upload row; `marks` are the products whose pre-sell state it may change."""

    row: int
    operations: list[dict[str, Any]]
    marks: set[str]


@dataclass
class _Group:
    rows: list[RowWrite] = field(default_factory=list)
    marks: set[str] = field(default_factory=set)

    def size_with(self, write: RowWrite) -> int:
        return sum(len(row.operations) for row in self.rows) + len(self.marks | write.marks) + len(write.operations)


def refresh_marker_put(product_id: str, mark_id: str, now: datetime) -> dict[str, Any]:
    """The transaction Put of a product's "refresh needed" marker, for writers outside this module (order import)."""
    pk, sk = refresh_marker_key(product_id)
    item = {"PK": pk, "SK": sk, "type": "REFRESH_MARKER", "product_id": product_id, "mark_id": mark_id}
    return {"Put": {"Item": {**item, "marked_at": now.isoformat()}}}


def _commit(rows: list[RowWrite], now: datetime) -> None:
    mark_id = uuid.uuid4().hex
    marks = sorted(set().union(*(row.marks for row in rows)))
    operations = [operation for row in rows for operation in row.operations]
    table.transact_write(operations + [refresh_marker_put(product_id, mark_id, now) for product_id in marks])


def _commit_group(rows: list[RowWrite], now: datetime) -> list[int]:
    """One transaction for the group; if it is cancelled (a concurrent write), each row alone. Returns the rows that
    could not be stored."""
    try:
        _commit(rows, now)
        return []
    except table.TransactionConflict:
        if len(rows) == 1:
            return [rows[0].row]
    failed: list[int] = []
    for row in rows:
        failed += _commit_group([row], now)
    return failed


def write_rows(writes: Iterable[RowWrite], now: datetime) -> list[int]:
    """Store rows with their refresh markers, many rows per transaction (each row whole or not at all)."""
    failed: list[int] = []
    group = _Group()
    for write in writes:
        if group.rows and group.size_with(write) > table.TRANSACTION_LIMIT:
            failed += _commit_group(group.rows, now)
            group = _Group()
        group.rows.append(write)
        group.marks |= write.marks
    if group.rows:
        failed += _commit_group(group.rows, now)
    return failed


# ---------------------------------------------------------------- purchase orders


@dataclass(frozen=True)
class StoredLine:
    product_id: str
    content_hash: str


def stored_lines(keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], StoredLine]:
    """What was stored before for each (external id, item id)."""
    found = table.batch_get(_line_lookup_key(external_id, item_id) for external_id, item_id in keys)
    return {
        (item["external_id"], item["item_id"]): StoredLine(item["product_id"], item["content_hash"])
        for item in found.values()
    }


def _update_setting(values: dict[str, Any], initial: dict[str, Any]) -> dict[str, Any]:
    """An Update that sets `values`, and `initial` only where the item has no value yet (attributes other jobs
    own, e.g. `allocated`)."""
    names: dict[str, str] = {}
    expression_values: dict[str, Any] = {}
    assignments: list[str] = []
    for index, (name, value) in enumerate([*values.items(), *initial.items()]):
        names[f"#f{index}"] = name
        expression_values[f":f{index}"] = value
        keep = name in initial
        assignments.append(f"#f{index} = if_not_exists(#f{index}, :f{index})" if keep else f"#f{index} = :f{index}")
    return {
        "UpdateExpression": "SET " + ", ".join(assignments),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": expression_values,
    }


def po_line_write(row: int, line: PurchaseOrderLine, previous: StoredLine | None, now: datetime) -> RowWrite:
    """Upsert one PO line: the product's PO item (keeping `allocated`, which order import owns) and the lookup.
    A line whose SKU now names another product moves: the old product's item goes, and both products are marked."""
    digest = line.content_hash()
    lookup_pk, lookup_sk = _line_lookup_key(line.external_id, line.item_id)
    item_pk, item_sk = _po_item_key(line.product_id, line.external_id, line.item_id)
    lookup = {
        "PK": lookup_pk,
        "SK": lookup_sk,
        "type": "PO_LINE",
        "external_id": line.external_id,
        "item_id": line.item_id,
        "product_id": line.product_id,
        "content_hash": digest,
        "updated_at": now.isoformat(),
        "GSI1PK": f"PO-PRODUCTS#{_shard(line.product_id)}",
        "GSI1SK": f"{line.product_id}#{item_sk}",
    }
    fields = {"type": "PO_ITEM", **line.model_dump(mode="json"), "content_hash": digest, "updated_at": now.isoformat()}
    operations: list[dict[str, Any]] = [
        {"Put": {"Item": lookup}},
        {"Update": {"Key": {"PK": item_pk, "SK": item_sk}, **_update_setting(fields, {"allocated": 0})}},
    ]
    marks = {line.product_id}
    if previous is not None and previous.product_id != line.product_id:
        old_pk, old_sk = _po_item_key(previous.product_id, line.external_id, line.item_id)
        operations.append({"Delete": {"Key": {"PK": old_pk, "SK": old_sk}}})
        marks.add(previous.product_id)
    return RowWrite(row=row, operations=operations, marks=marks)


def po_item_key(product_id: str, ref: POItemRef) -> tuple[str, str]:
    return _po_item_key(product_id, ref.external_id, ref.item_id)


def products_with_po_items() -> set[str]:
    product_ids: set[str] = set()
    for shard in range(REFRESH_SHARDS):
        for item in table.query("GSI1PK = :pk", {":pk": f"PO-PRODUCTS#{shard}"}, index="GSI1"):
            product_ids.add(str(item["product_id"]))
    return product_ids


# ---------------------------------------------------------------- inventory


def inventory_levels(product_ids: Iterable[str]) -> dict[str, InventoryLevel]:
    found = table.batch_get(_inventory_key(product_id) for product_id in product_ids)
    return {item["product_id"]: InventoryLevel.model_validate(item) for item in found.values()}


def inventory_write(row: int, level: InventoryLevel) -> RowWrite:
    pk, sk = _inventory_key(level.product_id)
    item = {"PK": pk, "SK": sk, "type": "INVENTORY", **level.model_dump(mode="json")}
    return RowWrite(row=row, operations=[{"Put": {"Item": item}}], marks={level.product_id})


def existing_products(product_ids: Iterable[str]) -> set[str]:
    found = table.batch_get((_product_pk(product_id), "DETAIL") for product_id in product_ids)
    return {str(item["product_id"]) for item in found.values()}


# ---------------------------------------------------------------- refresh


def refresh_markers() -> dict[str, str]:
    """Products waiting for a refresh → the mark id to clear once they are refreshed."""
    marks: dict[str, str] = {}
    for shard in range(REFRESH_SHARDS):
        for item in table.query_partition(f"REFRESH#{shard}"):
            marks[str(item["product_id"])] = str(item["mark_id"])
    return marks


def clear_refresh_marker(product_id: str, mark_id: str) -> None:
    """Remove the marker unless a newer change re-marked the product while it was being refreshed."""
    try:
        table.delete_item(*refresh_marker_key(product_id), condition="mark_id = :mark", values={":mark": mark_id})
    except table.ConditionFailed:
        pass  # re-marked (or already cleared): the next run looks again


def members_with_promise_before(day: date) -> set[str]:
    """Members whose promise date is before `day`: their active PO arrived, so they must be re-decided."""
    items = table.query(
        "GSI1PK = :pk AND GSI1SK < :day", {":pk": MEMBERS_INDEX_PK, ":day": day.isoformat()}, index="GSI1"
    )
    return {str(item["product_id"]) for item in items}


def all_members() -> set[str]:
    return {str(item["product_id"]) for item in table.query("GSI1PK = :pk", {":pk": MEMBERS_INDEX_PK}, index="GSI1")}


@dataclass(frozen=True)
class ProductPresellState:
    """Everything stored under one product that the pre-sell rules and the audit look at."""

    product_id: str
    product: CatalogProduct | None
    po_items: list[PurchaseOrderItem]
    inventory: InventoryLevel | None
    membership: Membership | None


def product_state(product_id: str) -> ProductPresellState:
    """One query: the product partition holds the product, its PO items, inventory and membership."""
    return product_state_from_items(product_id, table.query_partition(_product_pk(product_id)))


def product_state_from_items(product_id: str, items: Iterable[table.Item]) -> ProductPresellState:
    """The pre-sell view of a product partition already read (other readers use its other items too)."""
    product: CatalogProduct | None = None
    inventory: InventoryLevel | None = None
    membership: Membership | None = None
    po_items: list[PurchaseOrderItem] = []
    for item in items:
        sk = item["SK"]
        if sk == "DETAIL":
            product = CatalogProduct.model_validate(item)
        elif sk.startswith("POITEM#"):
            po_items.append(PurchaseOrderItem.model_validate(item))
        elif sk == "INVENTORY":
            inventory = InventoryLevel.model_validate(item)
        elif sk == "MEMBERSHIP":
            membership = Membership.model_validate(item)
    po_items.sort(key=lambda po_item: (po_item.arrival_date, po_item.external_id, po_item.item_id))
    return ProductPresellState(product_id, product, po_items, inventory, membership)


def memberships(product_ids: Iterable[str]) -> dict[str, Membership]:
    """Stored memberships by product (current and removed ones; products never decided are absent)."""
    found = table.batch_get(_membership_key(product_id) for product_id in product_ids)
    return {str(item["product_id"]): Membership.model_validate(item) for item in found.values()}


def _membership_item(membership: Membership) -> table.Item:
    pk, sk = _membership_key(membership.product_id)
    item: table.Item = {"PK": pk, "SK": sk, "type": "MEMBERSHIP", **membership.model_dump(mode="json")}
    if membership.is_member and membership.promise_date is not None:
        item |= {"GSI1PK": MEMBERS_INDEX_PK, "GSI1SK": f"{membership.promise_date.isoformat()}#{membership.product_id}"}
    return item


def save_memberships(memberships: Iterable[Membership]) -> int:
    """Unconditional puts (the caller writes only changed memberships); returns the request count."""
    return table.batch_write(puts=[_membership_item(membership) for membership in memberships])

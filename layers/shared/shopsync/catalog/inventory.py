"""Inventory upload: on hand and online ATP per product, which pre-sell eligibility needs (online ATP ≤ 0).

Rows: {"sku": ...} or {"product_id": ...} (both: they must name the same product), "on_hand", "online_atp".
A level equal to the stored one writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shopsync.catalog.identifiers import normalize_sku
from shopsync.catalog.uploads import (
    RowRejected,
    check_size,
    json_rows,
    product_for_sku,
    resolve_skus,
    store_rows,
    text_value,
    whole_number,
)
from shopsync.models.presell import InventoryLevel, RejectedRow, UploadResult
from shopsync.observability import logger
from shopsync.store import presell as presell_store


@dataclass(frozen=True)
class _InventoryRow:
    row: int
    sku: str | None
    product_id: str | None
    on_hand: int
    online_atp: int


def _read_row(row: int, raw: Any) -> _InventoryRow:
    if not isinstance(raw, dict):
        raise RowRejected("the row is not a JSON object")
    sku = text_value(raw.get("sku"), "sku")
    product_id = text_value(raw.get("product_id"), "product_id")
    if sku is None and product_id is None:
        raise RowRejected("give sku or product_id")
    for name in ("on_hand", "online_atp"):
        if raw.get(name) is None:
            raise RowRejected(f"{name} is missing")
    return _InventoryRow(
        row=row,
        sku=sku,
        product_id=product_id,
        on_hand=whole_number(raw["on_hand"], "on_hand"),
        online_atp=whole_number(raw["online_atp"], "online_atp"),
    )


def _product_of(row: _InventoryRow, products_by_sku: dict[str, list[str]], known: set[str]) -> str:
    if row.sku is None:
        if row.product_id not in known:
            raise RowRejected(f"product {row.product_id} is not in the catalog")
        return str(row.product_id)
    product_id = product_for_sku(row.sku, products_by_sku)
    if row.product_id is not None and row.product_id != product_id:
        raise RowRejected(f"SKU '{row.sku}' is product {product_id}, not {row.product_id}")
    return product_id


def import_inventory(text: str, now: datetime) -> UploadResult:
    check_size(text)
    raw_rows = json_rows(text.removeprefix("\ufeff"), "items")
    result = UploadResult(received=len(raw_rows))
    rows: list[_InventoryRow] = []
    for index, raw in enumerate(raw_rows, start=1):
        try:
            rows.append(_read_row(index, raw))
        except RowRejected as rejected:
            result.rejected.append(RejectedRow(row=index, reason=str(rejected)))
    products_by_sku = resolve_skus({str(normalize_sku(row.sku)) for row in rows if row.sku})
    known = presell_store.existing_products({row.product_id for row in rows if row.product_id and not row.sku})
    levels: dict[str, tuple[int, InventoryLevel]] = {}
    for row in rows:
        try:
            product_id = _product_of(row, products_by_sku, known)
        except RowRejected as rejected:
            result.rejected.append(RejectedRow(row=row.row, reason=str(rejected)))
            continue
        if product_id in levels:
            first = levels[product_id][0]
            result.rejected.append(RejectedRow(row=row.row, reason=f"duplicate of row {first} (same product)"))
            continue
        level = InventoryLevel(product_id=product_id, on_hand=row.on_hand, online_atp=row.online_atp, updated_at=now)
        levels[product_id] = (row.row, level)
    stored = presell_store.inventory_levels(levels)
    writes = []
    new_rows: set[int] = set()
    for product_id, (row_number, level) in levels.items():
        previous = stored.get(product_id)
        if previous is not None and (previous.on_hand, previous.online_atp) == (level.on_hand, level.online_atp):
            result.unchanged += 1
            continue
        writes.append(presell_store.inventory_write(row_number, level))
        if previous is None:
            new_rows.add(row_number)
    store_rows(writes, new_rows, result, now)
    logger.info("inventory imported", extra={"upload": result.model_dump(exclude={"rejected"})})
    return result

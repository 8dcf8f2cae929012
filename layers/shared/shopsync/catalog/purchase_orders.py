"""Purchase-order import: read the upload, resolve SKUs to catalog products, upsert by (external id, item id).

A row identical to what is stored writes nothing (so an unchanged re-upload triggers no refresh); a changed row —
quantity, arrival date, status (cancel, complete), flag, facility, SKU — is an update.
"""

from __future__ import annotations

from datetime import datetime

from shopsync.catalog.identifiers import normalize_sku
from shopsync.catalog.po_upload import UploadLine, UploadOptions, parse_upload
from shopsync.catalog.uploads import RowRejected, product_for_sku, resolve_skus, store_rows
from shopsync.models.presell import PurchaseOrderLine, PurchaseOrderUploadResult, RejectedRow
from shopsync.observability import logger
from shopsync.store import presell as presell_store


def _po_line(line: UploadLine, product_id: str) -> PurchaseOrderLine:
    return PurchaseOrderLine(
        external_id=line.external_id,
        item_id=line.item_id,
        product_id=product_id,
        sku=line.sku,
        quantity=line.quantity,
        arrival_date=line.arrival_date,
        facility_id=line.facility_id,
        is_new_product=line.is_new_product,
        status=line.status,
    )


def import_purchase_orders(
    text: str, content_type: str | None, options: UploadOptions, now: datetime
) -> PurchaseOrderUploadResult:
    parsed = parse_upload(text, content_type, options)
    result = PurchaseOrderUploadResult(
        format=parsed.format, mapping=parsed.mapping, received=parsed.received, rejected=parsed.rejected
    )
    products_by_sku = resolve_skus({str(normalize_sku(line.sku)) for line in parsed.lines})
    stored = presell_store.stored_lines((line.external_id, line.item_id) for line in parsed.lines)
    writes: list[presell_store.RowWrite] = []
    new_rows: set[int] = set()
    for line in parsed.lines:
        try:
            po_line = _po_line(line, product_for_sku(line.sku, products_by_sku))
        except RowRejected as rejected:
            result.rejected.append(RejectedRow(row=line.row, reason=str(rejected)))
            continue
        previous = stored.get((line.external_id, line.item_id))
        if previous is not None and previous.content_hash == po_line.content_hash():
            result.unchanged += 1
            continue
        writes.append(presell_store.po_line_write(line.row, po_line, previous, now))
        if previous is None:
            new_rows.add(line.row)
    store_rows(writes, new_rows, result, now)
    logger.info("purchase orders imported", extra={"upload": result.model_dump(exclude={"rejected"})})
    return result

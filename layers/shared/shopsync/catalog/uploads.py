"""What every upload (purchase orders, inventory) shares: size limits, whole-body refusals and row-level values.

A body is refused as a whole (4xx, nothing stored) only when it cannot be read at all: too large, not CSV/JSON, no
header. Anything wrong inside one row rejects that row alone, with a reason; `RowRejected` carries it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from shopsync.catalog.identifiers import normalize_sku
from shopsync.errors import InvalidRequest, ShopsyncError
from shopsync.models.presell import RejectedRow, UploadResult
from shopsync.models.shop import IdentifierType
from shopsync.store import catalog as catalog_store
from shopsync.store import presell as presell_store

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_UPLOAD_ROWS = 50_000
# SKU look-ups are one query each; a few in parallel keep a large file inside the API's time limit.
SKU_LOOKUP_THREADS = 8
NOT_STORED = "the row could not be stored (a concurrent change to the same items); upload it again"


class UploadTooLarge(ShopsyncError):
    status_code = 413


class UnsupportedUpload(ShopsyncError):
    status_code = 415


class RowRejected(ValueError):
    """One row is unusable; the message is the reason reported for it."""


def check_size(text: str) -> None:
    size = len(text.encode("utf-8", errors="surrogatepass"))
    if size > MAX_UPLOAD_BYTES:
        raise UploadTooLarge(f"the upload is {size} bytes; the limit is {MAX_UPLOAD_BYTES}", limit=MAX_UPLOAD_BYTES)


def check_row_count(count: int) -> None:
    if count > MAX_UPLOAD_ROWS:
        raise UploadTooLarge(f"the upload has {count} rows; the limit is {MAX_UPLOAD_ROWS}", limit=MAX_UPLOAD_ROWS)


def json_rows(text: str, list_key: str) -> list[Any]:
    """The rows of a JSON upload: a list, or an object holding the list under `list_key`."""
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as error:
        raise InvalidRequest(f"the body is not valid JSON: {error}") from error
    rows = document.get(list_key) if isinstance(document, dict) else document
    if not isinstance(rows, list):
        raise InvalidRequest(f"the JSON body must be a list of rows or an object with a '{list_key}' list")
    if not rows:
        raise InvalidRequest("the upload has no rows")
    check_row_count(len(rows))
    return rows


MAX_TEXT_LENGTH = 256


def text_value(raw: Any, name: str, max_length: int = MAX_TEXT_LENGTH) -> str | None:
    """A cell or JSON value as trimmed text; blank is None. Numbers are accepted as text (ERPs send ids as numbers)."""
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise RowRejected(f"{name} must be text, got {type(raw).__name__}")
    text = str(raw).strip()
    if len(text) > max_length:
        raise RowRejected(f"{name} is longer than {max_length} characters")
    return text or None


def required_text(raw: Any, name: str, max_length: int = MAX_TEXT_LENGTH) -> str:
    text = text_value(raw, name, max_length)
    if text is None:
        raise RowRejected(f"{name} is missing")
    return text


MAX_WHOLE_NUMBER = 10**12


def whole_number(raw: Any, name: str) -> int:
    """An integer written as an integer: '12', 12 or 12.0; never '12.5', '1e3', '1,000' or a boolean."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        number = raw
    elif isinstance(raw, float) and raw.is_integer():
        number = int(raw)
    else:
        text = required_text(raw, name)
        digits = text[1:] if text[:1] in "+-" else text
        if not (digits.isascii() and digits.isdigit()):
            raise RowRejected(f"{name} '{text}' is not a whole number")
        if len(digits.lstrip("0")) > 15:  # int() of a huge string is slow; no real quantity is that long
            raise RowRejected(f"{name} '{text[:20]}…' is out of range")
        number = int(text)
    if abs(number) > MAX_WHOLE_NUMBER:
        raise RowRejected(f"{name} {number} is out of range")
    return number


def resolve_skus(skus: set[str]) -> dict[str, list[str]]:
    """Normalised SKU → the catalog products that carry it (empty: unknown; several: ambiguous)."""
    ordered = sorted(skus)
    with ThreadPoolExecutor(max_workers=SKU_LOOKUP_THREADS) as pool:
        found = pool.map(lambda sku: catalog_store.product_ids_by_identifier(IdentifierType.SKU, sku), ordered)
        return dict(zip(ordered, found, strict=True))


def product_for_sku(sku: str, products_by_sku: dict[str, list[str]]) -> str:
    product_ids = products_by_sku.get(str(normalize_sku(sku)), [])
    if not product_ids:
        raise RowRejected(f"SKU '{sku}' is not in the catalog")
    if len(product_ids) > 1:
        raise RowRejected(f"SKU '{sku}' belongs to several catalog products ({', '.join(sorted(product_ids))})")
    return product_ids[0]


def store_rows(
    writes: Sequence[presell_store.RowWrite], new_rows: set[int], result: UploadResult, now: datetime
) -> None:
    """Write the changed rows and count them; a row that could not be written is reported as rejected."""
    failed = set(presell_store.write_rows(writes, now))
    result.rejected += [RejectedRow(row=row, reason=NOT_STORED) for row in sorted(failed)]
    stored_rows = {write.row for write in writes} - failed
    result.created = len(stored_rows & new_rows)
    result.updated = len(stored_rows - new_rows)
    result.rejected.sort(key=lambda rejected: rejected.row)

"""Purchase-order uploads read into validated lines: CSV through a named column mapping, or ERP JSON. Pure.

Header names and JSON keys are compared after dropping everything but letters and digits, lower-cased, so
"Order ID", "order_id" and "orderId" are one column. Mappings:
- `hotwax`: the HotWax Import app fields: order id, product SKU, arrival date, ordered quantity, facility id, and
  optionally isNewProduct (blank = N, HotWax's default) and status. A HotWax file has no line id: the line is
  identified by (order id, normalised SKU), so the same SKU twice in one order is a duplicate row.
- `netsuite`: the NetSuite export header `external-id,product-sku,quantity,external-facility-id,item-external-id,
  arrival-date` (+ optional isNewProduct, status).
- `json`: ERP items {externalId, itemId, sku, quantity, arrivalDate (ISO), facilityId, isNewProduct, status}.
Without `mapping=`, a CSV picks the one mapping whose required columns its header has.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shopsync.catalog.identifiers import normalize_sku
from shopsync.catalog.uploads import (
    RowRejected,
    UnsupportedUpload,
    check_row_count,
    check_size,
    json_rows,
    required_text,
    text_value,
    whole_number,
)
from shopsync.errors import InvalidRequest
from shopsync.models.presell import POItemStatus, RejectedRow

CSV_DELIMITERS = (",", ";", "\t")
MAX_ID_LENGTH = 64  # ids end up in table keys


class UploadField(StrEnum):
    EXTERNAL_ID = "external id"
    ITEM_ID = "item id"
    SKU = "SKU"
    QUANTITY = "quantity"
    ARRIVAL_DATE = "arrival date"
    FACILITY_ID = "facility id"
    IS_NEW_PRODUCT = "isNewProduct"
    STATUS = "status"


@dataclass(frozen=True)
class FieldMapping:
    name: str
    columns: Mapping[UploadField, tuple[str, ...]]
    """Accepted (normalised) column names per field."""
    required: frozenset[UploadField]
    date_format: str
    """Default arrival-date format, in the notation merchants know (MM/dd/yyyy)."""

    def missing(self, header: Iterable[str]) -> list[str]:
        present = set(header)
        return [self.columns[f][0] for f in sorted(self.required) if not present.intersection(self.columns[f])]


_OPTIONAL = {UploadField.IS_NEW_PRODUCT: ("isnewproduct", "isnewstyle"), UploadField.STATUS: ("status",)}
MAPPINGS: dict[str, FieldMapping] = {
    "hotwax": FieldMapping(
        name="hotwax",
        columns={
            UploadField.EXTERNAL_ID: ("orderid",),
            UploadField.SKU: ("productsku", "shopifyproductsku"),
            UploadField.ARRIVAL_DATE: ("arrivaldate",),
            UploadField.QUANTITY: ("orderedquantity",),
            UploadField.FACILITY_ID: ("facilityid",),
            **_OPTIONAL,
        },
        required=frozenset(
            {UploadField.EXTERNAL_ID, UploadField.SKU, UploadField.ARRIVAL_DATE, UploadField.QUANTITY}
            | {UploadField.FACILITY_ID}
        ),
        date_format="MM/dd/yyyy",
    ),
    "netsuite": FieldMapping(
        name="netsuite",
        columns={
            UploadField.EXTERNAL_ID: ("externalid",),
            UploadField.SKU: ("productsku",),
            UploadField.QUANTITY: ("quantity",),
            UploadField.FACILITY_ID: ("externalfacilityid",),
            UploadField.ITEM_ID: ("itemexternalid",),
            UploadField.ARRIVAL_DATE: ("arrivaldate",),
            **_OPTIONAL,
        },
        required=frozenset(
            {UploadField.EXTERNAL_ID, UploadField.SKU, UploadField.QUANTITY, UploadField.FACILITY_ID}
            | {UploadField.ITEM_ID, UploadField.ARRIVAL_DATE}
        ),
        date_format="yyyy-MM-dd",
    ),
}
JSON_MAPPING = FieldMapping(
    name="json",
    columns={
        UploadField.EXTERNAL_ID: ("externalid", "orderid"),
        UploadField.ITEM_ID: ("itemid", "itemexternalid"),
        UploadField.SKU: ("sku", "productsku"),
        UploadField.QUANTITY: ("quantity",),
        UploadField.ARRIVAL_DATE: ("arrivaldate", "estimateddeliverydate"),
        UploadField.FACILITY_ID: ("facilityid", "externalfacilityid"),
        **_OPTIONAL,
    },
    required=frozenset(
        {UploadField.EXTERNAL_ID, UploadField.ITEM_ID, UploadField.SKU, UploadField.QUANTITY}
        | {UploadField.ARRIVAL_DATE}
    ),
    date_format="yyyy-MM-dd",
)


class UploadOptions(BaseModel):
    """Query parameters of POST /purchase-orders (HotWax review-page adjustments)."""

    model_config = ConfigDict(frozen=True)

    mapping: Literal["hotwax", "netsuite"] | None = Field(default=None, description="CSV column mapping; auto if unset")
    date_format: str | None = Field(
        default=None,
        max_length=32,
        description="arrival-date format, e.g. MM/dd/yyyy, dd.MM.yyyy, yyyy-MM-dd; default: the mapping's",
    )
    buffer_days: int = Field(default=0, ge=0, le=365, description="added to every arrival date")
    order_buffer: int = Field(default=0, ge=0, description="taken off every quantity (never below 1)")


@dataclass(frozen=True)
class UploadLine:
    """A valid row, its SKU not yet resolved to a product."""

    row: int
    external_id: str
    item_id: str
    sku: str
    quantity: int
    arrival_date: date
    facility_id: str | None
    is_new_product: bool
    status: POItemStatus


@dataclass
class ParsedUpload:
    format: Literal["csv", "json"]
    mapping: str
    received: int
    lines: list[UploadLine] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)


def normalize_column(name: str) -> str:
    return "".join(character for character in name.lower() if character.isalnum())


_DATE_TOKENS = re.compile(r"yyyy|yy|MM|M|dd|d|[-/. ]")
_STRPTIME = {"yyyy": "%Y", "yy": "%y", "MM": "%m", "M": "%m", "dd": "%d", "d": "%d"}


def strptime_format(pattern: str) -> str:
    """'MM/dd/yyyy' → '%m/%d/%Y'. Only day, month, year and the separators - / . and space are understood."""
    tokens = _DATE_TOKENS.findall(pattern)
    if "".join(tokens) != pattern or not {"yyyy", "yy"} & set(tokens):
        raise InvalidRequest(f"date_format '{pattern}' is not understood; use e.g. MM/dd/yyyy or yyyy-MM-dd")
    return "".join(_STRPTIME.get(token, token) for token in tokens)


_FLAGS = {"y": True, "yes": True, "true": True, "1": True, "n": False, "no": False, "false": False, "0": False}
_STATUSES = {
    "created": POItemStatus.CREATED,
    "approved": POItemStatus.APPROVED,
    "completed": POItemStatus.COMPLETED,
    "cancelled": POItemStatus.CANCELLED,
    "canceled": POItemStatus.CANCELLED,
}


def _flag(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = text_value(raw, "isNewProduct")
    if text is None:
        return False
    if text.lower() not in _FLAGS:
        raise RowRejected(f"isNewProduct '{text}' is not Y or N")
    return _FLAGS[text.lower()]


def _status(raw: Any) -> POItemStatus:
    text = text_value(raw, "status")
    if text is None:
        return POItemStatus.CREATED
    # ERP and OMS spellings: ITEM_CANCELLED, ORDER_COMPLETED, Canceled …
    key = re.sub(r"^(item|order)_", "", text.lower())
    if key not in _STATUSES:
        raise RowRejected(f"status '{text}' is not one of created, approved, completed, cancelled")
    return _STATUSES[key]


def _arrival(raw: Any, strptime_pattern: str, shown_format: str) -> date:
    text = required_text(raw, "arrival date")
    try:
        return datetime.strptime(text, strptime_pattern).date()
    except ValueError:
        raise RowRejected(f"arrival date '{text}' is not a date in the format {shown_format}") from None


@dataclass(frozen=True)
class _RowReader:
    mapping: FieldMapping
    options: UploadOptions

    @property
    def shown_format(self) -> str:
        return self.options.date_format or self.mapping.date_format

    def line(self, row: int, values: Mapping[UploadField, Any]) -> UploadLine:
        for required in sorted(self.mapping.required):
            if text_value(values.get(required), required.value) is None:
                raise RowRejected(f"{required.value} is missing")
        sku = required_text(values[UploadField.SKU], "SKU")
        external_id = required_text(values[UploadField.EXTERNAL_ID], "external id", MAX_ID_LENGTH)
        quantity = whole_number(values[UploadField.QUANTITY], "quantity")
        if quantity <= 0:
            raise RowRejected(f"quantity must be positive, got {quantity}")
        arrival = _arrival(values[UploadField.ARRIVAL_DATE], strptime_format(self.shown_format), self.shown_format)
        try:
            arrival += timedelta(days=self.options.buffer_days)
        except OverflowError:
            raise RowRejected(f"arrival date {arrival} plus buffer days is out of range") from None
        item_id = text_value(values.get(UploadField.ITEM_ID), "item id", MAX_ID_LENGTH) or str(normalize_sku(sku))
        return UploadLine(
            row=row,
            external_id=external_id,
            item_id=item_id,
            sku=sku,
            quantity=max(1, quantity - self.options.order_buffer),
            arrival_date=arrival,
            facility_id=text_value(values.get(UploadField.FACILITY_ID), "facility id"),
            is_new_product=_flag(values.get(UploadField.IS_NEW_PRODUCT)),
            status=_status(values.get(UploadField.STATUS)),
        )


def _collect(
    parsed: ParsedUpload, reader: _RowReader, rows: Iterable[tuple[int, Mapping[UploadField, Any] | str]]
) -> ParsedUpload:
    """Validate each row; a row whose (external id, item id) appeared before is a duplicate."""
    seen: dict[tuple[str, str], int] = {}
    for row, values in rows:
        try:
            if isinstance(values, str):
                raise RowRejected(values)
            line = reader.line(row, values)
        except RowRejected as rejected:
            parsed.rejected.append(RejectedRow(row=row, reason=str(rejected)))
            continue
        key = (line.external_id, line.item_id)
        if key in seen:
            parsed.rejected.append(RejectedRow(row=row, reason=f"duplicate of row {seen[key]} (same order and item)"))
            continue
        seen[key] = row
        parsed.lines.append(line)
    return parsed


def _detect_format(text: str, content_type: str | None) -> Literal["csv", "json"]:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type in ("text/csv", "application/csv", "text/plain"):
        return "csv"
    if media_type == "application/json" or media_type.endswith("+json"):
        return "json"
    if media_type:
        raise UnsupportedUpload(f"Content-Type {media_type} is not accepted; send text/csv or application/json")
    return "json" if text.lstrip()[:1] in ("[", "{") else "csv"


def _delimiter(header_line: str) -> str:
    """The most frequent of , ; tab in the header (European spreadsheets export with ;)."""
    return max(CSV_DELIMITERS, key=header_line.count)


def _pick_mapping(header: list[str], requested: str | None) -> FieldMapping:
    if requested:
        mapping = MAPPINGS[requested]
        if missing := mapping.missing(header):
            raise InvalidRequest(f"the CSV header lacks the {requested} columns: {', '.join(missing)}")
        return mapping
    matching = [mapping for mapping in MAPPINGS.values() if not mapping.missing(header)]
    if len(matching) == 1:
        return matching[0]
    if matching:
        raise InvalidRequest("the CSV header fits several mappings; choose one with mapping=")
    wanted = "; ".join(f"{m.name}: {', '.join(m.missing(header))}" for m in MAPPINGS.values())
    raise InvalidRequest(f"the CSV header matches no mapping (missing columns — {wanted})")


def _csv_rows(
    records: list[list[str]], header: list[str], mapping: FieldMapping
) -> Iterable[tuple[int, Mapping[UploadField, Any] | str]]:
    positions = {
        upload_field: next(index for index, name in enumerate(header) if name in names)
        for upload_field, names in mapping.columns.items()
        if any(name in header for name in names)
    }
    for offset, record in enumerate(records):
        row = offset + 2  # the header is spreadsheet row 1
        if not any(cell.strip() for cell in record):
            continue
        if len(record) > len(header):
            yield row, f"the row has {len(record)} cells but the header only {len(header)}"
            continue
        short = [f.value for f, index in positions.items() if index >= len(record) and f in mapping.required]
        if short:
            yield row, f"the row has {len(record)} columns; missing {', '.join(short)}"
            continue
        yield row, {upload_field: record[index] for upload_field, index in positions.items() if index < len(record)}


def _parse_csv(text: str, options: UploadOptions) -> ParsedUpload:
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise InvalidRequest("the CSV has no header row")
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(lines[0]), strict=True))
    except csv.Error as error:
        raise InvalidRequest(f"the body is not readable CSV: {error}") from error
    header = [normalize_column(name) for name in records[0]]
    mapping = _pick_mapping(header, options.mapping)
    data = records[1:]
    received = sum(1 for record in data if any(cell.strip() for cell in record))
    if not received:
        raise InvalidRequest("the upload has no rows")
    check_row_count(received)
    parsed = ParsedUpload(format="csv", mapping=mapping.name, received=received)
    return _collect(parsed, _RowReader(mapping, options), _csv_rows(data, header, mapping))


def _json_values(item: Any) -> Mapping[UploadField, Any] | str:
    if not isinstance(item, dict):
        return "the item is not a JSON object"
    keys = {normalize_column(str(key)): value for key, value in item.items()}
    values: dict[UploadField, Any] = {}
    for upload_field, names in JSON_MAPPING.columns.items():
        name = next((name for name in names if name in keys), None)
        if name is not None:
            values[upload_field] = keys[name]
    return values


def _parse_json(text: str, options: UploadOptions) -> ParsedUpload:
    items = json_rows(text, "items")
    parsed = ParsedUpload(format="json", mapping=JSON_MAPPING.name, received=len(items))
    rows = ((index + 1, _json_values(item)) for index, item in enumerate(items))
    return _collect(parsed, _RowReader(JSON_MAPPING, options), rows)


def parse_upload(text: str, content_type: str | None, options: UploadOptions) -> ParsedUpload:
    """Read a purchase-order upload. Raises a 4xx ShopsyncError when the body as a whole is unusable."""
    check_size(text)
    text = text.removeprefix("\ufeff")  # Excel's UTF-8 BOM
    if not text.strip():
        raise InvalidRequest("the body is empty")
    if options.date_format:
        strptime_format(options.date_format)  # refuse a bad format up front, not once per row
    if _detect_format(text, content_type) == "json":
        return _parse_json(text, options)
    return _parse_csv(text, options)

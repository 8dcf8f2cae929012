"""Sales orders imported from the stores (HotWax OrderHeader/OrderItem), their versions, the failed records of
orders that could not be imported, and the PO allocations of pre-order lines."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from shopsync.models.presell import POItemRef, PresellCategory

OLD_VERSION_TAG = "Old Version"


class OrderStatus(StrEnum):
    CREATED = "CREATED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class OrderSource(StrEnum):
    WEB = "web"
    POS = "pos"
    APP = "app"


class PresellSource(StrEnum):
    """Why a line is a pre-order or back-order line."""

    MEMBERSHIP = "membership"
    LISTING_TAG = "listing-tag"
    SELLING_PLAN = "selling-plan"
    LINE_PROPERTY = "line-property"


class PostalAddress(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str | None = None
    company: str | None = None
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    province: str | None = None
    province_code: str | None = None
    zip: str | None = None
    country: str | None = None
    country_code: str | None = None
    phone: str | None = None


class CustomerContact(BaseModel):
    model_config = ConfigDict(frozen=True)

    customer_id: str | None = None
    name: str | None = None
    email: str | None = Field(default=None, description="the order's contact email, else the customer's")
    phone: str | None = Field(default=None, description="the order's phone, else the customer's, else the address's")


class LineAllocation(BaseModel):
    """Units of a line promised from one PO item."""

    model_config = ConfigDict(frozen=True)

    po_item: POItemRef
    quantity: int = Field(gt=0)
    promise_date: date


class ShopifyOrderLine(BaseModel):
    """A line as Shopify has it: what the content hash covers."""

    model_config = ConfigDict(frozen=True)

    line_id: str = Field(description="Shopify LineItem GID")
    sku: str | None
    name: str
    variant_id: str | None = Field(description="Shopify ProductVariant GID; null for a deleted or custom item")
    quantity: int = Field(description="ordered quantity")
    current_quantity: int = Field(description="after removals and edits")
    selling_plan: str | None = None
    properties: dict[str, str] = Field(default_factory=dict)


class ShopifyOrder(BaseModel):
    """An order as Shopify has it (mapped from the GraphQL node), without anything shopsync derives."""

    model_config = ConfigDict(frozen=True)

    shopify_order_id: str = Field(description="Shopify Order GID")
    legacy_id: str
    name: str
    created_at: datetime
    updated_at: datetime
    processed_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    closed_at: datetime | None = None
    financial_status: str | None = None
    fulfillment_status: str | None = None
    source: OrderSource
    source_name: str | None = None
    app_name: str | None = None
    retail_location_id: str | None = None
    contact: CustomerContact
    shipping_address: PostalAddress | None = None
    tags: tuple[str, ...] = ()
    note: str | None = None
    total_amount: str | None = None
    currency: str | None = None
    lines: tuple[ShopifyOrderLine, ...]
    lines_truncated: bool = Field(default=False, description="Shopify has lines that could not be read")

    def content_hash(self) -> str:
        """Digest of everything but `updated_at`: Shopify bumps it for changes shopsync does not store."""
        data = self.model_dump(mode="json", exclude={"updated_at"})
        payload = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(payload.encode()).hexdigest()[:32]


class OrderLine(BaseModel):
    """What shopsync decided for the Shopify line with the same `line_id`: its catalog product, whether it is a
    pre-order or back-order line, and the PO items it took."""

    model_config = ConfigDict(frozen=True)

    line_id: str
    product_id: str
    presell: PresellCategory | None = None
    presell_sources: tuple[PresellSource, ...] = ()
    allocations: tuple[LineAllocation, ...] = ()
    unallocated: int = Field(default=0, ge=0, description="pre-order units no PO item could promise")

    @property
    def promise_date(self) -> date | None:
        """When the whole line can ship: the latest arrival among the PO items it took."""
        return max((allocation.promise_date for allocation in self.allocations), default=None)


class OrderVersion(BaseModel):
    """One version of an imported order. A change in Shopify creates the next version and cancels this one with
    the tag `Old Version` (HotWax "Refresh Order")."""

    order_id: str = Field(description="shopsync order id: <shop>-<Shopify legacy id>")
    shop_id: str
    version: int = Field(ge=1)
    status: OrderStatus
    tags: tuple[str, ...] = Field(default=(), description="shopsync's own tags on this version (Old Version)")
    order: ShopifyOrder
    lines: tuple[OrderLine, ...]
    content_hash: str = Field(description="of `order`, to tell a real change from a bare updatedAt bump")
    imported_at: datetime
    superseded_at: datetime | None = None


class FailureReason(StrEnum):
    MISSING_SHIPPING_ADDRESS = "MISSING_SHIPPING_ADDRESS"
    INCOMPLETE_SHIPPING_ADDRESS = "INCOMPLETE_SHIPPING_ADDRESS"
    MISSING_CONTACT = "MISSING_CONTACT"
    MALFORMED_EMAIL = "MALFORMED_EMAIL"
    UNKNOWN_VARIANT = "UNKNOWN_VARIANT"
    AMBIGUOUS_SKU = "AMBIGUOUS_SKU"
    TOO_MANY_LINES = "TOO_MANY_LINES"
    UNREADABLE_FIELD = "UNREADABLE_FIELD"
    IMPORT_ERROR = "IMPORT_ERROR"


class OrderProblem(BaseModel):
    model_config = ConfigDict(frozen=True)

    reason: FailureReason
    message: str
    line_id: str | None = None


class FailedOrder(BaseModel):
    """An order that could not be imported: every reason, the raw payload, the store and time. Never dropped; the
    import job retries it a bounded number of times, then it waits for the operator (re-import by id)."""

    order_id: str
    shop_id: str
    shopify_order_id: str
    name: str | None = None
    problems: list[OrderProblem]
    raw_payload: str = Field(description="the Shopify order node, JSON")
    shopify_updated_at: datetime | None = None
    first_failed_at: datetime
    last_failed_at: datetime
    attempts: int = Field(ge=1, description="imports that failed since the order last changed in Shopify")
    next_attempt_at: datetime | None = Field(
        default=None, description="the next automatic retry; null once retries ran out"
    )
    resolved_at: datetime | None = None

    @property
    def reasons(self) -> list[FailureReason]:
        return sorted({problem.reason for problem in self.problems})


class ImportOutcome(StrEnum):
    IMPORTED = "IMPORTED"
    NEW_VERSION = "NEW_VERSION"
    UNCHANGED = "UNCHANGED"
    STALE = "STALE"
    FAILED = "FAILED"


class OrderImportResult(BaseModel):
    order_id: str
    outcome: ImportOutcome
    version: int | None = None
    status: OrderStatus | None = None
    problems: list[OrderProblem] = Field(default_factory=list)


class OrderDetail(BaseModel):
    """GET /orders/{id}: every version, newest first, and the open failed record if any."""

    order_id: str
    current_version: int | None
    versions: list[OrderVersion]
    failure: FailedOrder | None = None


def order_id_for(shop_id: str, legacy_id: str) -> str:
    return f"{shop_id}-{legacy_id}"


def split_order_id(order_id: str) -> tuple[str, str]:
    """'eu-child-5001' → ('eu-child', '5001'): the legacy id is the digits after the last dash."""
    shop_id, _, legacy = order_id.rpartition("-")
    if not shop_id or not legacy.isdigit():
        raise ValueError(f"not an order id: {order_id!r} (expected <shop>-<Shopify order number id>)")
    return shop_id, legacy

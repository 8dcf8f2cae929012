"""Purchase-order items, inventory and the pre-sell membership they decide (HotWax PreOrderPOItem, online ATP,
ProductCategoryMember + ProductCategoryDcsnRsn)."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class POItemStatus(StrEnum):
    CREATED = "created"
    APPROVED = "approved"
    COMPLETED = "completed"
    CANCELLED = "cancelled"

    @property
    def is_open(self) -> bool:
        """Only created/approved items can promise stock (HotWax ITEM_CREATED, ITEM_APPROVED)."""
        return self in (POItemStatus.CREATED, POItemStatus.APPROVED)


class PurchaseOrderLine(BaseModel):
    """One validated line of an upload (CSV row or ERP JSON item), its SKU resolved to a catalog product."""

    model_config = ConfigDict(frozen=True)

    external_id: str = Field(min_length=1, description="the purchase order's id in the ERP / import file")
    item_id: str = Field(min_length=1, description="the line's id within the order")
    product_id: str
    sku: str
    quantity: int = Field(gt=0)
    arrival_date: date = Field(description="estimated delivery date, buffer days already added")
    facility_id: str | None = None
    is_new_product: bool = Field(description="Y → pre-order, N → back-order")
    status: POItemStatus = POItemStatus.CREATED

    def content_hash(self) -> str:
        """What the upload said about the line; an identical re-upload writes nothing."""
        payload = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(payload.encode()).hexdigest()[:32]


class PurchaseOrderItem(PurchaseOrderLine):
    """A stored PO line: what uploads said plus what sales orders have consumed of it."""

    allocated: int = Field(default=0, ge=0, description="pre-orders allocated to this item (order import)")
    updated_at: datetime

    @property
    def atp(self) -> int:
        return max(0, self.quantity - self.allocated)

    @property
    def ref(self) -> POItemRef:
        return POItemRef(external_id=self.external_id, item_id=self.item_id)


class POItemRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    external_id: str
    item_id: str


class InventoryLevel(BaseModel):
    model_config = ConfigDict(frozen=True)

    product_id: str
    on_hand: int
    online_atp: int = Field(description="what may be sold online now; ≤ 0 means nothing to sell")
    updated_at: datetime


class PresellCategory(StrEnum):
    PRE_ORDER = "PRE_ORDER"
    BACKORDER = "BACKORDER"


class RemovalCause(StrEnum):
    IN_STOCK = "IN_STOCK"
    PO_ATP_USED_UP = "PO_ATP_USED_UP"
    PO_CANCELLED_OR_COMPLETED = "PO_CANCELLED_OR_COMPLETED"
    ARRIVAL_PASSED = "ARRIVAL_PASSED"
    NO_ACTIVE_PO = "NO_ACTIVE_PO"


class Membership(BaseModel):
    """A product's place in the pre-sell catalog. `category` None = removed (the record keeps why)."""

    model_config = ConfigDict(frozen=True)

    product_id: str
    category: PresellCategory | None = None
    promise_date: date | None = None
    po_atp: int = 0
    decision_po_item: POItemRef | None = Field(default=None, description="the active PO item that decided it")
    removal_cause: RemovalCause | None = None
    since: datetime = Field(description="when the product entered its current category, or left the catalog")

    @property
    def is_member(self) -> bool:
        return self.category is not None


class RejectedRow(BaseModel):
    row: int = Field(description="CSV: the spreadsheet row (header = 1); JSON: the item's position, from 1")
    reason: str


class UploadResult(BaseModel):
    """What an upload did: valid rows are stored, each rejected row says why."""

    received: int = Field(description="data rows in the upload")
    created: int = 0
    updated: int = 0
    unchanged: int = Field(default=0, description="rows identical to what is stored; nothing written")
    rejected: list[RejectedRow] = Field(default_factory=list)


class PurchaseOrderUploadResult(UploadResult):
    format: str = Field(description="csv or json")
    mapping: str = Field(description="the column mapping applied")

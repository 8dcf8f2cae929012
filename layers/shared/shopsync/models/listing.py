"""What a store shows (or should show) for one pre-sell product, and what shopsync last pushed there."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from shopsync.models.presell import PresellCategory

PREORDER_TAGS = {PresellCategory.PRE_ORDER: "HC:Pre-Order", PresellCategory.BACKORDER: "HC:Backorder"}


class InventoryPolicy(StrEnum):
    DENY = "DENY"
    CONTINUE = "CONTINUE"


class ListingFields(BaseModel):
    """The parts of a variant's listing shopsync owns in a store. `quantity` None = leave Shopify's alone."""

    model_config = ConfigDict(frozen=True)

    inventory_policy: InventoryPolicy
    status: str = Field(pattern="^(active|inactive)$")
    preorder_type: PresellCategory | None
    promise_date: str = Field(description="MM/dd/yyyy, or _NA_ when there is no date (HotWax storefront contract)")
    tag: str | None = Field(description="the product tag this variant asks for (HC:Pre-Order / HC:Backorder)")
    quantity: int | None = Field(ge=0)

    def fingerprint(self) -> str:
        payload = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(payload.encode()).hexdigest()[:24]


class RestoreState(BaseModel):
    """What the store had before shopsync listed the variant, put back when it is delisted."""

    inventory_policy: InventoryPolicy
    available: int | None


class PushStatus(StrEnum):
    PUSHED = "PUSHED"
    PENDING = "PENDING"
    FAILED = "FAILED"


class ListingState(BaseModel):
    """Per (product, store): the Shopify ids, what was last pushed, and how the last attempt went."""

    product_id: str
    shop_id: str
    shopify_product_id: str
    shopify_variant_id: str
    inventory_item_id: str | None = None
    location_id: str | None = None
    pushed: ListingFields | None = None
    pushed_fingerprint: str | None = None
    restore: RestoreState | None = None
    granted: int = Field(default=0, ge=0, description="units shopsync has made available in this store")
    listed_since: datetime | None = Field(
        default=None, description="when the current listing began (the sync that first listed it); None while delisted"
    )
    status: PushStatus = PushStatus.PENDING
    error: str | None = None
    attempts: int = 0
    next_attempt_at: datetime | None = None
    updated_at: datetime

    @property
    def listed(self) -> bool:
        return self.pushed is not None and self.pushed.status == "active"


class StoreHold(BaseModel):
    """Units of one store's imported pre-orders that hold PO units, counted within one listing of the product there.

    Those units left the store's `available` when they sold and left the PO ATP when they were allocated: the
    quantity ledger subtracts them from the store's `granted` so they are not counted twice.
    """

    listed_since: datetime
    units: int = Field(ge=0)

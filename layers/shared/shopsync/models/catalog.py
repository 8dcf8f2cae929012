"""The catalog: sellable products (one per parent-store variant) and their links to each store."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class CatalogProduct(BaseModel):
    """A sellable unit, imported from a parent-store variant (HotWax's variant Product)."""

    model_config = ConfigDict(frozen=True)

    product_id: str = Field(description="shopsync id: the parent variant's numeric id")
    shopify_product_id: str
    shopify_variant_id: str
    inventory_item_id: str | None = None
    sku: str | None = None
    barcode: str | None = None
    title: str
    variant_title: str
    handle: str
    status: str
    vendor: str | None = None
    product_type: str | None = None
    tags: tuple[str, ...] = ()
    price: str | None = None
    inventory_policy: str | None = None
    shopify_updated_at: datetime

    def content_hash(self) -> str:
        """Digest of the product's data, so re-imports of unchanged data write nothing. The timestamp is left out:
        Shopify bumps a product's updatedAt when any sibling variant changes."""
        data = self.model_dump(mode="json", exclude={"shopify_updated_at"})
        payload = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(payload.encode()).hexdigest()[:32]

    def shopify_link(self) -> tuple[str, str, str | None]:
        return (self.shopify_product_id, self.shopify_variant_id, self.inventory_item_id)


class AssociationSource(StrEnum):
    PRODUCT_IMPORT = "product-import"
    ASSOCIATION_JOB = "association-job"
    MANUAL = "manual"


class Association(BaseModel):
    """The link between a catalog product and one store's variant (HotWax ShopifyShopProduct)."""

    product_id: str
    shop_id: str
    shopify_product_id: str
    shopify_variant_id: str
    inventory_item_id: str | None = None
    source: AssociationSource
    linked_at: datetime

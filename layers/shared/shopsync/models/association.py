"""Child-store variants as the association job sees them, the variants it could not link, and the manual link body."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shopsync.catalog.identifiers import legacy_id
from shopsync.models.catalog import Association
from shopsync.models.shop import IdentifierType


class StoreVariant(BaseModel):
    """A child-store variant: what the job read from Shopify, and the catalog product it is linked to, if any."""

    model_config = ConfigDict(frozen=True)

    shop_id: str
    variant_id: str = Field(description="Shopify GID of the variant")
    legacy_id: str
    shopify_product_id: str
    inventory_item_id: str | None = None
    identifier: str | None = Field(
        default=None, description="the store's identifier, normalised; None when the variant has none (or was not read)"
    )
    linked_product_id: str | None = Field(
        default=None, description="the catalog product whose association points at this variant (job or manual)"
    )

    def same_shopify_data(self, other: StoreVariant) -> bool:
        ignored = {"linked_product_id"}
        return self.model_dump(exclude=ignored) == other.model_dump(exclude=ignored)


class UnmatchedReason(StrEnum):
    NO_MATCH = "NO_MATCH"
    DUPLICATE_IN_CATALOG = "DUPLICATE_IN_CATALOG"
    DUPLICATE_IN_STORE = "DUPLICATE_IN_STORE"
    MISSING_IDENTIFIER = "MISSING_IDENTIFIER"


class UnmatchedVariant(BaseModel):
    """A child-store variant the association job did not link, and why (removed once it links)."""

    shop_id: str
    variant_id: str
    shopify_product_id: str
    identifier_type: IdentifierType
    identifier: str | None = None
    reason: UnmatchedReason
    message: str
    candidate_product_ids: list[str] = Field(
        default_factory=list, description="catalog products sharing the identifier (DUPLICATE_IN_CATALOG)"
    )
    sharing_variant_ids: list[str] = Field(
        default_factory=list, description="other variants of the store with the identifier (DUPLICATE_IN_STORE)"
    )
    recorded_at: datetime

    def same_finding(self, other: UnmatchedVariant) -> bool:
        """Equal apart from when it was recorded: re-recording it would be a no-op write."""
        return self.model_dump(exclude={"recorded_at"}) == other.model_dump(exclude={"recorded_at"})


class UnmatchedPage(BaseModel):
    """Body of GET /associations/unmatched."""

    shop_id: str
    items: list[UnmatchedVariant]
    next_after: str | None = Field(description="pass as `after` for the next page; null on the last page")


class AssociationStatus(BaseModel):
    """Whether a product is linked to a store, and if not, why (for the product audit)."""

    linked: bool
    association: Association | None = None
    reason: str | None = None


def _gid(resource: str, value: str) -> str:
    number = legacy_id(value.strip())
    if not number.isdigit():
        raise ValueError(f"not a Shopify {resource} id: {value!r}")
    return f"gid://shopify/{resource}/{number}"


class ManualAssociationRequest(BaseModel):
    """Body of PUT /products/{id}/shops/{shop}. Ids may be GIDs or bare numbers; they are stored as GIDs."""

    model_config = ConfigDict(extra="forbid")

    shopify_product_id: str = Field(examples=["gid://shopify/Product/1001", "1001"])
    shopify_variant_id: str = Field(examples=["gid://shopify/ProductVariant/2001"])
    inventory_item_id: str | None = Field(
        default=None, description="checked against the variant when given; taken from Shopify when omitted"
    )

    @field_validator("shopify_product_id")
    @classmethod
    def product_gid(cls, value: str) -> str:
        return _gid("Product", value)

    @field_validator("shopify_variant_id")
    @classmethod
    def variant_gid(cls, value: str) -> str:
        return _gid("ProductVariant", value)

    @field_validator("inventory_item_id")
    @classmethod
    def inventory_item_gid(cls, value: str | None) -> str | None:
        return None if value is None else _gid("InventoryItem", value)

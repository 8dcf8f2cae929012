"""The product audit (HotWax's pre-order audit page): identifiers, pre-sell membership and what a refresh would
decide now, inventory, PO items, and per registered store the association (or why it is missing) and listing."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from shopsync.catalog.association import association_status
from shopsync.catalog.presell import Action, active_po_item, decide, po_atp
from shopsync.errors import NotFound
from shopsync.models.association import AssociationStatus
from shopsync.models.presell import InventoryLevel, Membership, POItemRef, PurchaseOrderItem, RemovalCause
from shopsync.models.shop import ShopRole
from shopsync.store import presell as presell_store
from shopsync.store import shops as shop_store


class ListingStatus(StrEnum):
    NOT_SYNCED_YET = "not synced yet"


class ProductIdentifiers(BaseModel):
    sku: str | None
    barcode: str | None
    shopify_product_id: str
    shopify_variant_id: str
    inventory_item_id: str | None


class PresellEvaluation(BaseModel):
    """The rules applied to what is stored now; differs from `membership` until the next refresh runs."""

    po_atp: int
    online_atp: int
    eligible: bool
    active_po_item: POItemRef | None
    next_refresh_action: Action
    removal_cause: RemovalCause | None


class StoreAudit(BaseModel):
    shop_id: str
    role: ShopRole
    association: AssociationStatus
    listing_status: ListingStatus = Field(description="what was last pushed to the store for this product")


class ProductAudit(BaseModel):
    product_id: str
    title: str
    variant_title: str
    identifiers: ProductIdentifiers
    membership: Membership | None
    evaluation: PresellEvaluation
    inventory: InventoryLevel | None
    purchase_order_items: list[PurchaseOrderItem]
    stores: list[StoreAudit]


def audit_product(product_id: str, now: datetime) -> ProductAudit:
    state = presell_store.product_state(product_id)
    if state.product is None:
        raise NotFound(f"product {product_id} is not in the catalog", product_id=product_id)
    today = now.date()
    decision = decide(product_id, state.membership, state.po_items, inventory=state.inventory, today=today, now=now)
    active = active_po_item(state.po_items, today)
    online_atp = state.inventory.online_atp if state.inventory else 0
    return ProductAudit(
        product_id=product_id,
        title=state.product.title,
        variant_title=state.product.variant_title,
        identifiers=ProductIdentifiers.model_validate(state.product, from_attributes=True),
        membership=state.membership,
        evaluation=PresellEvaluation(
            po_atp=po_atp(state.po_items, today),
            online_atp=online_atp,
            eligible=active is not None and online_atp <= 0,
            active_po_item=active.ref if active else None,
            next_refresh_action=decision.action,
            removal_cause=decision.cause,
        ),
        inventory=state.inventory,
        purchase_order_items=state.po_items,
        stores=[
            StoreAudit(
                shop_id=shop.shop_id,
                role=shop.role,
                association=association_status(product_id, shop),
                listing_status=ListingStatus.NOT_SYNCED_YET,
            )
            for shop in sorted(
                shop_store.list_shops(), key=lambda shop: (shop.role is not ShopRole.PARENT, shop.shop_id)
            )
        ],
    )

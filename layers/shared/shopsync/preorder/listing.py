"""The desired listing of a variant in a store, and the HC_PREORDER metafield the storefront reads (pure)."""

from __future__ import annotations

import json
from datetime import datetime

from shopsync.models.listing import PREORDER_TAGS, InventoryPolicy, ListingFields, RestoreState
from shopsync.models.presell import Membership

METAFIELD_NAMESPACE = "HC_PREORDER"
NO_DATE = "_NA_"


def listed_fields(membership: Membership, quantity: int) -> ListingFields:
    """A pre-sell product in a linked store: DENY with the real pre-orderable quantity, so Shopify itself stops
    selling at zero, plus the tag and metafield the storefront shows."""
    assert membership.category is not None
    return ListingFields(
        inventory_policy=InventoryPolicy.DENY,
        status="active",
        preorder_type=membership.category,
        promise_date=membership.promise_date.strftime("%m/%d/%Y") if membership.promise_date else NO_DATE,
        tag=PREORDER_TAGS[membership.category],
        quantity=quantity,
    )


def delisted_fields(restore: RestoreState | None, previous: ListingFields | None) -> ListingFields:
    """Back to what the store had before listing: its policy and quantity; the metafield says inactive."""
    return ListingFields(
        inventory_policy=restore.inventory_policy if restore else InventoryPolicy.DENY,
        status="inactive",
        preorder_type=previous.preorder_type if previous else None,
        promise_date=NO_DATE,
        tag=None,
        quantity=restore.available if restore else None,
    )


def metafield_value(fields: ListingFields, now: datetime) -> str:
    """The JSON the HotWax storefront script reads (keys and date formats as it expects them)."""
    return json.dumps(
        {
            "status": fields.status,
            "preorderType": fields.preorder_type.value if fields.preorder_type else None,
            "promise_date": fields.promise_date,
            "last_updated_at": now.strftime("%b %d,%Y %H:%M:%S"),
        },
        separators=(",", ":"),
    )

"""The Shopify side of a listing push for one store: reads and batched mutations (≤ 25 metafields, ≤ 250
quantities per call), with the payload shapes Shopify expects."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shopsync.iterables import chunked
from shopsync.models.listing import InventoryPolicy, ListingFields
from shopsync.models.shop import Shop
from shopsync.preorder.listing import METAFIELD_NAMESPACE, metafield_value
from shopsync.settings import get_settings
from shopsync.shopify.bulk_mutation import run_bulk_mutation
from shopsync.shopify.client import ShopifyClient, raise_for_user_errors
from shopsync.shopify.documents import load_document
from shopsync.shopify.errors import ShopifyUserErrors

METAFIELDS_PER_CALL = 25
QUANTITIES_PER_CALL = 250
READS_PER_CALL = 100


@dataclass(frozen=True)
class VariantSnapshot:
    """What the store shows now for one variant."""

    variant_id: str
    inventory_policy: InventoryPolicy
    available: int | None
    metafield: dict[str, Any] | None
    product_tags: tuple[str, ...]


@dataclass(frozen=True)
class QuantityChange:
    inventory_item_id: str
    change_from: int | None
    to: int


class StaleQuantity(Exception):
    """An order changed `available` since it was read: the compare-and-set refused the whole batch."""


class StoreListingClient:
    def __init__(self, shop: Shop, client: ShopifyClient) -> None:
        self.shop = shop
        self.client = client
        self.metafield_key = get_settings().preorder_metafield_key
        self._location_id: str | None = None

    def location_id(self) -> str:
        if self._location_id is None:
            self._location_id = str(self.client.execute(load_document("PrimaryLocation")).data["location"]["id"])
        return self._location_id

    def snapshots(self, variant_ids: Sequence[str]) -> dict[str, VariantSnapshot]:
        result: dict[str, VariantSnapshot] = {}
        for chunk in chunked(variant_ids, READS_PER_CALL):
            variables = {
                "ids": chunk,
                "locationId": self.location_id(),
                "namespace": METAFIELD_NAMESPACE,
                "key": self.metafield_key,
            }
            for node in self.client.execute(load_document("VariantListings"), variables).data["nodes"]:
                if node:
                    result[node["id"]] = _snapshot(node)
        return result

    def update_variants(self, shopify_product_id: str, variants: dict[str, ListingFields], now: datetime) -> None:
        """Policy and metafield of several variants of one product in one productVariantsBulkUpdate."""
        response = self.client.execute(
            load_document("ListingVariantsUpdate"),
            {"productId": shopify_product_id, "variants": self._variant_inputs(variants, now)},
        )
        raise_for_user_errors(response, ("productVariantsBulkUpdate",))

    def update_variants_in_bulk(
        self, groups: dict[str, dict[str, ListingFields]], now: datetime, time_left_s: Callable[[], float]
    ) -> dict[str, str]:
        """The same updates for many products as one bulk mutation; returns the error of each product that failed."""
        product_ids = list(groups)
        lines = [{"productId": p, "variants": self._variant_inputs(groups[p], now)} for p in product_ids]
        results = run_bulk_mutation(
            self.client,
            load_document("ListingVariantsUpdate"),
            lines,
            time_remaining_s=time_left_s,
            poll_interval_s=get_settings().bulk_poll_interval_s,
        )
        failures = {}
        for product_id, result in zip(product_ids, results, strict=True):
            payload = (result.get("data") or {}).get("productVariantsBulkUpdate") or {}
            problems = result.get("errors") or payload.get("userErrors")
            if problems or not payload:
                failures[product_id] = f"bulk productVariantsBulkUpdate failed: {problems or 'no payload'}"
        return failures

    def set_metafields(self, variants: dict[str, ListingFields], now: datetime) -> None:
        entries = [{"ownerId": variant_id, **self._metafield(fields, now)} for variant_id, fields in variants.items()]
        for chunk in chunked(entries, METAFIELDS_PER_CALL):
            response = self.client.execute(load_document("ListingMetafieldsSet"), {"metafields": chunk})
            raise_for_user_errors(response, ("metafieldsSet",))

    def change_tags(self, shopify_product_id: str, add: set[str], remove: set[str]) -> None:
        for document, root, tags in (("ListingTagsAdd", "tagsAdd", add), ("ListingTagsRemove", "tagsRemove", remove)):
            if tags:
                response = self.client.execute(
                    load_document(document), {"id": shopify_product_id, "tags": sorted(tags)}
                )
                raise_for_user_errors(response, (root,))

    def set_quantities(self, changes: Sequence[QuantityChange], reference: str) -> None:
        """Compare-and-set each item's `available` from `change_from`; StaleQuantity when an order got there first."""
        for chunk in chunked(changes, QUANTITIES_PER_CALL):
            quantities = [
                {
                    "inventoryItemId": change.inventory_item_id,
                    "locationId": self.location_id(),
                    "quantity": change.to,
                    "changeFromQuantity": change.change_from,
                }
                for change in chunk
            ]
            payload = {
                "name": "available",
                "reason": "correction",
                "referenceDocumentUri": reference,
                "quantities": quantities,
            }
            key = hashlib.sha256(json.dumps([self.shop.shop_id, payload], sort_keys=True).encode()).hexdigest()
            response = self.client.execute(
                load_document("ListingQuantitiesSet"), {"input": payload, "key": key}, idempotent=True
            )
            try:
                raise_for_user_errors(response, ("inventorySetQuantities",))
            except ShopifyUserErrors as errors:
                if any(error.code == "CHANGE_FROM_QUANTITY_STALE" for error in errors.errors):
                    raise StaleQuantity(str(errors)) from errors
                raise

    def _variant_inputs(self, variants: dict[str, ListingFields], now: datetime) -> list[dict[str, Any]]:
        return [
            {
                "id": variant_id,
                "inventoryPolicy": fields.inventory_policy.value,
                "metafields": [self._metafield(fields, now)],
            }
            for variant_id, fields in variants.items()
        ]

    def _metafield(self, fields: ListingFields, now: datetime) -> dict[str, str]:
        return {
            "namespace": METAFIELD_NAMESPACE,
            "key": self.metafield_key,
            "type": "json",
            "value": metafield_value(fields, now),
        }


def _snapshot(node: dict[str, Any]) -> VariantSnapshot:
    level = (node.get("inventoryItem") or {}).get("inventoryLevel")
    available = next((q["quantity"] for q in level["quantities"] if q["name"] == "available"), None) if level else None
    metafield = node.get("metafield")
    return VariantSnapshot(
        variant_id=node["id"],
        inventory_policy=InventoryPolicy(node["inventoryPolicy"]),
        available=available,
        metafield=json.loads(metafield["value"]) if metafield else None,
        product_tags=tuple((node.get("product") or {}).get("tags") or ()),
    )

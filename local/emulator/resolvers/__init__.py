"""Root fields the emulator answers. Any other root field is reported as not supported."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from local.emulator.resolvers import bulk, catalog, inventory, listing, orders, product_set, shop

Resolver = Callable[..., Any]

QUERY_ROOT: dict[str, Resolver] = {
    "shop": shop.shop,
    "publicApiVersions": shop.public_api_versions,
    "node": shop.node,
    "nodes": shop.nodes,
    "products": catalog.products,
    "product": catalog.product,
    "productVariants": catalog.product_variants,
    "productVariant": catalog.product_variant,
    "inventoryItem": inventory.inventory_item,
    "inventoryItems": inventory.inventory_items,
    "inventoryLevel": inventory.inventory_level,
    "locations": inventory.locations,
    "location": inventory.location,
    "orders": orders.orders_root,
    "order": orders.order,
    "ordersCount": orders.orders_count,
    "bulkOperation": bulk.bulk_operation,
    "bulkOperations": bulk.bulk_operations,
    "currentBulkOperation": bulk.current_bulk_operation,
}

MUTATION_ROOT: dict[str, Resolver] = {
    "productSet": product_set.product_set,
    "inventorySetQuantities": inventory.inventory_set_quantities,
    "inventoryActivate": inventory.inventory_activate,
    "productVariantsBulkUpdate": listing.product_variants_bulk_update,
    "tagsAdd": listing.tags_add,
    "tagsRemove": listing.tags_remove,
    "metafieldsSet": listing.metafields_set,
    "orderCancel": orders.order_cancel,
    "webhookSubscriptionCreate": orders.webhook_subscription_create,
    "bulkOperationRunQuery": bulk.bulk_operation_run_query,
    "bulkOperationCancel": bulk.bulk_operation_cancel,
    "bulkOperationRunMutation": bulk.bulk_operation_run_mutation,
    "stagedUploadsCreate": bulk.staged_uploads_create,
}

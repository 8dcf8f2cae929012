"""N pre-order products in every store, written straight into the emulator's stores and the table: what the product
import, the association job, a PO upload and the catalog refresh would leave behind, in seconds instead of minutes
(those jobs have their own tests and benchmarks; a sync benchmark only needs their result).

Each product is one Shopify product with one variant, the same SKU in every store, no stock anywhere. The table gets
what the pre-order sync reads: the catalog product (with its parent association and identifier index, by the product
import's own upsert), an association per child store, one open PO item and the membership the catalog refresh decides
from it. Not written, as nothing the sync reads comes from them: the PO line lookups, refresh markers, inventory
records (none means online ATP 0) and the association job's store-variant index.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from local.emulator import ShopifyEmulator
from local.emulator.ids import gid
from local.emulator.state import InventoryItem, Product, ProductOption, Store, Variant
from shopsync.catalog.presell import decide
from shopsync.models.catalog import Association, AssociationSource, CatalogProduct
from shopsync.models.presell import PurchaseOrderItem
from shopsync.store import catalog as catalog_store
from shopsync.store import presell as presell_store
from shopsync.store import table

PO_ID = "PO-BENCH"
TAGS = ("bench",)


@dataclass(frozen=True)
class StoreVariantIds:
    product: str
    variant: str
    inventory_item: str


def bench_sku(number: int) -> str:
    return f"BENCH-{number:05d}"


def add_store_products(store: Store, skus: Sequence[str]) -> list[StoreVariantIds]:
    """One-variant products as productSet creates them (tracked item stocked at 0 at the primary location)."""
    now = store.now()
    created = []
    with store.lock:
        for sku in skus:
            product = Product(
                id=store.new_id(),
                title=f"Bench {sku}",
                handle=sku.lower(),
                created_at=now,
                updated_at=now,
                vendor=store.name,
                product_type="Bench",
                tags=list(TAGS),
                options=[ProductOption(store.new_id(), "Title", 1, ["Default Title"])],
            )
            item = InventoryItem(id=store.new_id(), sku=sku, created_at=now, updated_at=now)
            variant = Variant(
                id=store.new_id(),
                product_id=product.id,
                inventory_item_id=item.id,
                created_at=now,
                updated_at=now,
                options=[("Title", "Default Title")],
                price="10.00",
            )
            item.variant_id = variant.id
            product.variant_ids = [variant.id]
            store.products[product.id] = product
            store.variants[variant.id] = variant
            store.inventory_items[item.id] = item
            store.activate(item, store.primary_location)
            created.append(
                StoreVariantIds(
                    gid("Product", product.id), gid("ProductVariant", variant.id), gid("InventoryItem", item.id)
                )
            )
    return created


def seed_preorder_products(
    emulator: ShopifyEmulator, parent: str, children: Sequence[str], count: int, *, quantity: int, now: datetime
) -> list[str]:
    """`count` pre-order products linked in `parent` and `children`; returns their catalog product ids."""
    skus = [bench_sku(number) for number in range(count)]
    in_parent = add_store_products(emulator.store(parent), skus)
    products = [
        CatalogProduct(
            product_id=ids.variant.rsplit("/", 1)[1],
            shopify_product_id=ids.product,
            shopify_variant_id=ids.variant,
            inventory_item_id=ids.inventory_item,
            sku=sku,
            title=f"Bench {sku}",
            variant_title="Default Title",
            handle=sku.lower(),
            status="ACTIVE",
            product_type="Bench",
            tags=TAGS,
            price="10.00",
            inventory_policy="DENY",
            shopify_updated_at=now,
        )
        for sku, ids in zip(skus, in_parent, strict=True)
    ]
    catalog_store.upsert_products(products, parent, now)
    catalog_store.put_associations(
        Association(
            product_id=product.product_id,
            shop_id=shop_id,
            shopify_product_id=ids.product,
            shopify_variant_id=ids.variant,
            inventory_item_id=ids.inventory_item,
            source=AssociationSource.ASSOCIATION_JOB,
            linked_at=now,
        )
        for shop_id in children
        for product, ids in zip(products, add_store_products(emulator.store(shop_id), skus), strict=True)
    )
    _put_on_preorder(products, quantity, now)
    return [product.product_id for product in products]


def _put_on_preorder(products: Sequence[CatalogProduct], quantity: int, now: datetime) -> None:
    """A PO item per product and the membership the catalog refresh decides from it (no inventory record: online
    ATP 0)."""
    arrival = now.date() + timedelta(days=30)
    po_items = []
    memberships = []
    for number, product in enumerate(products, start=1):
        assert product.sku is not None
        item = PurchaseOrderItem(
            external_id=PO_ID,
            item_id=str(number),
            product_id=product.product_id,
            sku=product.sku,
            quantity=quantity,
            arrival_date=arrival,
            is_new_product=True,
            updated_at=now,
        )
        pk, sk = presell_store.po_item_key(product.product_id, item.ref)
        po_items.append({"PK": pk, "SK": sk, "type": "PO_ITEM", **item.model_dump(mode="json")})
        decision = decide(product.product_id, None, [item], inventory=None, today=now.date(), now=now)
        assert decision.membership is not None
        memberships.append(decision.membership)
    table.batch_write(puts=po_items)
    presell_store.save_memberships(memberships)

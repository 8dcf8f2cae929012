"""Catalog products, their identifier index and their per-store associations.

Items:
- product            PK=PRODUCT#<id>           SK=DETAIL
- association        PK=PRODUCT#<id>           SK=SHOP#<shop_id>
- identifier index   PK=IDENT#<kind>#<value>   SK=PRODUCT#<id>   (several products under one value = a duplicate)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from shopsync.catalog.identifiers import normalize_barcode, normalize_sku
from shopsync.models.catalog import Association, AssociationSource, CatalogProduct
from shopsync.models.shop import IdentifierType
from shopsync.store import table


def _product_key(product_id: str) -> tuple[str, str]:
    return f"PRODUCT#{product_id}", "DETAIL"


def _identifier_keys(product: CatalogProduct) -> set[tuple[str, str]]:
    keys = set()
    for kind, value in (
        (IdentifierType.SKU, normalize_sku(product.sku)),
        (IdentifierType.BARCODE, normalize_barcode(product.barcode)),
    ):
        if value:
            keys.add((f"IDENT#{kind.value}#{value}", f"PRODUCT#{product.product_id}"))
    return keys


def _association_item(association: Association) -> table.Item:
    return {
        "PK": f"PRODUCT#{association.product_id}",
        "SK": f"SHOP#{association.shop_id}",
        "type": "ASSOCIATION",
        **association.model_dump(mode="json"),
    }


@dataclass(frozen=True)
class UpsertResult:
    written: int
    skipped: int


def upsert_products(products: Iterable[CatalogProduct], parent_shop_id: str, now: datetime) -> UpsertResult:
    """Store products imported from the parent store; unchanged ones (same content hash) are not written again.

    A changed product rewrites its item; its parent-store association only when the Shopify ids changed (an
    association write re-syncs the product to that store); its identifier index entries as they come and go.
    """
    incoming = {product.product_id: product for product in products}
    existing = table.batch_get(_product_key(product_id) for product_id in incoming)
    puts: list[table.Item] = []
    deletes: set[tuple[str, str]] = set()
    skipped = 0
    for product_id, product in incoming.items():
        digest = product.content_hash()
        stored = existing.get(_product_key(product_id))
        previous = CatalogProduct.model_validate(stored) if stored else None
        if stored and stored.get("content_hash") == digest:
            skipped += 1
            continue
        pk, sk = _product_key(product_id)
        puts.append(
            {
                "PK": pk,
                "SK": sk,
                "type": "PRODUCT",
                "content_hash": digest,
                "imported_at": now.isoformat(),
                **product.model_dump(mode="json"),
            }
        )
        if previous is None or previous.shopify_link() != product.shopify_link():
            puts.append(_association_item(_parent_association(product, parent_shop_id, now)))
        old_keys = _identifier_keys(previous) if previous else set()
        new_keys = _identifier_keys(product)
        puts.extend(
            {"PK": ipk, "SK": isk, "type": "IDENTIFIER", "product_id": product_id} for ipk, isk in new_keys - old_keys
        )
        deletes |= old_keys - new_keys
    table.batch_write(puts=puts, deletes=deletes)
    return UpsertResult(written=len(incoming) - skipped, skipped=skipped)


def _parent_association(product: CatalogProduct, parent_shop_id: str, now: datetime) -> Association:
    return Association(
        product_id=product.product_id,
        shop_id=parent_shop_id,
        shopify_product_id=product.shopify_product_id,
        shopify_variant_id=product.shopify_variant_id,
        inventory_item_id=product.inventory_item_id,
        source=AssociationSource.PRODUCT_IMPORT,
        linked_at=now,
    )


def get_product(product_id: str) -> CatalogProduct | None:
    item = table.get_item(*_product_key(product_id))
    return CatalogProduct.model_validate(item) if item else None


def product_ids_by_identifier(kind: IdentifierType, normalized_value: str) -> list[str]:
    items = table.query_partition(f"IDENT#{kind.value}#{normalized_value}")
    return [str(item["product_id"]) for item in items]


def get_associations(product_id: str) -> list[Association]:
    return [Association.model_validate(item) for item in table.query_partition(f"PRODUCT#{product_id}", "SHOP#")]


def _association_key(product_id: str, shop_id: str) -> tuple[str, str]:
    return f"PRODUCT#{product_id}", f"SHOP#{shop_id}"


def get_association(product_id: str, shop_id: str) -> Association | None:
    item = table.get_item(*_association_key(product_id, shop_id))
    return Association.model_validate(item) if item else None


def associations_in_shop(product_ids: Iterable[str], shop_id: str) -> dict[str, Association]:
    """The associations of these products with one store, by product id (products without one are absent)."""
    items = table.batch_get(_association_key(product_id, shop_id) for product_id in product_ids)
    return {str(item["product_id"]): Association.model_validate(item) for item in items.values()}


def put_association(association: Association) -> None:
    table.put_item(_association_item(association))


def put_associations(associations: Iterable[Association]) -> None:
    """The same items as `put_association`, written in batches."""
    table.batch_write(puts=[_association_item(association) for association in associations])


def delete_association(product_id: str, shop_id: str, *, if_variant_id: str | None = None) -> bool:
    """Deletes the association (only while it points at `if_variant_id`, when given); False when there was none."""
    condition, values = "attribute_exists(PK)", None
    if if_variant_id is not None:
        condition, values = "shopify_variant_id = :variant", {":variant": if_variant_id}
    try:
        table.delete_item(*_association_key(product_id, shop_id), condition=condition, values=values)
    except table.ConditionFailed:
        return False
    return True

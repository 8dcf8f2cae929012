"""Manual association (HotWax's "Shopify Shop Product" Add / delete): an operator links a catalog product to a
child-store variant the job could not match. The link is checked against the store first, then written as the same
association item the job writes (skipped when `same_link` says nothing changes), so every downstream effect (the
stream, the pre-order sync) is identical."""

from __future__ import annotations

from datetime import datetime

from shopsync.catalog.association import require_child, same_link
from shopsync.errors import Conflict, NotFound, UnprocessableRequest, UpstreamUnavailable
from shopsync.models.association import ManualAssociationRequest
from shopsync.models.catalog import Association, AssociationSource
from shopsync.models.shop import Shop
from shopsync.shopify.client import ShopifyClient
from shopsync.shopify.documents import load_document
from shopsync.shopify.errors import ShopifyAuthError, ShopifyError, ShopifyUnavailable
from shopsync.store import associations as association_store
from shopsync.store import catalog as catalog_store
from shopsync.store import secrets
from shopsync.store import shops as shop_store

VERIFY_TIME_BUDGET_S = 10.0


def _child_shop_and_product(product_id: str, shop_id: str) -> Shop:
    if catalog_store.get_product(product_id) is None:
        raise NotFound(f"product {product_id} is not in the catalog", product_id=product_id)
    shop = shop_store.get_shop(shop_id)
    if shop is None:
        raise NotFound(f"shop {shop_id} is not registered", shop_id=shop_id)
    require_child(shop)
    return shop


def link_manually(
    product_id: str, shop_id: str, request: ManualAssociationRequest, now: datetime
) -> tuple[Association, bool]:
    """Links the product to the variant once the store confirms it; returns the association and whether the product
    had none in this store before. Re-sending the same link writes nothing."""
    shop = _child_shop_and_product(product_id, shop_id)
    inventory_item_id = _verified_inventory_item(shop, request)
    _refuse_variant_linked_elsewhere(product_id, shop_id, request.shopify_variant_id)
    current = catalog_store.get_association(product_id, shop_id)
    wanted = Association(
        product_id=product_id,
        shop_id=shop_id,
        shopify_product_id=request.shopify_product_id,
        shopify_variant_id=request.shopify_variant_id,
        inventory_item_id=inventory_item_id,
        source=AssociationSource.MANUAL,
        linked_at=now,
    )
    if current is not None and same_link(current, wanted):
        return current, False
    catalog_store.put_association(wanted)
    if current is not None and current.shopify_variant_id != wanted.shopify_variant_id:
        association_store.clear_linked_product(shop_id, current.shopify_variant_id, product_id)
    association_store.set_linked_product(wanted)
    # The variant is linked now, so it is no longer an open failure.
    association_store.delete_unmatched(shop_id, wanted.shopify_variant_id)
    return wanted, current is None


def unlink_manually(product_id: str, shop_id: str) -> None:
    """Deletes the product's association with the store, whoever wrote it. A job-made link comes back when the job
    next decides that variant (it changes in Shopify, or a full run); link another variant by hand to prevent that."""
    _child_shop_and_product(product_id, shop_id)
    current = catalog_store.get_association(product_id, shop_id)
    if current is None or not catalog_store.delete_association(product_id, shop_id):
        raise NotFound(f"product {product_id} has no association with {shop_id}", product_id=product_id)
    association_store.clear_linked_product(shop_id, current.shopify_variant_id, product_id)


def _refuse_variant_linked_elsewhere(product_id: str, shop_id: str, variant_id: str) -> None:
    """One variant serves one product: two products pushing pre-order state to one variant would fight."""
    variant = association_store.get_store_variant(shop_id, variant_id)
    other_product = variant.linked_product_id if variant else None
    if other_product is None or other_product == product_id:
        return
    other = catalog_store.get_association(other_product, shop_id)
    if other is not None and other.shopify_variant_id == variant_id:
        raise Conflict(
            f"variant {variant_id} of {shop_id} is already linked to product {other_product}; "
            f"delete that association first",
            linked_product_id=other_product,
        )


def _verified_inventory_item(shop: Shop, request: ManualAssociationRequest) -> str | None:
    """Asks the store about the variant; returns its inventory item id. The variant must exist and belong to the
    given product, and carry the given inventory item when one is given."""
    try:
        token = secrets.get_access_token(shop.token_secret_name)
        with ShopifyClient(
            shop.base_url, shop.api_version, token, time_remaining_s=lambda: VERIFY_TIME_BUDGET_S
        ) as client:
            response = client.execute(load_document("VariantForAssociation"), {"id": request.shopify_variant_id})
    except secrets.SecretUnavailable as error:
        raise UpstreamUnavailable(f"{shop.shop_id} cannot be asked: {error}") from error
    except (ShopifyAuthError, ShopifyUnavailable) as error:
        raise UpstreamUnavailable(f"{shop.shop_id} could not confirm the variant: {error}") from error
    except ShopifyError as error:
        raise UnprocessableRequest(f"{shop.shop_id} refused the variant lookup: {error}") from error
    variant = response.data_at(("productVariant",))
    if variant is None:
        raise UnprocessableRequest(f"variant {request.shopify_variant_id} does not exist in {shop.shop_id}")
    actual_product = variant["product"]["id"]
    if actual_product != request.shopify_product_id:
        raise UnprocessableRequest(
            f"variant {request.shopify_variant_id} belongs to product {actual_product} in {shop.shop_id}, "
            f"not to {request.shopify_product_id}"
        )
    actual_item = (variant.get("inventoryItem") or {}).get("id")
    if request.inventory_item_id is not None and request.inventory_item_id != actual_item:
        raise UnprocessableRequest(
            f"variant {request.shopify_variant_id} carries inventory item {actual_item} in {shop.shop_id}, "
            f"not {request.inventory_item_id}"
        )
    return str(actual_item) if actual_item else None

"""Product import from the parent store: a full load through a bulk operation, or incremental by `updated_at`.

Child stores are refused: their products are linked by the association job, never imported (HotWax's warning
"do not run Import products for child catalogs", enforced).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from shopsync.catalog.identifiers import legacy_id
from shopsync.errors import ChildStoreRefused
from shopsync.iterables import chunked
from shopsync.jobs.runner import Completed, JobContext, JobDefinition, Outcome, Suspended
from shopsync.models.catalog import CatalogProduct
from shopsync.models.jobs import JobName
from shopsync.models.shop import Shop, ShopRole
from shopsync.observability import logger
from shopsync.settings import get_settings
from shopsync.shopify import bulk
from shopsync.shopify.documents import load_document, render_bulk_products_export
from shopsync.shopify.pagination import iter_pages
from shopsync.store import catalog as catalog_store
from shopsync.store import shops as shop_store

PAGE_SIZE = 50
WRITE_CHUNK = 200


def require_parent(shop: Shop) -> None:
    if shop.role is not ShopRole.PARENT:
        raise ChildStoreRefused(JobName.PRODUCT_IMPORT.value, shop.shop_id)


def _parent_shop_only() -> list[Shop]:
    parent = shop_store.get_parent_shop()
    return [parent] if parent else []


def _variant_nodes(product: dict[str, Any]) -> list[dict[str, Any]]:
    variants = product.get("variants") or []
    return list(variants["nodes"]) if isinstance(variants, dict) else list(variants)


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def catalog_products(product: dict[str, Any]) -> list[CatalogProduct]:
    """One catalog product per variant of a Shopify product (page node or assembled bulk object)."""
    product_updated = _parse_time(product["updatedAt"])
    result = []
    for variant in _variant_nodes(product):
        variant_updated = _parse_time(variant["updatedAt"]) if variant.get("updatedAt") else product_updated
        inventory_item = variant.get("inventoryItem") or {}
        result.append(
            CatalogProduct(
                product_id=str(variant.get("legacyResourceId") or legacy_id(variant["id"])),
                shopify_product_id=product["id"],
                shopify_variant_id=variant["id"],
                inventory_item_id=inventory_item.get("id"),
                sku=variant.get("sku") or None,
                barcode=variant.get("barcode") or None,
                title=product["title"],
                variant_title=variant.get("title") or "",
                handle=product["handle"],
                status=product["status"],
                vendor=product.get("vendor") or None,
                product_type=product.get("productType") or None,
                tags=tuple(product.get("tags") or ()),
                price=variant.get("price"),
                inventory_policy=variant.get("inventoryPolicy"),
                shopify_updated_at=max(product_updated, variant_updated),
            )
        )
    return result


def _store(context: JobContext, products: Iterable[dict[str, Any]]) -> None:
    rows = [row for product in products for row in catalog_products(product)]
    result = catalog_store.upsert_products(rows, context.shop.shop_id, context.window_end)
    context.counts.add(read=len(rows), written=result.written, skipped=result.skipped)


def import_products(context: JobContext) -> Outcome:
    state = context.resume_state or {}
    mode = state.get("mode") or context.params.get("mode")
    if mode is None:
        mode = "incremental" if context.watermark else "full"
    if mode == "full":
        return _full_load(context, state)
    if mode == "incremental":
        return _incremental(context, state)
    raise ValueError(f"unknown mode {mode!r}: use 'full' or 'incremental'")


def _full_load(context: JobContext, state: dict[str, Any]) -> Outcome:
    client = context.shopify()
    operation_id = state.get("operation_id")
    if operation_id is None:
        operation_id = bulk.start_bulk_query(client, render_bulk_products_export())
        context.checkpoint({"mode": "full", "operation_id": operation_id, "roots_done": 0})
    try:
        result = bulk.poll_bulk_operation(
            client,
            operation_id,
            time_remaining_s=context.time_left_s,
            poll_interval_s=get_settings().bulk_poll_interval_s,
        )
    except bulk.BulkOperationPending:
        return Suspended({"mode": "full", "operation_id": operation_id, "roots_done": 0})
    products = bulk.assemble_bulk_objects(bulk.download_jsonl(client, result.url))
    roots_done = int(state.get("roots_done", 0))
    for chunk in chunked(products[roots_done:], WRITE_CHUNK):
        _store(context, chunk)
        roots_done += len(chunk)
        progress = {"mode": "full", "operation_id": operation_id, "roots_done": roots_done}
        if context.should_stop():
            return Suspended(progress)
        context.checkpoint(progress)
    logger.info("full load done", extra={"products": roots_done})
    return Completed(watermark=context.window_end)


def _incremental(context: JobContext, state: dict[str, Any]) -> Outcome:
    client = context.shopify()
    overlap = timedelta(seconds=get_settings().overlap_seconds)
    window_start = (context.watermark - overlap) if context.watermark else None
    terms = [f"updated_at:<='{context.window_end.isoformat()}'"]
    if window_start is not None:
        terms.insert(0, f"updated_at:>'{window_start.isoformat()}'")
    variables = {"first": PAGE_SIZE, "query": " AND ".join(terms)}
    pages = iter_pages(client, load_document("ProductsPage"), variables, ("products",), start_cursor=state.get("after"))
    for page in pages:
        _store(context, [_with_all_variants(context, product) for product in page.nodes])
        if not page.has_next_page:
            break
        progress = {"mode": "incremental", "after": page.end_cursor}
        if context.should_stop():
            return Suspended(progress)
        context.checkpoint(progress)
    return Completed(watermark=context.window_end)


def _with_all_variants(context: JobContext, product: dict[str, Any]) -> dict[str, Any]:
    """Products with more variants than a page holds get the rest from a product-scoped query."""
    variants = product["variants"]
    if not variants["pageInfo"]["hasNextPage"]:
        return product
    extra = iter_pages(
        context.shopify(),
        load_document("ProductVariantsOfProduct"),
        {"id": product["id"]},
        ("product", "variants"),
        start_cursor=variants["pageInfo"]["endCursor"],
    )
    nodes = list(variants["nodes"]) + [node for page in extra for node in page.nodes]
    return {**product, "variants": {"nodes": nodes, "pageInfo": {"hasNextPage": False, "endCursor": None}}}


PRODUCT_IMPORT = JobDefinition(
    name=JobName.PRODUCT_IMPORT,
    body=import_products,
    check_shop=require_parent,
    scheduled_shops=_parent_shop_only,
)

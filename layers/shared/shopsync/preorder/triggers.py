"""What starts a pre-order sync: table changes on the stream, the scheduled sweep, and a manual resync."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shopsync.errors import NotFound
from shopsync.jobs.clock import utc_now
from shopsync.jobs.runner import Completed, JobContext, JobDefinition, Outcome, Suspended
from shopsync.models.jobs import JobName
from shopsync.models.shop import Shop
from shopsync.preorder.sync import SyncReport, merge_reports, sync_products
from shopsync.store import catalog as catalog_store
from shopsync.store import listings as listing_store
from shopsync.store import shops as shop_store

SWEEP_CHUNK = 100
RETRIES_PER_SWEEP = 500


class UnexpectedRecord(ValueError):
    """A stream record the filter should not have let through."""


@dataclass(frozen=True)
class ProductChange:
    """What a stream record (association, membership or PO item) says about a product's listings."""

    product_id: str
    orders_moved: bool = False
    """A PO item's allocation changed: an imported order sold or gave back units, so the stores' quantities moved
    (a sale, a restock) since shopsync last pushed them."""


def changed_product(
    keys: Mapping[str, Any], old_image: Mapping[str, Any] | None = None, new_image: Mapping[str, Any] | None = None
) -> ProductChange:
    pk, sk = str(keys.get("PK", "")), str(keys.get("SK", ""))
    if not pk.startswith("PRODUCT#"):
        raise UnexpectedRecord(f"not a product item: {pk!r}")
    allocated_before, allocated_now = ((image or {}).get("allocated", 0) for image in (old_image, new_image))
    orders_moved = sk.startswith("POITEM#") and allocated_before != allocated_now
    return ProductChange(pk.removeprefix("PRODUCT#"), orders_moved)


def sync_changed(changes: Iterable[ProductChange], time_left_s: Callable[[], float]) -> SyncReport:
    """Sync the changed products; those whose store quantities orders moved read what the stores show first, so a
    restock or a sale is in the ledger before anything moves (the others trust what was last pushed)."""
    now = utc_now()
    changes = list(changes)
    read = {change.product_id for change in changes if change.orders_moved}
    trusted = {change.product_id for change in changes} - read
    report = sync_products(sorted(trusted), now=now, time_left_s=time_left_s)
    if read:
        report = merge_reports(report, sync_products(sorted(read), now=now, time_left_s=time_left_s, reconcile=True))
    return report


def resync(product_id: str, shop_id: str | None, time_left_s: Callable[[], float]) -> SyncReport:
    """POST /products/{id}/sync: push this product now (one store or all), reading what the stores show first."""
    if catalog_store.get_product(product_id) is None:
        raise NotFound(f"product {product_id} is not in the catalog", product_id=product_id)
    if shop_id is not None and shop_store.get_shop(shop_id) is None:
        raise NotFound(f"shop {shop_id} is not registered", shop_id=shop_id)
    return sync_products([product_id], now=utc_now(), time_left_s=time_left_s, only_shop=shop_id, reconcile=True)


def sweep_store(context: JobContext) -> Outcome:
    """Retry the store's failed and pending listings whose backoff ran out, then reconcile its pushed listings
    with what Shopify shows (manual edits are repaired, sales are taken into the quantity ledger)."""
    shop_id = context.shop.shop_id
    state = context.resume_state or {}
    if "after" not in state:
        due = [p for p, s in listing_store.due_for_retry(context.window_end, RETRIES_PER_SWEEP) if s == shop_id]
        _sync_into(context, due)
    pushed = [p for p, s in listing_store.pushed_listings() if s == shop_id and p > state.get("after", "")]
    for start in range(0, len(pushed), SWEEP_CHUNK):
        chunk = pushed[start : start + SWEEP_CHUNK]
        _sync_into(context, chunk)
        if context.should_stop():
            return Suspended({"after": chunk[-1]})
    return Completed(watermark=context.window_end)


def _sync_into(context: JobContext, product_ids: list[str]) -> None:
    if not product_ids:
        return
    report = sync_products(
        product_ids, now=utc_now(), time_left_s=context.time_left_s, only_shop=context.shop.shop_id, reconcile=True
    )
    context.counts.add(read=len(product_ids), written=len(report.pushed), skipped=len(report.unchanged))
    for listing, error in report.failed.items():
        context.record_failure(listing, error)


def _any_store(shop: Shop) -> None:
    """Every registered store has listings to sweep, parent and children alike."""


PREORDER_SWEEP = JobDefinition(
    name=JobName.PREORDER_SWEEP,
    body=sweep_store,
    check_shop=_any_store,
    scheduled_shops=shop_store.list_shops,
)

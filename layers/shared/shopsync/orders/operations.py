"""What the operator does with orders through the API: list failed records, re-import one order after fixing it in
Shopify (HotWax "Import Shopify Orders" by id), refresh an imported order (HotWax "Refresh Order")."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from itertools import islice

from shopsync.errors import NotFound, UnprocessableRequest
from shopsync.jobs.clock import utc_now
from shopsync.jobs.runner import shop_client
from shopsync.models.orders import (
    FailedOrder,
    FailureReason,
    ImportOutcome,
    OrderDetail,
    OrderImportResult,
    split_order_id,
)
from shopsync.models.shop import Shop
from shopsync.orders.importer import OrderImporter, fetch_order
from shopsync.store import orders as order_store
from shopsync.store import shops as shop_store


def _shop(shop_id: str) -> Shop:
    shop = shop_store.get_shop(shop_id)
    if shop is None:
        raise NotFound(f"shop {shop_id} is not registered", shop_id=shop_id)
    return shop


def import_order(shop_id: str, shopify_order_id: str, time_left_s: Callable[[], float]) -> OrderImportResult:
    """Read the order from Shopify now and import it; an order that still fails keeps its (updated) failed record
    and is refused with every reason."""
    shop = _shop(shop_id)
    with shop_client(shop, time_left_s) as client:
        node = fetch_order(client, shopify_order_id)
    (result,) = OrderImporter(shop, utc_now).import_nodes([node], force=True)
    if result.outcome is ImportOutcome.FAILED:
        reasons = "; ".join(problem.message for problem in result.problems)
        raise UnprocessableRequest(
            f"order {result.order_id} still fails: {reasons}",
            order_id=result.order_id,
            problems=[problem.model_dump(mode="json") for problem in result.problems],
        )
    return result


def refresh_order(order_id: str, time_left_s: Callable[[], float]) -> OrderImportResult:
    """Re-read an imported (or failed) order; when Shopify's differs, it becomes a new version and the current one is
    cancelled with the tag `Old Version`."""
    order_detail(order_id)
    shop_id, order_legacy_id = split_order_id(order_id)
    return import_order(shop_id, order_legacy_id, time_left_s)


def order_detail(order_id: str) -> OrderDetail:
    try:
        detail = order_store.get_order_detail(order_id)
    except ValueError as error:
        raise NotFound(str(error), order_id=order_id) from error
    if detail is None:
        raise NotFound(f"order {order_id} has not been imported", order_id=order_id)
    return detail


def failed_orders(
    shop_id: str | None, reason: FailureReason | None, since: datetime | None, limit: int
) -> list[FailedOrder]:
    """Open failed records, most recent first; all stores when no store is given."""
    shop_ids = [_shop(shop_id).shop_id] if shop_id else [shop.shop_id for shop in shop_store.list_shops()]
    found = [
        failure
        for one_shop in shop_ids
        for failure in islice(order_store.open_failures(one_shop, since=since, reason=reason), limit)
    ]
    found.sort(key=lambda failure: failure.last_failed_at, reverse=True)
    return found[:limit]

"""Order import job (HotWax "Import Orders" + "Update orders", hotwax-domain.md §5.1), per store, parent and
children alike: orders created or updated since the watermark, then the failed records whose retry is due.

Window: `updated_at` after (watermark - overlap) up to the run's start, oldest change first, cursor pages saved after
each page. The overlap re-reads a few minutes; the importer's dedupe (Shopify id + updatedAt) makes that free of
writes. An order changed in Shopify after its import (a POS sale fulfilled later) comes back through this window and
becomes a new version, so nothing stays stuck in Created. Webhooks import the same orders sooner; this job is the
safety net for deliveries Shopify dropped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from shopsync.errors import NotFound
from shopsync.jobs.clock import utc_now
from shopsync.jobs.runner import Completed, JobContext, JobDefinition, Outcome, Suspended
from shopsync.models.jobs import JobName
from shopsync.models.orders import FailedOrder, ImportOutcome, OrderImportResult
from shopsync.models.shop import Shop
from shopsync.orders.importer import OrderImporter, fetch_order, with_all_lines
from shopsync.settings import get_settings
from shopsync.shopify.documents import load_document
from shopsync.shopify.pagination import iter_pages
from shopsync.store import orders as order_store
from shopsync.store import shops as shop_store

PAGE_SIZE = 50
RETRIES_PER_RUN = 50


def _search_time(moment: datetime) -> str:
    """Shopify keeps whole seconds; the overlap covers the rounding."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def orders_query(watermark: datetime | None, window_end: datetime, overlap: timedelta) -> str:
    terms = [f"updated_at:<='{_search_time(window_end)}'"]
    if watermark is not None:
        terms.insert(0, f"updated_at:>'{_search_time(watermark - overlap)}'")
    return " AND ".join(terms)


def count_results(context: JobContext, results: Iterable[OrderImportResult]) -> None:
    for result in results:
        context.counts.add(read=1)
        if result.outcome in (ImportOutcome.IMPORTED, ImportOutcome.NEW_VERSION):
            context.counts.add(written=1)
        elif result.outcome is ImportOutcome.FAILED:
            context.record_failure(result.order_id, "; ".join(problem.message for problem in result.problems))
        else:
            context.counts.add(skipped=1)


def import_orders(context: JobContext) -> Outcome:
    state = context.resume_state or {}
    importer = OrderImporter(context.shop, utc_now)
    if state.get("phase") != "retries":
        query = orders_query(context.watermark, context.window_end, timedelta(seconds=get_settings().overlap_seconds))
        variables = {"first": PAGE_SIZE, "query": query}
        client = context.shopify()
        pages = iter_pages(client, load_document("OrdersPage"), variables, ("orders",), start_cursor=state.get("after"))
        for page in pages:
            # An order with more lines than the page holds is read whole before it is imported.
            count_results(context, importer.import_nodes(with_all_lines(client, node) for node in page.nodes))
            if not page.has_next_page:
                break
            progress = {"phase": "orders", "after": page.end_cursor}
            if context.should_stop():
                return Suspended(progress)
            context.checkpoint(progress)
    if context.should_stop():
        return Suspended({"phase": "retries"})
    retry_failed(context, importer)
    return Completed(watermark=context.window_end)


def retry_failed(context: JobContext, importer: OrderImporter) -> None:
    """Failed records whose backoff ran out, re-read from Shopify and imported again (bounded per run: what is left
    is due in the next run)."""
    for failure in order_store.due_failures(context.shop.shop_id, context.window_end, RETRIES_PER_RUN):
        if context.should_stop():
            return
        count_results(context, importer.import_nodes([_current_node(context, failure)], force=True))


def _current_node(context: JobContext, failure: FailedOrder) -> dict[str, Any]:
    """The order as Shopify has it now; when Shopify no longer shows it, the stored node (failing again counts the
    attempt, so the record runs out of retries instead of being retried forever)."""
    try:
        return fetch_order(context.shopify(), failure.shopify_order_id)
    except NotFound:
        node: dict[str, Any] = json.loads(failure.raw_payload)
        return node


def _any_store(shop: Shop) -> None:
    """Orders are imported from every store, parent and children alike."""


ORDER_IMPORT = JobDefinition(
    name=JobName.ORDER_IMPORT,
    body=import_orders,
    check_shop=_any_store,
    scheduled_shops=shop_store.list_shops,
)

"""One code path for every way an order arrives: the import job's pages, re-import by id, refresh, webhook deliveries
and failed-record retries.

Per order: an older read than what is stored is ignored; the same Shopify `updatedAt` (or the same content) writes
nothing; an order that fails validation is stored as a failed record with every reason and its raw node; otherwise
its pre-order lines settle their PO allocations and the order is stored as a new version (the previous one is
cancelled with the tag `Old Version`), resolving its failed record in the same transaction.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from shopsync.catalog.identifiers import legacy_id, normalize_sku
from shopsync.errors import NotFound
from shopsync.models.orders import (
    FailedOrder,
    FailureReason,
    ImportOutcome,
    OrderImportResult,
    OrderLine,
    OrderProblem,
    OrderStatus,
    OrderVersion,
    PresellSource,
    ShopifyOrder,
    ShopifyOrderLine,
    order_id_for,
)
from shopsync.models.presell import PresellCategory
from shopsync.models.shop import IdentifierType, Shop, ShopRole
from shopsync.observability import logger
from shopsync.orders.allocation import hold_after, plan_allocation, wanted_units
from shopsync.orders.node import ORDER_GID_PATTERN
from shopsync.orders.rules import (
    LineMatch,
    OrderRead,
    ambiguous_sku,
    line_presell,
    order_status,
    raw_payload,
    read_order,
    unknown_variant,
    validate,
)
from shopsync.settings import get_settings
from shopsync.shopify.client import ShopifyClient
from shopsync.shopify.documents import load_document
from shopsync.shopify.errors import ShopifyGraphQLError, ShopifyNotFound
from shopsync.shopify.pagination import iter_pages
from shopsync.store import allocations as allocation_store
from shopsync.store import associations as association_store
from shopsync.store import catalog as catalog_store
from shopsync.store import listings as listing_store
from shopsync.store import orders as order_store
from shopsync.store import presell as presell_store
from shopsync.store import table

# Shopify keeps whole seconds: an order read in the second of its updatedAt may change again within that second
# without a new updatedAt. Only a read clearly after it (allowing for clock skew) proves the data settled.
SETTLED_AFTER = timedelta(seconds=5)
# Concurrent importers of one order (a webhook and the job) lose a conditional write; this many fresh tries each.
MAX_WRITE_ATTEMPTS = 3
# The most lines one page of a connection may hold (reference §2); OrdersPage and OrderById read the first 100.
LINES_PAGE_SIZE = 250
_ORDER_GID = re.compile(ORDER_GID_PATTERN)


class ConcurrentUpdate(Exception):
    """Another import kept winning the conditional write; the failed record makes the job try again later."""


def _settled(shopify_updated_at: datetime, read_at: datetime) -> bool:
    return read_at >= shopify_updated_at + SETTLED_AFTER


def order_gid(order_legacy_id: str) -> str:
    return f"gid://shopify/Order/{order_legacy_id}"


def fetch_order(client: ShopifyClient, shopify_order_id: str) -> dict[str, Any]:
    """The order node by GID or numeric id (`order(id:)`) with every line; NotFound when Shopify no longer shows
    it."""
    gid = shopify_order_id if shopify_order_id.startswith("gid://") else order_gid(shopify_order_id)
    node = client.execute(load_document("OrderById"), {"id": gid}).data_at(("order",))
    if not isinstance(node, dict):
        raise NotFound(f"Shopify has no order {gid} (deleted, or older than the 60 days an app may read)", order=gid)
    return with_all_lines(client, node)


def _remaining_lines_cursor(node: Any) -> str | None:
    """Where the node's lines go on, when it says there are more and names the order and cursor to read them by."""
    line_items = node.get("lineItems") if isinstance(node, dict) else None
    if not isinstance(line_items, dict):
        return None
    page_info = line_items.get("pageInfo")
    if not (isinstance(page_info, dict) and page_info.get("hasNextPage") is True):
        return None
    cursor, gid = page_info.get("endCursor"), node.get("id")
    readable = isinstance(gid, str) and _ORDER_GID.fullmatch(gid) and isinstance(line_items.get("nodes"), list)
    return cursor if readable and isinstance(cursor, str) else None


def with_all_lines(client: ShopifyClient, node: Any) -> Any:
    """The node as if its first page of lines had held them all: the lines past it are read with OrderLineItemsPage,
    so an order with up to 100 lines costs no extra call.

    Given back as it is when there is nothing more to read, when it names no order or cursor to read by (the parser
    reports that), or when Shopify will not return the rest (the order was deleted meanwhile, a refused cursor): its
    hasNextPage then makes it fail as incomplete rather than import in part. An edit between the two reads has a later
    updatedAt than the node, so the next window reads the order again, whole."""
    cursor = _remaining_lines_cursor(node)
    if cursor is None:
        return node
    lines = list(node["lineItems"]["nodes"])
    variables = {"id": node["id"], "first": LINES_PAGE_SIZE}
    try:
        for page in iter_pages(
            client, load_document("OrderLineItemsPage"), variables, ("order", "lineItems"), start_cursor=cursor
        ):
            lines.extend(page.nodes)
            cursor = page.end_cursor or cursor
    except (ShopifyNotFound, ShopifyGraphQLError) as error:
        logger.warning(
            "the order's remaining lines could not be read", extra={"order": node["id"], "error": str(error)}
        )
        return node
    line_items = node["lineItems"]
    page_info = {**line_items["pageInfo"], "hasNextPage": False, "endCursor": cursor}
    return {**node, "lineItems": {**line_items, "pageInfo": page_info, "nodes": lines}}


# --- catalog lookups, batched per page ----------------------------------------------------------------------------


@dataclass
class CatalogLookup:
    """Each line's catalog product and the pre-sell signals of those products in one store."""

    matches: dict[str, LineMatch] = field(default_factory=dict)
    categories: dict[str, PresellCategory] = field(default_factory=dict)
    listing_tags: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, shop: Shop, lines: Sequence[ShopifyOrderLine]) -> CatalogLookup:
        lookup = cls(matches=_match_lines(shop, lines))
        product_ids = {match.product_id for match in lookup.matches.values() if match.product_id}
        for product_id, membership in presell_store.memberships(product_ids).items():
            if membership.category is not None:
                lookup.categories[product_id] = membership.category
        for product_id, state in listing_store.states_in_shop(product_ids, shop.shop_id).items():
            if state.listed and state.pushed and state.pushed.tag:
                lookup.listing_tags[product_id] = state.pushed.tag
        return lookup

    def presell(self, line: ShopifyOrderLine) -> tuple[PresellCategory | None, tuple[PresellSource, ...]]:
        product_id = self.matches[line.line_id].product_id or ""
        return line_presell(line, self.categories.get(product_id), self.listing_tags.get(product_id))


def _variant_products(shop: Shop, variant_legacy_ids: set[str]) -> dict[str, str]:
    """Variant legacy id → catalog product for the store's own variants: the parent's variant ids are the catalog's
    product ids; a child's variants carry the product the association job (or the operator) linked them to."""
    if shop.role is ShopRole.PARENT:
        return {product_id: product_id for product_id in presell_store.existing_products(variant_legacy_ids)}
    variants = association_store.get_store_variants(shop.shop_id, variant_legacy_ids)
    return {i: v.linked_product_id for i, v in variants.items() if v.linked_product_id}


def _match_lines(shop: Shop, lines: Sequence[ShopifyOrderLine]) -> dict[str, LineMatch]:
    linked = _variant_products(shop, {legacy_id(line.variant_id) for line in lines if line.variant_id})
    by_sku: dict[str, list[str]] = {}
    matches = {}
    for line in lines:
        product_id = linked.get(legacy_id(line.variant_id)) if line.variant_id else None
        sku = normalize_sku(line.sku)
        if product_id is None and sku is not None:
            if sku not in by_sku:
                by_sku[sku] = catalog_store.product_ids_by_identifier(IdentifierType.SKU, sku)
            candidates = by_sku[sku]
            if len(candidates) > 1:
                matches[line.line_id] = LineMatch(None, ambiguous_sku(line, candidates))
                continue
            product_id = candidates[0] if candidates else None
        matches[line.line_id] = LineMatch(product_id, None if product_id else unknown_variant(line))
    return matches


# --- the importer -------------------------------------------------------------------------------------------------


class OrderImporter:
    """Imports order nodes of one store. `force` re-evaluates orders whose Shopify data did not change (retries,
    operator re-imports): a product linked since, or a failure on shopsync's side, may let them through now."""

    def __init__(self, shop: Shop, now: Callable[[], datetime]) -> None:
        self.shop = shop
        self.now = now

    def import_nodes(self, nodes: Iterable[Any], *, force: bool = False) -> list[OrderImportResult]:
        """Nodes as read from Shopify (with every line: `with_all_lines`), or whatever a payload held: a node that
        cannot be read is recorded as failing with every unreadable field and kept whole."""
        reads = [read_order(node) for node in nodes]
        stored = order_store.stored_orders(self.shop.shop_id, [read.legacy_id for read in reads])
        pending = [force or self._is_new(read, stored[read.legacy_id]) for read in reads]
        lines = [
            line for read, todo in zip(reads, pending, strict=True) if todo and read.order for line in read.order.lines
        ]
        lookup = CatalogLookup.build(self.shop, lines)
        return [
            self._import_with_retries(read, stored[read.legacy_id], lookup, force)
            if todo
            else self._unchanged(read, stored[read.legacy_id])
            for read, todo in zip(reads, pending, strict=True)
        ]

    def _is_new(self, read: OrderRead, stored: order_store.StoredOrder) -> bool:
        """False for data older than what is stored, and for data already imported or already recorded as failing."""
        if read.order is None:
            return True  # unreadable: it is recorded as failing again
        updated_at = read.order.updated_at
        head, failure = stored.head, stored.failure
        if head is not None and updated_at < head.shopify_updated_at:
            return False
        if failure is not None:
            return failure.shopify_updated_at != updated_at or not _settled(updated_at, failure.last_failed_at)
        return head is None or updated_at > head.shopify_updated_at or not _settled(updated_at, head.updated_at)

    def _unchanged(self, read: OrderRead, stored: order_store.StoredOrder) -> OrderImportResult:
        order_id = order_id_for(self.shop.shop_id, read.legacy_id)
        head = stored.head
        stale = head is not None and read.order is not None and read.order.updated_at < head.shopify_updated_at
        return OrderImportResult(
            order_id=order_id,
            outcome=ImportOutcome.STALE if stale else ImportOutcome.UNCHANGED,
            version=head.version if head else None,
            status=head.status if head else None,
            problems=stored.failure.problems if stored.failure else [],
        )

    def _import_with_retries(
        self, read: OrderRead, stored: order_store.StoredOrder, lookup: CatalogLookup, force: bool
    ) -> OrderImportResult:
        for _ in range(MAX_WRITE_ATTEMPTS):
            try:
                return self._import(read, stored, lookup, force)
            except order_store.VersionConflict:
                stored = order_store.stored_orders(self.shop.shop_id, [read.legacy_id])[read.legacy_id]
            except ConcurrentUpdate as conflict:
                return self._concurrency_failure(read, stored, str(conflict), force)
        return self._concurrency_failure(read, stored, "other imports of this order kept winning", force)

    def _concurrency_failure(
        self, read: OrderRead, stored: order_store.StoredOrder, message: str, retry: bool
    ) -> OrderImportResult:
        """Recorded like a validation failure, so the job's retries pick the order up again."""
        problem = OrderProblem(reason=FailureReason.IMPORT_ERROR, message=message)
        return self._fail(read, stored.failure, [problem], retry=retry)

    def _import(
        self, read: OrderRead, stored: order_store.StoredOrder, lookup: CatalogLookup, force: bool
    ) -> OrderImportResult:
        order = read.order
        if order is None:
            return self._fail(read, stored.failure, read.problems, retry=force)
        head = stored.head
        stale = head is not None and order.updated_at < head.shopify_updated_at
        if stale or (not force and not self._is_new(read, stored)):
            return self._unchanged(read, stored)
        problems = validate(order, {line.line_id: lookup.matches[line.line_id] for line in order.lines})
        if problems:
            return self._fail(read, stored.failure, problems, retry=force)
        order_id = order_id_for(self.shop.shop_id, order.legacy_id)
        content_hash = order.content_hash()
        if head is not None and head.content_hash == content_hash:
            if stored.failure is not None:
                order_store.resolve_failure(self.shop.shop_id, order.legacy_id, self.now())
            return OrderImportResult(
                order_id=order_id, outcome=ImportOutcome.UNCHANGED, version=head.version, status=head.status
            )
        status = order_status(order)
        lines, holds_allocations = self._settle_lines(order, status, lookup, head)
        version = OrderVersion(
            order_id=order_id,
            shop_id=self.shop.shop_id,
            version=head.version + 1 if head else 1,
            status=status,
            order=order,
            lines=lines,
            content_hash=content_hash,
            imported_at=self.now(),
        )
        order_store.save_version(
            version, head, holds_allocations=holds_allocations, resolve_failure=stored.failure is not None
        )
        logger.info("order imported", extra={"order_id": order_id, "version": version.version, "status": status.value})
        return OrderImportResult(
            order_id=order_id,
            outcome=ImportOutcome.NEW_VERSION if head else ImportOutcome.IMPORTED,
            version=version.version,
            status=status,
        )

    # --- allocations

    def _settle_lines(
        self, order: ShopifyOrder, status: OrderStatus, lookup: CatalogLookup, head: order_store.OrderHead | None
    ) -> tuple[tuple[OrderLine, ...], bool]:
        flags = {line.line_id: lookup.presell(line) for line in order.lines}
        may_hold = head is not None and head.holds_allocations
        held = (
            allocation_store.held_allocations(self.shop.shop_id, order.legacy_id)
            if may_hold or any(category for category, _ in flags.values())
            else {}
        )
        lines = []
        for line in order.lines:
            category, sources = flags[line.line_id]
            product_id = lookup.matches[line.line_id].product_id or ""
            previous = held.get(line.line_id)
            wanted = wanted_units(
                status, line.current_quantity, category is not None, previous.units if previous else 0
            )
            if wanted or previous:
                settled = self._settle_line(order, line.line_id, previous, product_id, wanted)
                held[line.line_id] = settled
                allocations, unallocated = settled.allocations, settled.unallocated
            else:
                allocations, unallocated = (), 0
            lines.append(
                OrderLine(
                    line_id=line.line_id,
                    product_id=product_id,
                    presell=category,
                    presell_sources=sources,
                    allocations=allocations,
                    unallocated=unallocated,
                )
            )
        return tuple(lines), bool(held)

    def _settle_line(
        self,
        order: ShopifyOrder,
        line_id: str,
        previous: allocation_store.HeldAllocation | None,
        product_id: str,
        wanted: int,
    ) -> allocation_store.HeldAllocation:
        for _ in range(MAX_WRITE_ATTEMPTS):
            # Units go back to the product they were taken from, even if the line now resolves to another.
            owner = previous.product_id if previous else product_id
            po_items = presell_store.product_state(owner).po_items
            now = self.now()
            plan = plan_allocation(previous.allocations if previous else (), wanted, po_items, now.date())
            settled = allocation_store.HeldAllocation(
                line_id=line_id, product_id=owner, allocations=plan.allocations, unallocated=plan.unallocated
            )
            if previous and (previous.allocations, previous.unallocated) == (settled.allocations, settled.unallocated):
                return previous
            try:
                allocation_store.save_allocation(
                    self.shop.shop_id,
                    order.legacy_id,
                    previous=previous,
                    updated=settled,
                    deltas=plan.deltas,
                    po_items={item.ref: item for item in po_items},
                    hold=self._hold_change(owner, order.created_at, sum(plan.deltas.values())),
                    now=now,
                )
                return settled
            except table.TransactionConflict:
                previous = allocation_store.held_allocations(self.shop.shop_id, order.legacy_id).get(line_id)
        raise ConcurrentUpdate(f"PO allocation of line {line_id} kept conflicting")

    def _hold_change(
        self, product_id: str, order_created_at: datetime, units_delta: int
    ) -> allocation_store.HoldChange | None:
        if units_delta == 0:
            return None
        state, hold = listing_store.listing_and_hold(product_id, self.shop.shop_id)
        updated = hold_after(hold, state.listed_since if state else None, order_created_at, units_delta)
        return allocation_store.HoldChange(seen=hold, updated=updated) if updated else None

    # --- failed records

    def _fail(
        self, read: OrderRead, previous: FailedOrder | None, problems: Sequence[OrderProblem], *, retry: bool
    ) -> OrderImportResult:
        """Record the failure. Only a retry (or a changed order) counts an attempt: re-reading the same data in an
        overlapping window writes nothing."""
        settings = get_settings()
        now = self.now()
        updated_at = read.order.updated_at if read.order else None
        same_data = previous is not None and previous.shopify_updated_at == updated_at
        if previous is not None and same_data and not retry and previous.problems == list(problems):
            return OrderImportResult(
                order_id=previous.order_id, outcome=ImportOutcome.UNCHANGED, problems=previous.problems
            )
        attempts = previous.attempts + 1 if previous is not None and same_data else 1
        retry_in = timedelta(minutes=settings.order_retry_base_minutes * 2 ** (attempts - 1))
        # A node naming no order has nothing to re-read: it waits for the operator.
        retryable = attempts < settings.order_retry_max_attempts and read.shopify_order_id is not None
        failure = FailedOrder(
            order_id=order_id_for(self.shop.shop_id, read.legacy_id),
            shop_id=self.shop.shop_id,
            shopify_order_id=read.shopify_order_id or order_gid(read.legacy_id),
            name=read.name,
            problems=list(problems),
            raw_payload=raw_payload(read.node),
            shopify_updated_at=updated_at,
            first_failed_at=previous.first_failed_at if previous else now,
            last_failed_at=now,
            attempts=attempts,
            next_attempt_at=now + retry_in if retryable else None,
        )
        order_store.save_failure(failure)
        logger.info(
            "order failed validation",
            extra={"order_id": failure.order_id, "reasons": [r.value for r in failure.reasons], "attempts": attempts},
        )
        return OrderImportResult(order_id=failure.order_id, outcome=ImportOutcome.FAILED, problems=list(problems))

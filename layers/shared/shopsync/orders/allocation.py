"""Pre-order lines take PO ATP first-in first-out by arrival date (DESIGN §5, hotwax-domain.md §5.2), as pure
functions over what a line holds and the product's PO items.

- A line wants its current quantity while the order is open and the line is a pre-order/back-order line (or already
  holds units: a line keeps what it took even after the product leaves the pre-sell catalog, which its own
  allocation may have caused). A cancelled order wants nothing: the units go back. A completed order keeps what it
  holds and takes nothing new (its goods left already).
- Taking: open PO items (created/approved) arriving today or later with ATP > 0, earliest arrival first (ties by
  external id, item id: the order the catalog refresh uses). A line spills over several items when one is short;
  what no item can promise stays `unallocated`.
- Giving back: the latest arrivals first, so the line keeps its earliest promise.
- Units held on a PO item that no longer exists (the PO line moved to another product) are forgotten.
- The store the order came from counts the units its orders hold within its current listing (`StoreHold`), so the
  pre-order sync does not count a sale twice: once as gone from the store's `available`, once as gone from the PO
  ATP. Orders placed before the current listing began are not counted: their sale is not in its `granted`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from shopsync.models.listing import StoreHold
from shopsync.models.orders import LineAllocation, OrderStatus
from shopsync.models.presell import POItemRef, PurchaseOrderItem


@dataclass(frozen=True)
class AllocationPlan:
    allocations: tuple[LineAllocation, ...]
    unallocated: int
    deltas: dict[POItemRef, int]
    """Units taken (+) or given back (-) per PO item; empty when nothing changes."""


def wanted_units(status: OrderStatus, current_quantity: int, flagged: bool, held: int) -> int:
    if status is OrderStatus.CANCELLED:
        return 0
    if status is OrderStatus.COMPLETED:
        return min(held, current_quantity)
    return current_quantity if flagged or held else 0


def _fifo_key(item: PurchaseOrderItem) -> tuple[date, str, str]:
    return (item.arrival_date, item.external_id, item.item_id)


def plan_allocation(
    held: Sequence[LineAllocation], wanted: int, po_items: Sequence[PurchaseOrderItem], today: date
) -> AllocationPlan:
    items = {item.ref: item for item in po_items}
    quantities = {a.po_item: a.quantity for a in held if a.po_item in items}
    deltas: dict[POItemRef, int] = {}
    excess = sum(quantities.values()) - wanted
    for ref in sorted(quantities, key=lambda ref: _fifo_key(items[ref]), reverse=True):
        if excess <= 0:
            break
        given_back = min(quantities[ref], excess)
        quantities[ref] -= given_back
        deltas[ref] = -given_back
        excess -= given_back
    shortfall = -excess
    for item in sorted(po_items, key=_fifo_key):
        if shortfall <= 0:
            break
        if not item.status.is_open or item.arrival_date < today or item.atp <= 0:
            continue
        taken = min(item.atp, shortfall)
        quantities[item.ref] = quantities.get(item.ref, 0) + taken
        deltas[item.ref] = taken
        shortfall -= taken
    allocations = tuple(
        LineAllocation(po_item=ref, quantity=quantity, promise_date=items[ref].arrival_date)
        for ref, quantity in sorted(quantities.items(), key=lambda entry: _fifo_key(items[entry[0]]))
        if quantity > 0
    )
    return AllocationPlan(allocations=allocations, unallocated=max(0, shortfall), deltas=deltas)


def hold_after(
    hold: StoreHold | None, listed_since: datetime | None, order_created_at: datetime, units_delta: int
) -> StoreHold | None:
    """The store's hold once a line of an order placed at `order_created_at` took (+) or gave back (-) units; None
    when the hold does not change (nothing moved, the product is not listed there, or the sale predates it)."""
    # Shopify's createdAt has whole seconds: an order of the listing's first second counts (it cannot be older).
    if units_delta == 0 or listed_since is None or order_created_at < listed_since.replace(microsecond=0):
        return None
    current = hold.units if hold is not None and hold.listed_since == listed_since else 0
    return StoreHold(listed_since=listed_since, units=max(0, current + units_delta))

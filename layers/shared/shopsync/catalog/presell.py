"""The pre-sell rules (DESIGN §5, HotWax "Auto Refresh Pre-sell Catalog"), as pure functions.

- PO ATP = Σ (quantity - allocated) over open (created/approved) items arriving today or later. Items whose arrival
  date passed are stock that should already be on hand, so they promise nothing to pre-sell.
- Eligible when PO ATP > 0 and online ATP ≤ 0 (no inventory record = nothing to sell online).
- Active PO item = the earliest arrival date ≥ today among open items with ATP > 0 (ties: lowest external id, then
  item id, so the choice is stable). Its isNewProduct picks the category: Y → pre-order, N → back-order; its
  arrival date is the promise date and it is recorded as the decision reason.
- A member that is no longer eligible is removed with the first cause that applies: in stock; else what happened
  to the PO item that made it a member (cancelled/completed, arrival passed, ATP used up); else what the remaining
  items say.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from shopsync.models.presell import (
    InventoryLevel,
    Membership,
    POItemRef,
    PresellCategory,
    PurchaseOrderItem,
    RemovalCause,
)


class Action(StrEnum):
    ADD = "ADD"
    KEEP = "KEEP"
    SWITCH = "SWITCH"
    REMOVE = "REMOVE"
    NONE = "NONE"


@dataclass(frozen=True)
class Decision:
    action: Action
    membership: Membership | None
    """The membership to store; None only when the product never was a member and still is not."""
    cause: RemovalCause | None = None


def _promising(items: Sequence[PurchaseOrderItem], today: date) -> list[PurchaseOrderItem]:
    return [item for item in items if item.status.is_open and item.arrival_date >= today]


def po_atp(items: Sequence[PurchaseOrderItem], today: date) -> int:
    return sum(item.atp for item in _promising(items, today))


def active_po_item(items: Sequence[PurchaseOrderItem], today: date) -> PurchaseOrderItem | None:
    candidates = [item for item in _promising(items, today) if item.atp > 0]
    return min(candidates, key=lambda item: (item.arrival_date, item.external_id, item.item_id), default=None)


def _category(item: PurchaseOrderItem) -> PresellCategory:
    return PresellCategory.PRE_ORDER if item.is_new_product else PresellCategory.BACKORDER


def _cause_from_item(item: PurchaseOrderItem, today: date) -> RemovalCause | None:
    if not item.status.is_open:
        return RemovalCause.PO_CANCELLED_OR_COMPLETED
    if item.arrival_date < today:
        return RemovalCause.ARRIVAL_PASSED
    if item.atp == 0:
        return RemovalCause.PO_ATP_USED_UP
    return None


def removal_cause(
    items: Sequence[PurchaseOrderItem],
    online_atp: int,
    decided_by: POItemRef | None,
    today: date,
) -> RemovalCause:
    """Why a product is not eligible (meaningful only when it is not)."""
    if online_atp > 0:
        return RemovalCause.IN_STOCK
    deciding = next((item for item in items if item.ref == decided_by), None)
    if deciding is not None and (cause := _cause_from_item(deciding, today)):
        return cause
    if _promising(items, today):
        return RemovalCause.PO_ATP_USED_UP
    if any(item.status.is_open for item in items):
        return RemovalCause.ARRIVAL_PASSED
    if items:
        return RemovalCause.PO_CANCELLED_OR_COMPLETED
    return RemovalCause.NO_ACTIVE_PO


def decide(
    product_id: str,
    current: Membership | None,
    items: Sequence[PurchaseOrderItem],
    *,
    inventory: InventoryLevel | None,
    today: date,
    now: datetime,
) -> Decision:
    """What the refresh does with one product. The returned membership equals `current` when nothing changed, so
    the caller can skip the write."""
    online_atp = inventory.online_atp if inventory else 0
    total_atp = po_atp(items, today)
    active = active_po_item(items, today)
    member = current if current is not None and current.is_member else None
    if active is None or online_atp > 0:
        if member is None:
            return Decision(Action.NONE, current)
        cause = removal_cause(items, online_atp, member.decision_po_item, today)
        removed = Membership(product_id=product_id, category=None, po_atp=total_atp, removal_cause=cause, since=now)
        return Decision(Action.REMOVE, removed, cause)
    category = _category(active)
    same_category = member is not None and member.category is category
    membership = Membership(
        product_id=product_id,
        category=category,
        promise_date=active.arrival_date,
        po_atp=total_atp,
        decision_po_item=active.ref,
        since=member.since if member is not None and same_category else now,
    )
    if same_category:
        return Decision(Action.KEEP, membership)
    return Decision(Action.ADD if member is None else Action.SWITCH, membership)

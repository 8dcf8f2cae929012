"""FIFO allocation of PO ATP to pre-order lines, and giving it back."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from shopsync.models.listing import StoreHold
from shopsync.models.orders import LineAllocation, OrderStatus
from shopsync.models.presell import POItemRef, POItemStatus, PurchaseOrderItem
from shopsync.orders.allocation import hold_after, plan_allocation, wanted_units

TODAY = date(2026, 11, 2)


def po_item(
    external_id: str,
    arrival: date,
    quantity: int,
    allocated: int = 0,
    status: POItemStatus = POItemStatus.APPROVED,
) -> PurchaseOrderItem:
    return PurchaseOrderItem(
        external_id=external_id,
        item_id="1",
        product_id="101",
        sku="SKU",
        quantity=quantity,
        arrival_date=arrival,
        is_new_product=True,
        status=status,
        allocated=allocated,
        updated_at=datetime(2026, 11, 1, tzinfo=UTC),
    )


def ref(external_id: str) -> POItemRef:
    return POItemRef(external_id=external_id, item_id="1")


EARLY = po_item("PO-1", date(2026, 12, 1), 5, allocated=3)
LATE = po_item("PO-2", date(2027, 1, 15), 10)


def test_takes_from_the_earliest_arrival_and_spills_over() -> None:
    plan = plan_allocation((), 4, [LATE, EARLY], TODAY)
    assert plan.deltas == {ref("PO-1"): 2, ref("PO-2"): 2}
    assert [(a.po_item.external_id, a.quantity, a.promise_date) for a in plan.allocations] == [
        ("PO-1", 2, date(2026, 12, 1)),
        ("PO-2", 2, date(2027, 1, 15)),
    ]
    assert plan.unallocated == 0


@pytest.mark.parametrize(
    "skipped",
    [
        po_item("PO-0", date(2026, 11, 20), 5, status=POItemStatus.CANCELLED),
        po_item("PO-0", date(2026, 11, 20), 5, status=POItemStatus.COMPLETED),
        po_item("PO-0", date(2026, 11, 1), 5),  # arrival passed
        po_item("PO-0", date(2026, 11, 20), 5, allocated=5),  # no ATP left
    ],
)
def test_skips_items_that_cannot_promise(skipped: PurchaseOrderItem) -> None:
    plan = plan_allocation((), 1, [skipped, LATE], TODAY)
    assert plan.deltas == {ref("PO-2"): 1}


def test_what_no_item_can_promise_stays_unallocated() -> None:
    plan = plan_allocation((), 20, [EARLY, LATE], TODAY)
    assert plan.unallocated == 8
    assert sum(a.quantity for a in plan.allocations) == 12


def test_the_same_want_again_changes_nothing() -> None:
    first = plan_allocation((), 4, [EARLY, LATE], TODAY)
    taken = [
        po_item("PO-1", date(2026, 12, 1), 5, allocated=5),
        po_item("PO-2", date(2027, 1, 15), 10, allocated=2),
    ]
    again = plan_allocation(first.allocations, 4, taken, TODAY)
    assert again.deltas == {}
    assert again.allocations == first.allocations


def test_giving_back_starts_with_the_latest_arrival() -> None:
    held = (
        LineAllocation(po_item=ref("PO-1"), quantity=2, promise_date=date(2026, 12, 1)),
        LineAllocation(po_item=ref("PO-2"), quantity=2, promise_date=date(2027, 1, 15)),
    )
    plan = plan_allocation(held, 1, [EARLY, LATE], TODAY)
    assert plan.deltas == {ref("PO-2"): -2, ref("PO-1"): -1}
    assert [(a.po_item.external_id, a.quantity) for a in plan.allocations] == [("PO-1", 1)]
    assert plan_allocation(held, 0, [EARLY, LATE], TODAY).deltas == {ref("PO-2"): -2, ref("PO-1"): -2}


def test_units_on_a_po_item_that_is_gone_are_forgotten() -> None:
    held = (LineAllocation(po_item=ref("PO-9"), quantity=2, promise_date=date(2026, 12, 1)),)
    plan = plan_allocation(held, 0, [EARLY], TODAY)
    assert (plan.allocations, plan.deltas) == ((), {})


@pytest.mark.parametrize(
    ("status", "quantity", "flagged", "held", "wanted"),
    [
        (OrderStatus.CREATED, 3, True, 0, 3),
        (OrderStatus.CREATED, 3, False, 0, 0),
        (OrderStatus.CREATED, 1, False, 3, 1),  # a line keeps its units after leaving the pre-sell catalog
        (OrderStatus.CANCELLED, 3, True, 3, 0),
        (OrderStatus.COMPLETED, 3, True, 0, 0),
        (OrderStatus.COMPLETED, 3, True, 2, 2),
    ],
)
def test_wanted_units(status: OrderStatus, quantity: int, flagged: bool, held: int, wanted: int) -> None:
    assert wanted_units(status, quantity, flagged, held) == wanted


# --- the ordering store's hold ------------------------------------------------------------------------------------

LISTED = datetime(2026, 11, 2, 9, 30, 15, 600_000, tzinfo=UTC)


def test_units_taken_by_an_order_of_the_current_listing_add_to_the_store_hold():
    hold = StoreHold(listed_since=LISTED, units=2)
    assert hold_after(hold, LISTED, datetime(2026, 11, 2, 10, tzinfo=UTC), 3) == StoreHold(listed_since=LISTED, units=5)
    assert hold_after(None, LISTED, datetime(2026, 11, 2, 10, tzinfo=UTC), 3) == StoreHold(listed_since=LISTED, units=3)


def test_an_order_of_the_listing_first_second_counts_but_an_older_one_does_not():
    same_second = LISTED.replace(microsecond=0)  # Shopify's createdAt has no fraction
    assert hold_after(None, LISTED, same_second, 1) == StoreHold(listed_since=LISTED, units=1)
    assert hold_after(None, LISTED, same_second.replace(second=14), 1) is None


def test_nothing_is_held_where_the_product_is_not_listed_or_nothing_moved():
    assert hold_after(None, None, LISTED, 2) is None
    assert hold_after(StoreHold(listed_since=LISTED, units=2), LISTED, LISTED, 0) is None


def test_a_hold_of_an_earlier_listing_restarts_and_give_backs_never_go_below_zero():
    earlier = StoreHold(listed_since=datetime(2026, 10, 1, tzinfo=UTC), units=7)
    assert hold_after(earlier, LISTED, datetime(2026, 11, 3, tzinfo=UTC), 2) == StoreHold(listed_since=LISTED, units=2)
    current = StoreHold(listed_since=LISTED, units=1)
    assert hold_after(current, LISTED, datetime(2026, 11, 3, tzinfo=UTC), -3) == StoreHold(listed_since=LISTED, units=0)

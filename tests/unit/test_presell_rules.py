"""Table-driven tests of the pre-sell rules: eligibility, category, promise date, every removal cause."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from shopsync.catalog.presell import Action, active_po_item, decide, po_atp
from shopsync.models.presell import (
    InventoryLevel,
    Membership,
    POItemRef,
    POItemStatus,
    PresellCategory,
    PurchaseOrderItem,
    RemovalCause,
)

TODAY = date(2026, 3, 10)
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
EARLIER = NOW - timedelta(days=5)
PRE, BACK = PresellCategory.PRE_ORDER, PresellCategory.BACKORDER


def po(
    external_id: str = "PO1",
    *,
    days: int = 10,
    quantity: int = 10,
    allocated: int = 0,
    new: bool = True,
    status: POItemStatus = POItemStatus.CREATED,
    item_id: str = "1",
) -> PurchaseOrderItem:
    return PurchaseOrderItem(
        external_id=external_id,
        item_id=item_id,
        product_id="p1",
        sku="SKU-1",
        quantity=quantity,
        allocated=allocated,
        arrival_date=TODAY + timedelta(days=days),
        facility_id="WH1",
        is_new_product=new,
        status=status,
        updated_at=EARLIER,
    )


def stock(online_atp: int) -> InventoryLevel:
    return InventoryLevel(product_id="p1", on_hand=max(online_atp, 0), online_atp=online_atp, updated_at=EARLIER)


def member(category: PresellCategory, decided_by: str = "PO1", days: int = 10, atp: int = 10) -> Membership:
    return Membership(
        product_id="p1",
        category=category,
        promise_date=TODAY + timedelta(days=days),
        po_atp=atp,
        decision_po_item=POItemRef(external_id=decided_by, item_id="1"),
        since=EARLIER,
    )


# (name, current membership, PO items, online ATP, expected action, expected category, promise in days, cause)
CASES = [
    ("no PO, never a member", None, [], 0, Action.NONE, None, None, None),
    ("new product PO, nothing in stock → pre-order", None, [po(new=True)], 0, Action.ADD, PRE, 10, None),
    ("old product PO → back-order", None, [po(new=False)], 0, Action.ADD, BACK, 10, None),
    ("negative online ATP counts as none", None, [po()], -2, Action.ADD, PRE, 10, None),
    ("in stock, never a member", None, [po()], 5, Action.NONE, None, None, None),
    ("arrival today still counts", None, [po(days=0)], 0, Action.ADD, PRE, 0, None),
    ("past arrival is never active", None, [po(days=-1)], 0, Action.NONE, None, None, None),
    ("cancelled item is ignored", None, [po(status=POItemStatus.CANCELLED)], 0, Action.NONE, None, None, None),
    ("approved item counts", None, [po(status=POItemStatus.APPROVED)], 0, Action.ADD, PRE, 10, None),
    (
        "earliest future PO wins among several",
        None,
        [po("PO3", days=30), po("PO2", days=-3), po("PO1", days=12, new=False)],
        0,
        Action.ADD,
        BACK,
        12,
        None,
    ),
    (
        "fully allocated PO is skipped: promise date moves to the next PO",
        member(PRE, "PO1", days=5),
        [po("PO1", days=5, allocated=10), po("PO2", days=20)],
        0,
        Action.KEEP,
        PRE,
        20,
        None,
    ),
    ("member stays member", member(PRE), [po()], 0, Action.KEEP, PRE, 10, None),
    ("switch: active PO flag became N", member(PRE), [po(new=False)], 0, Action.SWITCH, BACK, 10, None),
    (
        "switch: next PO has the other flag",
        member(BACK, "PO1", days=5),
        [po("PO1", days=5, new=False, status=POItemStatus.COMPLETED), po("PO2", days=8, new=True)],
        0,
        Action.SWITCH,
        PRE,
        8,
        None,
    ),
    ("remove: back in stock", member(PRE), [po()], 3, Action.REMOVE, None, None, RemovalCause.IN_STOCK),
    (
        "remove: PO ATP used up",
        member(PRE),
        [po(allocated=10)],
        0,
        Action.REMOVE,
        None,
        None,
        RemovalCause.PO_ATP_USED_UP,
    ),
    (
        "remove: PO cancelled",
        member(PRE),
        [po(status=POItemStatus.CANCELLED)],
        0,
        Action.REMOVE,
        None,
        None,
        RemovalCause.PO_CANCELLED_OR_COMPLETED,
    ),
    (
        "remove: PO completed",
        member(BACK),
        [po(new=False, status=POItemStatus.COMPLETED)],
        0,
        Action.REMOVE,
        None,
        None,
        RemovalCause.PO_CANCELLED_OR_COMPLETED,
    ),
    (
        "remove: arrival date passed",
        member(PRE, days=-1),
        [po(days=-1)],
        0,
        Action.REMOVE,
        None,
        None,
        RemovalCause.ARRIVAL_PASSED,
    ),
    (
        "remove: PO items gone altogether",
        member(PRE),
        [],
        0,
        Action.REMOVE,
        None,
        None,
        RemovalCause.NO_ACTIVE_PO,
    ),
    (
        "remove: deciding PO unknown, other items used up",
        member(PRE, "PO9"),
        [po(allocated=10)],
        0,
        Action.REMOVE,
        None,
        None,
        RemovalCause.PO_ATP_USED_UP,
    ),
    (
        "remove: deciding PO unknown, other items passed",
        member(PRE, "PO9"),
        [po(days=-2)],
        0,
        Action.REMOVE,
        None,
        None,
        RemovalCause.ARRIVAL_PASSED,
    ),
    (
        "in stock wins over every PO cause",
        member(PRE),
        [po(status=POItemStatus.CANCELLED)],
        1,
        Action.REMOVE,
        None,
        None,
        RemovalCause.IN_STOCK,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_decision(case):
    _, current, items, online_atp, action, category, promise_days, cause = case
    decision = decide("p1", current, items, inventory=stock(online_atp), today=TODAY, now=NOW)
    assert decision.action is action
    assert decision.cause is cause
    if action is Action.NONE:
        assert decision.membership == current
        return
    assert decision.membership is not None
    assert decision.membership.category is category
    expected_promise = None if promise_days is None else TODAY + timedelta(days=promise_days)
    assert decision.membership.promise_date == expected_promise
    assert decision.membership.removal_cause is cause


def test_keep_with_nothing_changed_returns_the_stored_membership_so_nothing_is_written():
    current = member(PRE, atp=10)
    decision = decide("p1", current, [po()], inventory=stock(0), today=TODAY, now=NOW)
    assert decision.action is Action.KEEP
    assert decision.membership == current


def test_keep_preserves_since_but_reports_new_atp():
    decision = decide(
        "p1", member(PRE, atp=10), [po(quantity=10, allocated=4)], inventory=stock(0), today=TODAY, now=NOW
    )
    assert decision.membership is not None
    assert (decision.membership.since, decision.membership.po_atp) == (EARLIER, 6)


def test_add_and_switch_start_a_new_since():
    for current in (None, member(BACK)):
        decision = decide("p1", current, [po(new=True)], inventory=stock(0), today=TODAY, now=NOW)
        assert decision.membership is not None and decision.membership.since == NOW


def test_removed_record_is_not_rewritten_on_the_next_run():
    removed = decide(
        "p1", member(PRE), [po(status=POItemStatus.CANCELLED)], inventory=None, today=TODAY, now=NOW
    ).membership
    again = decide(
        "p1", removed, [po(status=POItemStatus.CANCELLED)], inventory=None, today=TODAY, now=NOW + timedelta(hours=1)
    )
    assert again.action is Action.NONE and again.membership == removed


def test_readded_after_removal():
    removed = decide("p1", member(PRE), [], inventory=None, today=TODAY, now=NOW).membership
    decision = decide("p1", removed, [po()], inventory=None, today=TODAY, now=NOW)
    assert decision.action is Action.ADD


def test_po_atp_counts_open_future_items_only():
    items = [
        po("A", quantity=10, allocated=3),
        po("B", quantity=5, days=-1),
        po("C", quantity=7, status=POItemStatus.CANCELLED),
        po("D", quantity=4, status=POItemStatus.APPROVED),
        po("E", quantity=2, allocated=9),  # over-allocated counts as 0, never negative
    ]
    assert po_atp(items, TODAY) == 7 + 4


def test_active_item_ties_break_on_ids():
    items = [po("PO2", days=3, new=False), po("PO1", days=3, item_id="2"), po("PO1", days=3, item_id="1")]
    active = active_po_item(items, TODAY)
    assert active is not None and (active.external_id, active.item_id) == ("PO1", "1")

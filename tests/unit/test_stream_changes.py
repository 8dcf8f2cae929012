"""What a stream record tells the pre-order sync: which product, and whether orders moved its store quantities."""

from decimal import Decimal

import pytest

from shopsync.preorder.triggers import ProductChange, UnexpectedRecord, changed_product

PO_ITEM = {"PK": "PRODUCT#101", "SK": "POITEM#PO-1#1"}


def test_an_allocation_change_on_a_po_item_means_orders_moved_the_store_quantities():
    old, new = {**PO_ITEM, "allocated": Decimal(0)}, {**PO_ITEM, "allocated": Decimal(3)}
    assert changed_product(PO_ITEM, old, new) == ProductChange("101", orders_moved=True)
    assert changed_product(PO_ITEM, None, new) == ProductChange("101", orders_moved=True)  # a new item, taken at once


def test_other_changes_trust_what_was_last_pushed():
    old, new = {**PO_ITEM, "quantity": Decimal(10)}, {**PO_ITEM, "quantity": Decimal(12)}
    assert changed_product(PO_ITEM, old, new) == ProductChange("101")
    link = {"PK": "PRODUCT#101", "SK": "SHOP#eu-child"}
    assert changed_product(link, None, {**link, "allocated": Decimal(1)}) == ProductChange("101")


def test_a_record_of_another_item_is_refused():
    with pytest.raises(UnexpectedRecord):
        changed_product({"PK": "ORDER#eu-child#1", "SK": "ALLOC#1"})

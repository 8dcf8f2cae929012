"""Seed 000 on the local stack over real HTTP: the child store's link arrives after the product went pre-order, and
the stream re-syncs it with no other action; removing the link delists it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local.operator import Operator
from local.stack import LocalStack, Ports
from shopsync.catalog.identifiers import legacy_id

pytestmark = pytest.mark.e2e

PO_QUANTITY = 60
STREAM_DEADLINE_S = 15.0


@pytest.fixture(scope="module")
def operator() -> Iterator[Operator]:
    with LocalStack(ports=Ports.ephemeral(), start_scheduler=False, async_retry_delay_seconds=0) as stack:
        operator = Operator(stack.api_url, stack.emulator_url)
        yield operator
        operator.close()


def _stock(variant: dict) -> int:
    return sum(level.get("available", 0) for level in variant.get("inventory", {}).values())


def _fully_listed(operator: Operator, shop_id: str, variant_id: str, quantity: int) -> bool:
    shown = operator.shown(shop_id, variant_id)
    return (
        shown.listed
        and shown.inventory_policy == "DENY"
        and "HC:Pre-Order" in shown.tags
        and (shown.available == quantity)
    )


def test_child_linked_later_is_listed_by_the_stream_and_delisted_when_unlinked(operator: Operator) -> None:
    # Given: the parent catalog imported, and a product with no stock on a pre-order PO
    assert operator.run_job("product-import", "us-parent", mode="full")["status"] == "FINISHED"
    parent_variants = operator.store_variants("us-parent")
    child_variants = operator.store_variants("eu-child")
    sku = next(s for s in sorted(parent_variants) if s in child_variants and not _stock(parent_variants[s]))
    parent, child = parent_variants[sku], child_variants[sku]
    product_id = legacy_id(parent["id"])

    # When: a PO and the catalog refresh put it in the pre-sell catalog while only the parent store is linked
    operator.put_on_preorder(sku, PO_QUANTITY, po_id="PO-000")
    # Then: the stream lists it in the parent store: DENY, tag, metafield, and the whole PO ATP as `available`
    operator.wait_until(lambda: _fully_listed(operator, "us-parent", parent["id"], PO_QUANTITY), STREAM_DEADLINE_S)
    assert not operator.shown("eu-child", child["id"]).listed

    # When: the child store's link arrives later (manual association here; the association job writes the same item)
    operator.link(product_id, "eu-child", child)

    # Then: the child store is listed with no other action, and the two stores share the PO ATP
    def shared() -> bool:
        in_child, in_parent = operator.shown("eu-child", child["id"]), operator.shown("us-parent", parent["id"])
        return in_child.listed and in_child.available > 0 and in_child.available + in_parent.available == PO_QUANTITY

    operator.wait_until(shared, STREAM_DEADLINE_S)
    assert "HC:Pre-Order" in operator.shown("eu-child", child["id"]).tags

    # When: the link is deleted → Then: the child store is delisted (metafield inactive, tag gone)
    assert operator.call("DELETE", f"/products/{product_id}/shops/eu-child").status_code == 204

    def delisted() -> bool:
        shown = operator.shown("eu-child", child["id"])
        return shown.listing is not None and shown.listing["status"] == "inactive" and "HC:Pre-Order" not in shown.tags

    operator.wait_until(delisted, STREAM_DEADLINE_S)
    # And: the parent gets the whole PO ATP back
    operator.wait_until(lambda: _fully_listed(operator, "us-parent", parent["id"], PO_QUANTITY), STREAM_DEADLINE_S)

    # And: the audit shows the product as pre-order with its promise date
    audit = operator.call("GET", f"/products/{product_id}").json()
    assert audit["membership"]["category"] == "PRE_ORDER"

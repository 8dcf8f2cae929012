"""An order on the local stack over real HTTP: the store's webhook reaches the API, the order is imported by the
webhook function, its pre-order line takes PO ATP, and the stream re-syncs every store's quantity; the cancellation
gives the units back the same way. No job is run by hand after the listing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

import pytest

from local.operator import Operator
from local.stack import LocalStack, Ports
from shopsync.catalog.identifiers import legacy_id
from tests.logs import captured_log_lines, leaked

pytestmark = pytest.mark.e2e

PO_QUANTITY = 12
BOUGHT = 3
STREAM_DEADLINE_S = 20.0


@dataclass
class Running:
    stack: LocalStack
    operator: Operator
    log_lines: list[str]


@pytest.fixture(scope="module")
def running() -> Iterator[Running]:
    with (
        captured_log_lines() as lines,
        LocalStack(ports=Ports.ephemeral(), start_scheduler=False, async_retry_delay_seconds=0) as stack,
    ):
        operator = Operator(stack.api_url, stack.emulator_url)
        yield Running(stack, operator, lines)
        operator.close()


@pytest.fixture(scope="module")
def operator(running: Running) -> Operator:
    return running.operator


def test_order_webhook_consumes_po_atp_and_the_stream_resyncs_every_store(operator: Operator, report_figure) -> None:
    # Given: a product on a pre-order PO of 12, linked in the parent and the EU store, listed in both
    assert operator.run_job("product-import", "us-parent", mode="full")["status"] == "FINISHED"
    parent, child = operator.store_variants("us-parent"), operator.store_variants("eu-child")
    sku = next(s for s in sorted(parent) if s in child)
    product_id = legacy_id(parent[sku]["id"])
    operator.link(product_id, "eu-child", child[sku])
    operator.put_on_preorder(sku, PO_QUANTITY, po_id="PO-ORDERS")
    variants = {"us-parent": parent[sku]["id"], "eu-child": child[sku]["id"]}
    operator.wait_until(partial(operator.offers, variants, PO_QUANTITY), STREAM_DEADLINE_S)

    # When: a customer pre-orders 3 in the EU storefront
    order, seconds = operator.order_to_quantities(variants, "eu-child", BOUGHT, PO_QUANTITY - BOUGHT, STREAM_DEADLINE_S)
    report_figure("order_to_quantities_s", round(seconds, 2))

    # Then: the order was imported from its webhook, holding 3 units of the PO with their promise date
    order_id = f"eu-child-{order['id']}"
    (line,) = operator.call("GET", f"/orders/{order_id}").json()["versions"][0]["lines"]
    assert line["presell"] == "PRE_ORDER"
    assert [(a["po_item"]["external_id"], a["quantity"]) for a in line["allocations"]] == [("PO-ORDERS", BOUGHT)]
    # And: the stores together offer the 9 the PO has left, the EU store (which sold) the larger share
    offered = operator.offered(variants)
    assert sum(offered.values()) == PO_QUANTITY - BOUGHT and offered["eu-child"] > offered["us-parent"]

    # When: the merchant cancels the order (restocking it in the EU store)
    operator.cancel_to_quantities(variants, "eu-child", str(order["id"]), PO_QUANTITY, STREAM_DEADLINE_S)

    # Then: the cancellation webhook gave the 3 back to the PO, and the stream re-synced: all 12 offered again, once,
    # the EU store's surplus moved back to the parent
    version = operator.call("GET", f"/orders/{order_id}").json()["versions"][0]
    assert version["status"] == "CANCELLED" and version["lines"][0]["allocations"] == []
    assert sum(operator.offered(variants).values()) == PO_QUANTITY


def test_no_token_or_webhook_key_is_logged_by_the_stack(running: Running, operator: Operator) -> None:
    # Given: the stack's log lines so far, which include signed webhook deliveries and Admin API calls
    stack, shops = running.stack, operator.call("GET", "/shops").json()
    assert any("webhook" in line for line in running.log_lines)
    assert stack.emulator is not None
    secrets = [f"shpat_local_{shop['shop_id']}" for shop in shops]
    secrets += [stack.emulator.store(shop["shop_id"]).webhooks.secret for shop in shops]
    # Then: none of the stores' tokens or webhook signing keys is in any of them
    assert leaked(running.log_lines, secrets) == []

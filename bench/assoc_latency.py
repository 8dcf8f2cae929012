"""Stream latency on the local stack, wall time, nothing run by hand:
- association change → child store listed: the link is written through the API and the table stream alone
  (poller → PreorderSyncFunction) lists the product in the child store;
- order → Shopify quantities updated: a storefront checkout in the child store, its signed webhook through the API
  (→ OrderWebhookFunction via the stream), the PO ATP it takes (→ PreorderSyncFunction via the stream), until both
  stores show the re-synced quantities.

    python -m bench.assoc_latency [--samples 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass
from functools import partial

from local.operator import Operator
from local.stack import LocalStack, Ports
from shopsync.catalog.identifiers import legacy_id

PO_QUANTITY = 40
ORDERED = 3
TIMEOUT_S = 30.0


@dataclass(frozen=True)
class StreamLatency:
    assoc_to_listed_s: list[float]
    order_to_quantities_s: list[float]


def measure(samples: int) -> StreamLatency:
    """One product per sample: seconds from the PUT of its child link to the child store showing the listing, then
    from an order in the child store to both stores showing the quantities that follow from it."""
    with LocalStack(ports=Ports.ephemeral(), start_scheduler=False) as stack:
        operator = Operator(stack.api_url, stack.emulator_url)
        try:
            operator.run_job("product-import", "us-parent", mode="full")
            parent, child = operator.store_variants("us-parent"), operator.store_variants("eu-child")
            skus = [sku for sku in sorted(parent) if sku in child][:samples]
            for number, sku in enumerate(skus):
                operator.put_on_preorder(sku, PO_QUANTITY, po_id=f"PO-LAT-{number}")
                operator.wait_until(partial(operator.fully_listed, "us-parent", parent[sku]["id"]), TIMEOUT_S)
            linked = []
            for sku in skus:
                started = time.monotonic()
                operator.link(legacy_id(parent[sku]["id"]), "eu-child", child[sku])
                operator.wait_until(partial(operator.fully_listed, "eu-child", child[sku]["id"]), TIMEOUT_S)
                linked.append(time.monotonic() - started)
            ordered = []
            for sku in skus:
                variants = {"us-parent": parent[sku]["id"], "eu-child": child[sku]["id"]}
                operator.wait_until(partial(operator.offers, variants, PO_QUANTITY), TIMEOUT_S)
                _, seconds = operator.order_to_quantities(variants, "eu-child", ORDERED, PO_QUANTITY - ORDERED)
                ordered.append(seconds)
            return StreamLatency(linked, ordered)
        finally:
            operator.close()


def _summary(timings: list[float]) -> str:
    return (
        f"median {statistics.median(timings):.2f} s, max {max(timings):.2f} s over {len(timings)} "
        f"({', '.join(f'{t:.2f}' for t in timings)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=3)
    latency = measure(parser.parse_args().samples)
    print(f"association → child listed: {_summary(latency.assoc_to_listed_s)}")
    print(f"order → Shopify quantities updated: {_summary(latency.order_to_quantities_s)}")


if __name__ == "__main__":
    main()

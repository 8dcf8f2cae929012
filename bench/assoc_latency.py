"""Association change → child store listed, on the local stack, wall time: the link is written through the API and
the table stream alone (poller → PreorderSyncFunction) lists the product in the child store.

    python -m bench.assoc_latency [--samples 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from functools import partial

from local.operator import Operator
from local.stack import LocalStack, Ports
from shopsync.catalog.identifiers import legacy_id

PO_QUANTITY = 40
LISTED_TIMEOUT_S = 30.0


def measure(samples: int) -> list[float]:
    """Seconds from the PUT of each child link to the child store showing the listing, one product per sample."""
    with LocalStack(ports=Ports.ephemeral(), start_scheduler=False) as stack:
        operator = Operator(stack.api_url, stack.emulator_url)
        try:
            operator.run_job("product-import", "us-parent", mode="full")
            parent, child = operator.store_variants("us-parent"), operator.store_variants("eu-child")
            skus = [sku for sku in sorted(parent) if sku in child][:samples]
            for number, sku in enumerate(skus):
                operator.put_on_preorder(sku, PO_QUANTITY, po_id=f"PO-LAT-{number}")
                operator.wait_until(partial(operator.fully_listed, "us-parent", parent[sku]["id"]), LISTED_TIMEOUT_S)
            timings = []
            for sku in skus:
                started = time.monotonic()
                operator.link(legacy_id(parent[sku]["id"]), "eu-child", child[sku])
                operator.wait_until(partial(operator.fully_listed, "eu-child", child[sku]["id"]), LISTED_TIMEOUT_S)
                timings.append(time.monotonic() - started)
            return timings
        finally:
            operator.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=3)
    timings = measure(parser.parse_args().samples)
    print(
        f"association → child listed: median {statistics.median(timings):.2f} s, max {max(timings):.2f} s "
        f"over {len(timings)} links ({', '.join(f'{t:.2f}' for t in timings)})"
    )


if __name__ == "__main__":
    main()

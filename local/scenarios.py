"""Operator steps as code, for benchmarks and the demo: import the catalog, upload POs and inventory, refresh."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta

from shopsync.catalog.association import ASSOCIATION
from shopsync.catalog.inventory import import_inventory
from shopsync.catalog.po_upload import UploadOptions
from shopsync.catalog.product_import import PRODUCT_IMPORT
from shopsync.catalog.purchase_orders import import_purchase_orders
from shopsync.catalog.refresh import CATALOG_REFRESH
from shopsync.jobs import runner
from shopsync.jobs.clock import utc_now
from shopsync.jobs.runner import JobDefinition
from shopsync.models.jobs import JobInvocation, JobRun

PLENTY_OF_TIME_MS = 900_000


def run_job(definition: JobDefinition, shop_id: str | None = None, **params: str) -> list[JobRun]:
    """Runs the job in this process; one run record per store it covered."""
    return runner.execute(definition, JobInvocation(shop_id=shop_id, params=params), lambda: PLENTY_OF_TIME_MS)


def import_and_link_catalog(child_shop_ids: Sequence[str] = ("eu-child", "uk-child")) -> None:
    run_job(PRODUCT_IMPORT, "us-parent")
    for shop_id in child_shop_ids:
        run_job(ASSOCIATION, shop_id, mode="full")


def put_on_preorder(skus: Sequence[str], quantity: int, *, po_id: str = "PO-BENCH", arrival_in_days: int = 30) -> None:
    """A pre-order PO line per SKU, no stock anywhere, then the catalog refresh that makes them pre-sell members."""
    now = utc_now()
    arrival = (now.date() + timedelta(days=arrival_in_days)).isoformat()
    items = [
        {
            "externalId": po_id,
            "itemId": str(n),
            "sku": sku,
            "quantity": quantity,
            "arrivalDate": arrival,
            "isNewProduct": "Y",
        }
        for n, sku in enumerate(skus, start=1)
    ]
    result = import_purchase_orders(json.dumps({"items": items}), "application/json", UploadOptions(), now)
    if result.rejected:
        raise ValueError(f"PO lines rejected: {result.rejected}")
    stock = [{"sku": sku, "on_hand": 0, "online_atp": 0} for sku in skus]
    inventory = import_inventory(json.dumps(stock), now)
    if inventory.rejected:
        raise ValueError(f"inventory rows rejected: {inventory.rejected}")
    run_job(CATALOG_REFRESH, mode="incremental")

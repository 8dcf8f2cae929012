"""DynamoDB requests of an incremental catalog refresh with one changed product, in a 10k vs a 100k catalog.

The refresh must cost what changed, not what exists: the 100k count should be at most 1.1 times the 10k count.
Each catalog is built in moto (in-process) with batch writes: products with their parent association and
identifier index, and every hundredth product with a PO item and a pre-order membership (so the indexes the refresh
reads are populated in proportion to the catalog). Then one product's PO line changes through the import, and
only the refresh run that follows is counted, by a `before-call.dynamodb.*` hook on the shared client.

    python -m bench.refresh_requests [--sizes 10000 100000]
"""

from __future__ import annotations

import argparse
import copy
import os
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
for _name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
    os.environ.setdefault(_name, "bench")
os.environ["TABLE_NAME"] = "shopsync-bench"
for _endpoint in [name for name in os.environ if name.startswith("AWS_ENDPOINT_URL")]:
    del os.environ[_endpoint]  # always moto in-process, never a live endpoint

from unittest import mock  # noqa: E402

from moto import mock_aws  # noqa: E402
from moto.dynamodb.models.table import Table  # noqa: E402

from local.resources import create_table  # noqa: E402
from local.template import SamTemplate  # noqa: E402
from shopsync.catalog.po_upload import UploadOptions  # noqa: E402
from shopsync.catalog.purchase_orders import import_purchase_orders  # noqa: E402
from shopsync.catalog.refresh import CATALOG_REFRESH  # noqa: E402
from shopsync.jobs import runner  # noqa: E402
from shopsync.models.catalog import CatalogProduct  # noqa: E402
from shopsync.models.jobs import JobInvocation  # noqa: E402
from shopsync.models.presell import Membership, POItemRef, PresellCategory, PurchaseOrderLine  # noqa: E402
from shopsync.models.shop import Shop, ShopRole  # noqa: E402
from shopsync.settings import get_settings  # noqa: E402
from shopsync.store import catalog as catalog_store  # noqa: E402
from shopsync.store import presell as presell_store  # noqa: E402
from shopsync.store import shops as shop_store  # noqa: E402
from shopsync.store import table  # noqa: E402
from shopsync.store.aws import dynamodb_client, reset_clients  # noqa: E402

PARENT = "us-parent"
PRESELL_EVERY = 100  # every hundredth product has a PO item and a membership
PLENTY_OF_TIME_MS = 900_000


@dataclass(frozen=True)
class Measurement:
    catalog_size: int
    requests: int
    by_operation: dict[str, int]
    build_seconds: float


def _product(number: int, now: datetime) -> CatalogProduct:
    return CatalogProduct(
        product_id=str(10_000_000 + number),
        shopify_product_id=f"gid://shopify/Product/{number}",
        shopify_variant_id=f"gid://shopify/ProductVariant/{10_000_000 + number}",
        inventory_item_id=f"gid://shopify/InventoryItem/{number}",
        sku=f"BENCH-{number:06d}",
        barcode=None,
        title=f"Bench product {number}",
        variant_title="Default Title",
        handle=f"bench-{number}",
        status="ACTIVE",
        shopify_updated_at=now,
    )


def _po_line(product: CatalogProduct, quantity: int, arrival: date) -> PurchaseOrderLine:
    return PurchaseOrderLine(
        external_id=f"PO-{product.product_id}",
        item_id="1",
        product_id=product.product_id,
        sku=str(product.sku),
        quantity=quantity,
        arrival_date=arrival,
        facility_id="WH1",
        is_new_product=True,
    )


def _build_catalog(size: int, now: datetime) -> list[CatalogProduct]:
    shop_store.save_shop(
        Shop(
            shop_id=PARENT,
            role=ShopRole.PARENT,
            name=PARENT,
            admin_api_base_url="https://bench.myshopify.com",
            currency="USD",
            token_secret_name="unused",
            created_at=now,
            updated_at=now,
        ),
        None,
    )
    products = [_product(number, now) for number in range(size)]
    # Pre-sell items first, while the table is small: moto's transactions and queries scan the whole table.
    arrival = now.date() + timedelta(days=30)
    presell = products[::PRESELL_EVERY]
    presell_store.write_rows(
        (
            presell_store.po_line_write(row, _po_line(product, 10, arrival), None, now)
            for row, product in enumerate(presell)
        ),
        now,
    )
    presell_store.save_memberships(
        Membership(
            product_id=product.product_id,
            category=PresellCategory.PRE_ORDER,
            promise_date=arrival,
            po_atp=10,
            decision_po_item=POItemRef(external_id=f"PO-{product.product_id}", item_id="1"),
            since=now,
        )
        for product in presell
    )
    # The catalog starts refreshed: no product waits for a refresh.
    table.batch_write(
        deletes=[presell_store.refresh_marker_key(product_id) for product_id in presell_store.refresh_markers()]
    )
    catalog_store.upsert_products(products, PARENT, now)
    return products


_deepcopy = copy.deepcopy


def _deepcopy_except_tables(value: Any, memo: dict[int, Any] | None = None) -> Any:
    return value if isinstance(value, Table) else _deepcopy(value, memo)


def measure(size: int) -> Measurement:
    # moto snapshots the whole table before every transaction (its rollback), which makes each transaction cost
    # O(table) here, unlike DynamoDB. No transaction in this benchmark fails, so the snapshot is skipped.
    with mock_aws(), mock.patch.object(copy, "deepcopy", _deepcopy_except_tables):
        reset_clients()
        get_settings.cache_clear()
        (properties,) = SamTemplate.load().tables().values()
        # No stream: it does not change request counts and moto would keep a record of every write.
        create_table(get_settings().table_name, {k: v for k, v in properties.items() if k != "StreamSpecification"})
        now = datetime.now(UTC)
        started = time.monotonic()
        products = _build_catalog(size, now)
        build_seconds = time.monotonic() - started

        changed = products[0]  # has a PO line (index 0 is a pre-sell product): its quantity changes
        csv_body = (
            "external-id,product-sku,quantity,external-facility-id,item-external-id,arrival-date\n"
            f"PO-{changed.product_id},{changed.sku},25,WH1,1,{(now.date() + timedelta(days=30)).isoformat()}\n"
        )
        result = import_purchase_orders(csv_body, "text/csv", UploadOptions(), now)
        assert result.updated == 1, result

        calls: Counter[str] = Counter()

        def count(event_name: str, **_: Any) -> None:
            calls[event_name.rsplit(".", 1)[-1]] += 1

        client = dynamodb_client()
        client.meta.events.register("before-call.dynamodb.*", count)
        (run,) = runner.execute(CATALOG_REFRESH, JobInvocation(), lambda: PLENTY_OF_TIME_MS)
        client.meta.events.unregister("before-call.dynamodb.*", count)
        assert run.counts.written == 1, run.counts
    reset_clients()
    return Measurement(size, sum(calls.values()), dict(sorted(calls.items())), build_seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    sizes = parser.parse_args().sizes
    measurements = [measure(size) for size in sizes]
    for m in measurements:
        built = f"catalog built in {m.build_seconds:.0f} s"
        print(f"{m.catalog_size:>7} products: {m.requests} DynamoDB requests {m.by_operation} ({built})")
    if len(measurements) >= 2:
        ratio = measurements[-1].requests / measurements[0].requests
        verdict = "meets" if ratio <= 1.1 else "MISSES"
        print(f"ratio {measurements[-1].catalog_size} / {measurements[0].catalog_size}: {ratio:.2f} ({verdict} ≤ 1.1)")


if __name__ == "__main__":
    main()

"""Reliability of the whole pipeline under Shopify faults, crashes and duplicated deliveries (seeded, bounded).

One sandbox for the module: with 20% of the requests to every store faulted (5xx, 429, THROTTLED, gateway timeouts;
plus some latency), each job — product import, association, catalog refresh, pre-order sweep, order import — first
crashes at a seeded random write of its own work and is then re-run until it completes. The tests check that the
stores then show what the catalog wants, nothing was lost, no order was imported twice, watermarks never ran ahead
of the work, and that stream records delivered twice change nothing.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from unittest import mock

import pytest

from bench.storm import STORES, linked_everywhere
from functions.api.app import lambda_handler as api_handler
from functions.preorder_sync.app import lambda_handler as preorder_stream_handler
from local.sandbox import Sandbox, sandbox
from shopsync.catalog.association import ASSOCIATION
from shopsync.catalog.identifiers import legacy_id
from shopsync.catalog.inventory import import_inventory
from shopsync.catalog.po_upload import UploadOptions
from shopsync.catalog.product_import import PRODUCT_IMPORT
from shopsync.catalog.purchase_orders import import_purchase_orders
from shopsync.catalog.refresh import CATALOG_REFRESH
from shopsync.jobs import runner
from shopsync.jobs.clock import utc_now
from shopsync.jobs.runner import JobContext, JobDefinition, Outcome, RunFailed
from shopsync.models.jobs import JobInvocation, JobRun, RunStatus
from shopsync.models.listing import InventoryPolicy, ListingState, PushStatus
from shopsync.orders.order_import import ORDER_IMPORT
from shopsync.preorder.shopify_listing import StoreListingClient, VariantSnapshot
from shopsync.preorder.triggers import PREORDER_SWEEP, ProductChange, sync_changed
from shopsync.settings import get_settings
from shopsync.shopify.client import ShopifyClient
from shopsync.store import catalog as catalog_store
from shopsync.store import jobs as job_store
from shopsync.store import listings as listing_store
from shopsync.store import table
from tests.factories import api_event, lambda_context
from tests.integration.test_order_import import ADDRESS
from tests.logs import captured_log_lines, leaked

SEED = 20261204
FAULT_SHARE = 0.2
FAULT_KINDS = ("5xx", "429", "throttled", "timeout")
# The rules are tried in turn, so this rate per kind makes 20% of all requests fail with one of the kinds.
RATE_PER_KIND = 1 - (1 - FAULT_SHARE) ** (1 / len(FAULT_KINDS))
GATEWAY_TIMEOUT_S = 0.05  # a "timeout" holds the request this long, then answers 503 as a gateway would
RETRY_AFTER_S = 0.05
PREORDER_PRODUCTS = 3
PO_QUANTITY = 30
ORDERS_PER_STORE = 2
MAX_ROUNDS = 6
PLENTY_MS = 600_000
PREORDER_TAG = "HC:Pre-Order"
TABLE_WRITES = ("put_item", "update_item", "delete_item", "batch_write", "transact_write")

pytestmark = pytest.mark.slow  # one pipeline for the module: about a minute on 2 cores


class SimulatedCrash(Exception):
    """The Lambda died here: raised from a table write in the middle of a job's own work."""


@dataclass
class CrashPoint:
    """Counts the table writes of a job body and crashes at the `at`-th one."""

    at: int
    writes: int = 0
    fired: bool = False

    def on_write(self) -> None:
        self.writes += 1
        if self.writes == self.at and not self.fired:
            self.fired = True
            raise SimulatedCrash(f"crash injected at write {self.at}")


@dataclass(frozen=True)
class CrashOutcome:
    job: str
    shop_id: str
    crash_point: CrashPoint
    crashed_run: JobRun
    watermark_before: datetime | None
    watermark_after_crash: datetime | None
    completed_run: JobRun
    watermark_after_rerun: datetime | None


@dataclass
class Pipeline:
    box: Sandbox
    preorder_products: list[str] = field(default_factory=list)
    arrival: str = ""
    order_ids: list[str] = field(default_factory=list)
    units_sold: dict[str, int] = field(default_factory=dict)
    crashes: list[CrashOutcome] = field(default_factory=list)
    log_lines: list[str] = field(default_factory=list)
    convergence_rounds: list[int] = field(default_factory=list)
    faults_injected: dict[str, dict[str, int]] = field(default_factory=dict)


def crashing(definition: JobDefinition, point: CrashPoint) -> JobDefinition:
    """The same job, whose body crashes at the point's write (the runner's own bookkeeping is not counted)."""

    def counted(write: Callable[..., Any]) -> Callable[..., Any]:
        def counting_write(*args: Any, **kwargs: Any) -> Any:
            point.on_write()
            return write(*args, **kwargs)

        return counting_write

    def crashing_body(context: JobContext) -> Outcome:
        writes: dict[str, Any] = {name: counted(getattr(table, name)) for name in TABLE_WRITES}
        with mock.patch.multiple(table, **writes):
            return definition.body(context)

    return replace(definition, body=crashing_body)


def execute(definition: JobDefinition, shop_id: str | None, **params: str) -> list[JobRun]:
    return runner.execute(definition, JobInvocation(shop_id=shop_id, params=params), lambda: PLENTY_MS)


def run_until_completed(definition: JobDefinition, shop_id: str, **params: str) -> JobRun:
    """Re-run as the schedule would (bounded): a run that Shopify faults make fail is simply run again."""
    for _ in range(MAX_ROUNDS):
        try:
            (run,) = execute(definition, shop_id, **params)
        except RunFailed:
            continue
        if run.completed:
            return run
    raise AssertionError(f"{definition.name.value} for {shop_id} did not complete in {MAX_ROUNDS} runs")


def crash_then_rerun(pipeline: Pipeline, rng: random.Random, definition: JobDefinition, shop_id: str, **params: str):
    """Run the job with a crash at a seeded random write of its work (again if Shopify faults stop it before it gets
    there), then re-run it until it completes."""
    point = CrashPoint(at=rng.randint(1, 3))
    for _ in range(MAX_ROUNDS):
        watermark_before = job_store.get_watermark(definition.name, shop_id)
        try:
            execute(crashing(definition, point), shop_id, **params)
        except RunFailed as failed:
            if point.fired:
                crashed_run = failed.run
                break
            continue
        raise AssertionError(f"{definition.name.value} for {shop_id} finished before its write {point.at}")
    else:
        raise AssertionError(f"{definition.name.value} for {shop_id} never reached its write {point.at}")
    watermark_after_crash = job_store.get_watermark(definition.name, shop_id)
    completed = run_until_completed(definition, shop_id, **params)
    pipeline.crashes.append(
        CrashOutcome(
            job=definition.name.value,
            shop_id=shop_id,
            crash_point=point,
            crashed_run=crashed_run,
            watermark_before=watermark_before,
            watermark_after_crash=watermark_after_crash,
            completed_run=completed,
            watermark_after_rerun=job_store.get_watermark(definition.name, shop_id),
        )
    )


def inject_shopify_faults(box: Sandbox) -> None:
    for store_number, shop_id in enumerate(STORES):
        for kind_number, kind in enumerate(FAULT_KINDS):
            box.shopify.emulator.inject_fault(
                shop_id,
                kind,
                rate=RATE_PER_KIND,
                seed=SEED + 10 * store_number + kind_number,
                latency_s=GATEWAY_TIMEOUT_S if kind == "timeout" else 0.0,
                retry_after_s=RETRY_AFTER_S,
            )
        box.shopify.emulator.inject_fault(shop_id, "latency", rate=0.1, seed=SEED - store_number, latency_s=0.01)


def put_on_preorder(product_ids: list[str], arrival: str) -> None:
    """The operator's PO file (one pre-order line per product) and an inventory file with no stock."""
    skus = [str(catalog_store.get_product(product_id).sku) for product_id in product_ids]  # type: ignore[union-attr]
    items = [
        {
            "externalId": "PO-FAULTS",
            "itemId": str(n),
            "sku": sku,
            "quantity": PO_QUANTITY,
            "arrivalDate": arrival,
            "isNewProduct": "Y",
        }
        for n, sku in enumerate(skus, start=1)
    ]
    now = utc_now()
    assert not import_purchase_orders(json.dumps({"items": items}), "application/json", UploadOptions(), now).rejected
    stock = [{"sku": sku, "on_hand": 0, "online_atp": 0} for sku in skus]
    assert not import_inventory(json.dumps(stock), now).rejected


def failed_listings(product_ids: list[str]) -> list[ListingState]:
    return [
        state
        for product_id in product_ids
        for state in listing_store.product_sync_inputs(product_id).states.values()
        if state.status is not PushStatus.PUSHED
    ]


def sync_until_converged(product_ids: list[str]) -> int:
    """The stream-triggered sync, then rounds of every store's sweep until no listing is left failed (bounded). The
    backoff of a failed listing is minutes long: each round lets it run out, as the next scheduled sweeps would."""
    sync_changed([ProductChange(product_id) for product_id in product_ids], lambda: 60.0)
    for round_number in range(1, MAX_ROUNDS + 1):
        failed = failed_listings(product_ids)
        if not failed:
            return round_number - 1
        backoff_over = utc_now() - timedelta(seconds=1)
        listing_store.save_states([state.model_copy(update={"next_attempt_at": backoff_over}) for state in failed])
        for shop_id in STORES:
            try:
                execute(PREORDER_SWEEP, shop_id)
            except RunFailed:
                continue
    left = [(s.product_id, s.shop_id, s.error) for s in failed_listings(product_ids)]
    raise AssertionError(f"listings still failing after {MAX_ROUNDS} sweep rounds: {left}")


@pytest.fixture(scope="module")
def pipeline() -> Iterator[Pipeline]:
    rng = random.Random(SEED)
    with captured_log_lines() as lines, sandbox(get_settings().table_name) as box:
        yield run_pipeline(box, rng, lines)


def run_pipeline(box: Sandbox, rng: random.Random, log_lines: list[str]) -> Pipeline:
    """Every job under faults, each crashing once and re-run; shoppers buy; the listings converge."""
    result = Pipeline(box, log_lines=log_lines)
    inject_shopify_faults(box)
    # Given: the parent catalog imported and linked in both children, each job crashing once on the way
    crash_then_rerun(result, rng, PRODUCT_IMPORT, "us-parent")
    for child in ("eu-child", "uk-child"):
        crash_then_rerun(result, rng, ASSOCIATION, child, mode="full")
    # And: a few products put on pre-order (PO with no stock), the catalog refresh crashing once
    result.preorder_products = linked_everywhere(box, PREORDER_PRODUCTS)
    result.arrival = (utc_now().date() + timedelta(days=30)).isoformat()
    put_on_preorder(result.preorder_products, result.arrival)
    crash_then_rerun(result, rng, CATALOG_REFRESH, "us-parent", mode="incremental")
    # When: the listings are pushed and swept until they converge
    result.convergence_rounds.append(sync_until_converged(result.preorder_products))
    # And: shoppers buy in every store, the orders are imported (each store's first import crashing)
    for shop_id in STORES:
        result.units_sold[shop_id] = 0
        for product_id in result.preorder_products[:ORDERS_PER_STORE]:
            variant_id = catalog_store.get_association(product_id, shop_id).shopify_variant_id  # type: ignore[union-attr]
            checkout = box.shopify.emulator.checkout(
                shop_id,
                [{"variant_id": variant_id, "quantity": 1}],
                email="ada@example.com",
                shipping_address=ADDRESS,
            )
            assert checkout.ok, checkout
            result.order_ids.append(f"{shop_id}-{legacy_id(str(checkout.order_id))}")
            result.units_sold[shop_id] += 1
    for shop_id in STORES:
        crash_then_rerun(result, rng, ORDER_IMPORT, shop_id)
    # And: the sweeps take the sales into the quantity ledger, the parent's first sweep crashing
    crash_then_rerun(result, rng, PREORDER_SWEEP, "us-parent")
    result.convergence_rounds.append(sync_until_converged(result.preorder_products))
    result.faults_injected = {s: box.shopify.emulator.stats(s)["faults_injected"] for s in STORES}
    for shop_id in STORES:
        box.shopify.emulator.clear_faults(shop_id)
    return result


def shown(box: Sandbox, shop_id: str, variant_ids: list[str]) -> dict[str, VariantSnapshot]:
    """What the store shows, read through the Admin API like any client would (no faults left)."""
    shop = box.shops[shop_id]
    with ShopifyClient(shop.base_url, shop.api_version, f"shpat_local_{shop_id}") as client:
        return StoreListingClient(shop, client).snapshots(variant_ids)


def shown_everywhere(pipeline: Pipeline) -> dict[tuple[str, str], VariantSnapshot]:
    by_listing = {}
    for shop_id in STORES:
        variants = {
            product_id: catalog_store.get_association(product_id, shop_id).shopify_variant_id  # type: ignore[union-attr]
            for product_id in pipeline.preorder_products
        }
        snapshots = shown(pipeline.box, shop_id, list(variants.values()))
        by_listing.update({(product_id, shop_id): snapshots[variant] for product_id, variant in variants.items()})
    return by_listing


def test_faults_were_injected_in_every_store_and_every_job_crashed_once(pipeline, report_figure):
    # Given: every store answered some requests with a fault, and every kind of fault happened
    assert all(sum(injected.values()) > 0 for injected in pipeline.faults_injected.values())
    assert {kind for injected in pipeline.faults_injected.values() for kind in injected} >= set(FAULT_KINDS)
    assert {(crash.job, crash.shop_id) for crash in pipeline.crashes} >= {
        ("product-import", "us-parent"),
        ("association", "eu-child"),
        ("association", "uk-child"),
        ("catalog-refresh", "us-parent"),
        ("preorder-sweep", "us-parent"),
        *(("order-import", shop_id) for shop_id in STORES),
    }
    assert all(crash.crash_point.fired for crash in pipeline.crashes)
    report_figure("faults injected per store", pipeline.faults_injected)
    report_figure("sweep rounds to converge (after listing, after orders)", pipeline.convergence_rounds)


def test_every_store_shows_the_wanted_listing_for_every_product(pipeline):
    promise_date = datetime.fromisoformat(pipeline.arrival).strftime("%m/%d/%Y")
    listings = shown_everywhere(pipeline)
    for product_id in pipeline.preorder_products:
        available = 0
        for shop_id in STORES:
            listing = listings[(product_id, shop_id)]
            assert listing.inventory_policy is InventoryPolicy.DENY, (product_id, shop_id)
            assert listing.metafield is not None
            assert listing.metafield["status"] == "active" and listing.metafield["preorderType"] == "PRE_ORDER"
            assert listing.metafield["promise_date"] == promise_date
            assert PREORDER_TAG in listing.product_tags
            assert listing.available is not None and listing.available > 0, (product_id, shop_id)
            available += listing.available
        sold = sum(1 for order_id in pipeline.order_ids if _order_product(order_id) == product_id)
        assert available + sold <= PO_QUANTITY, (product_id, available, sold)


def _order_product(order_id: str) -> str:
    (version,) = api_get(f"/orders/{order_id}")["versions"]
    (line,) = version["lines"]
    return str(line["product_id"])


def api_get(path: str) -> Any:
    response = api_handler(api_event("GET", path), lambda_context())
    assert response["statusCode"] == 200, response
    return json.loads(response["body"])


def test_a_crashed_run_is_failed_and_leaves_the_watermark_where_it_was(pipeline):
    for crash in pipeline.crashes:
        assert crash.crashed_run.status is RunStatus.FAILED and "SimulatedCrash" in (crash.crashed_run.error or "")
        assert crash.watermark_after_crash == crash.watermark_before, crash.job
        # Then: the re-run that completed moved it to its own window end, never past when that run started
        rerun = crash.completed_run
        assert rerun.watermark is not None and crash.watermark_after_rerun == rerun.watermark, crash.job
        assert rerun.started_at is not None and rerun.watermark <= rerun.started_at, crash.job


def variant_ids_by_sku(box: Sandbox, shop_id: str) -> dict[str, list[str]]:
    by_sku: dict[str, list[str]] = {}
    for product in box.shopify.emulator.inspect(shop_id)["products"]:
        for variant in product["variants"]:
            by_sku.setdefault(variant["sku"], []).append(variant["id"])
    return by_sku


def test_nothing_is_lost_catalog_links_and_memberships(pipeline):
    parent = variant_ids_by_sku(pipeline.box, "us-parent")
    # Then: every parent variant is a catalog product
    product_ids = sorted(legacy_id(variant_id) for variant_ids in parent.values() for variant_id in variant_ids)
    assert all(catalog_store.get_product(product_id) is not None for product_id in product_ids)
    # And: every child variant whose SKU is unique in both stores is linked to its product
    for child in ("eu-child", "uk-child"):
        links = catalog_store.associations_in_shop(product_ids, child)
        unique = {
            sku: variants[0]
            for sku, variants in variant_ids_by_sku(pipeline.box, child).items()
            if len(variants) == 1 and len(parent.get(sku, [])) == 1
        }
        assert unique
        for sku, child_variant in unique.items():
            link = links.get(legacy_id(parent[sku][0]))
            assert link is not None and link.shopify_variant_id == child_variant, (child, sku)
    # And: every pre-order product is a pre-sell member
    for product_id in pipeline.preorder_products:
        presell = listing_store.product_sync_inputs(product_id).presell
        assert presell.membership is not None and presell.membership.is_member, product_id


def test_every_order_is_imported_once_even_when_imported_again(pipeline):
    # Given: the orders placed in every store were imported through crashes and faults
    assert len(pipeline.order_ids) == ORDERS_PER_STORE * len(STORES)
    for order_id in pipeline.order_ids:
        assert len(api_get(f"/orders/{order_id}")["versions"]) == 1, order_id
    # When: every store's import runs again over the same window (an overlap, a duplicated schedule)
    again = [run_until_completed(ORDER_IMPORT, shop_id) for shop_id in STORES]
    # Then: nothing is written and each order still has its one version
    assert sum(run.counts.written for run in again) == 0
    assert all(len(api_get(f"/orders/{order_id}")["versions"]) == 1 for order_id in pipeline.order_ids)


def stream_event(product_ids: list[str]) -> dict[str, Any]:
    """The DynamoDB stream batch the table's association writes for these products make."""
    records: list[dict[str, Any]] = []
    for product_id in product_ids:
        for association in catalog_store.get_associations(product_id):
            keys = {"PK": {"S": f"PRODUCT#{product_id}"}, "SK": {"S": f"SHOP#{association.shop_id}"}}
            records.append(
                {
                    "eventID": f"{product_id}-{association.shop_id}",
                    "eventName": "MODIFY",
                    "eventVersion": "1.1",
                    "eventSource": "aws:dynamodb",
                    "awsRegion": "us-east-1",
                    "dynamodb": {
                        "Keys": keys,
                        "NewImage": {**keys, "type": {"S": "ASSOCIATION"}},
                        "SequenceNumber": str(len(records) + 1),
                        "StreamViewType": "NEW_AND_OLD_IMAGES",
                    },
                    "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/shopsync/stream/local",
                }
            )
    return {"Records": records}


def mutations_per_store(pipeline: Pipeline) -> dict[str, int]:
    return {s: sum(pipeline.box.shopify.emulator.stats(s)["mutations"].values()) for s in STORES}


def test_no_token_or_secret_appears_in_any_log_line(pipeline):
    # Given: every log line of the run, including the failed runs' tracebacks and the Shopify errors
    assert any("SimulatedCrash" in line for line in pipeline.log_lines)
    sensitive = [f"shpat_local_{shop_id}" for shop_id in STORES]
    sensitive += [pipeline.box.shopify.emulator.store(shop_id).webhooks.secret for shop_id in STORES]
    # Then: none of the stores' tokens or webhook signing secrets is in any of them
    assert leaked(pipeline.log_lines, sensitive) == []


def test_stream_records_delivered_twice_leave_the_same_state(pipeline):
    # Given: a stream batch naming every link of the pre-order products, delivered once
    event = stream_event(pipeline.preorder_products)
    first = preorder_stream_handler(event, lambda_context())
    after_first = shown_everywhere(pipeline)
    mutations_after_first = mutations_per_store(pipeline)
    # When: the same batch is delivered again
    second = preorder_stream_handler(event, lambda_context())
    # Then: no record failed, no store was changed again and the listings are what they were
    assert first["batchItemFailures"] == [] and second["batchItemFailures"] == []
    assert mutations_per_store(pipeline) == mutations_after_first
    assert shown_everywhere(pipeline) == after_first

"""`make demo`: start the embedded stack and walk through what shopsync does, over HTTP, printing what happened.

1. stores registered; the parent catalog imported (full, then incremental); a child-store import refused
2. a purchase-order file and inventory uploaded; the catalog refresh decides the pre-sell catalog
3. seed 000: listed in the parent store by the stream; the association job links the child stores later and the
   stream lists them there with no other action; a deleted link delists
4. a small checkout storm: Shopify itself stops at the pre-orderable quantity, the sweep moves stock to demand
then, as an operator would look: GET /jobs (every job per store) and the diagnosis of the seed-000 product
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
import warnings
from functools import partial
from pathlib import Path
from typing import Any

from local.operator import Operator
from local.stack import LocalStack, Ports
from shopsync.catalog.identifiers import legacy_id

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
STORES = ("us-parent", "eu-child", "uk-child")
STREAM_WAIT_S = 30.0
STORM_ATTEMPTS = 240
STORM_DEMAND = {"us-parent": 0.75, "eu-child": 0.2, "uk-child": 0.05}
STORM_SWEEPS = 4


def _say(text: str = "") -> None:
    print(text, flush=True)


def _quiet_logs() -> None:
    """The demo prints a story; the functions' JSON logs and EMF metrics are what `make up` shows."""
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message="No application metrics to publish")


def _run(operator: Operator, job: str, shop_id: str | None = None, **params: str) -> dict[str, Any]:
    run = operator.run_job(job, shop_id, **params)
    counts = run["counts"]
    _say(
        f"  {job:<15} {shop_id or '':<10} {run['status']:<8} read {counts['read']:>4}  written {counts['written']:>4}"
        f"  unchanged {counts['skipped']:>4}  Shopify cost {run['shopify_cost']:>5.0f}"
    )
    if run["status"] != "FINISHED":
        raise SystemExit(f"{job} failed: {run['error']}")
    return run


def import_catalog(operator: Operator) -> dict[str, Any]:
    _say("\n1. Stores registered through PUT /shops/{id}:")
    for shop in operator.call("GET", "/shops").json():
        _say(f"  {shop['shop_id']:<10} {shop['role']:<6} {shop['currency']}  linked by {shop['identifier_type']}")
    parent = operator.store_variants("us-parent")
    _say(f"\n   Product import from the parent store ({len(parent)} variants in Shopify), full then incremental:")
    started = time.monotonic()
    full = _run(operator, "product-import", "us-parent", mode="full")
    full["seconds"] = time.monotonic() - started
    _run(operator, "product-import", "us-parent")
    refused = operator.call("POST", "/jobs/product-import/runs", json={"shop_id": "eu-child"})
    _say(f"  product import for a child store → {refused.status_code}: {refused.json()['reason']}")
    return full


def presell_catalog(operator: Operator) -> list[str]:
    _say("\n2. Purchase orders (samples/purchase_orders_hotwax.csv) and inventory uploaded:")
    upload = operator.call(
        "POST",
        "/purchase-orders",
        content=(SAMPLES / "purchase_orders_hotwax.csv").read_bytes(),
        headers={"Content-Type": "text/csv"},
    ).json()
    _say(f"  POST /purchase-orders → {upload['created']} lines stored, {len(upload['rejected'])} rejected:")
    for row in upload["rejected"]:
        _say(f"    row {row['row']}: {row['reason']}")
    operator.call(
        "PUT",
        "/inventory",
        content=(SAMPLES / "inventory.json").read_bytes(),
        headers={"Content-Type": "application/json"},
    )
    _run(operator, "catalog-refresh", mode="incremental")
    parent = operator.store_variants("us-parent")
    skus = [row["sku"] for row in json.loads((SAMPLES / "inventory.json").read_text())]
    _say("  the pre-sell catalog (GET /products/{id}):")
    product_ids = []
    for sku in skus:
        product_id = legacy_id(parent[sku]["id"])
        product_ids.append(product_id)
        membership = operator.call("GET", f"/products/{product_id}").json()["membership"] or {}
        _say(
            f"    {sku:<15} {membership.get('category') or '-':<10} promise {membership.get('promise_date')}  "
            f"PO ATP {membership.get('po_atp')}"
        )
    return skus


def seed_000(operator: Operator, skus: list[str]) -> None:
    parent, eu = operator.store_variants("us-parent"), operator.store_variants("eu-child")
    sku = skus[0]
    _say(f"\n3. Seed 000 with {sku}: pre-order while only the parent store is linked")
    operator.wait_until(partial(operator.fully_listed, "us-parent", parent[sku]["id"]), STREAM_WAIT_S)
    _say(f"  us-parent lists it (stream → pre-order sync): {_shown(operator, 'us-parent', parent[sku]['id'])}")
    _say("  the association job links the child stores afterwards:")
    for shop_id in ("eu-child", "uk-child"):
        _run(operator, "association", shop_id, mode="full")
        unmatched = operator.call("GET", "/associations/unmatched", params={"shop": shop_id}).json()["items"]
        reasons: dict[str, int] = {}
        for item in unmatched:
            reasons[item["reason"]] = reasons.get(item["reason"], 0) + 1
        _say(f"    {shop_id}: not linked {len(unmatched)} {reasons}")
    started = time.monotonic()
    operator.wait_until(partial(operator.fully_listed, "eu-child", eu[sku]["id"]), STREAM_WAIT_S)
    _say(
        f"  eu-child lists it {time.monotonic() - started:.1f} s later, with no other action: "
        f"{_shown(operator, 'eu-child', eu[sku]['id'])}"
    )
    _say(f"  us-parent now: {_shown(operator, 'us-parent', parent[sku]['id'])}  (one PO ATP, shared)")
    product_id = legacy_id(parent[sku]["id"])
    operator.call("DELETE", f"/products/{product_id}/shops/eu-child")
    operator.wait_until(lambda: not operator.shown("eu-child", eu[sku]["id"]).listed, STREAM_WAIT_S)
    _say(f"  DELETE the eu-child link → delisted there: {_shown(operator, 'eu-child', eu[sku]['id'])}")


def _shown(operator: Operator, shop_id: str, variant_id: str) -> str:
    shown = operator.shown(shop_id, variant_id)
    status = (shown.listing or {}).get("status", "none")
    tag = next((t for t in shown.tags if t.startswith("HC:")), "no HC tag")
    return f"{shown.inventory_policy}, {tag}, metafield {status}, available {shown.available}"


def storm(operator: Operator, sku: str) -> dict[str, int]:
    variants = {shop: operator.store_variants(shop)[sku]["id"] for shop in STORES}
    for shop in STORES:
        operator.wait_until(partial(operator.fully_listed, shop, variants[shop]), STREAM_WAIT_S)
    offered = {shop: operator.shown(shop, variants[shop]).available for shop in STORES}
    _say(f"\n4. Checkout storm on {sku}: {STORM_ATTEMPTS} attempts, demand {STORM_DEMAND}; offered {offered}")
    rng = random.Random(4)
    sold = dict.fromkeys(STORES, 0)
    per_round = STORM_ATTEMPTS // STORM_SWEEPS
    for _ in range(STORM_SWEEPS):
        for _ in range(per_round):
            shop = rng.choices(list(STORM_DEMAND), list(STORM_DEMAND.values()))[0]
            response = operator.emulator.post(
                f"/_emulator/stores/{shop}/checkout",
                json={"lines": [{"variant_id": variants[shop], "quantity": 1}]},
            )
            sold[shop] += response.status_code == 201
        for shop in STORES:  # the scheduled sweep, run now: reads what sold and moves stock to demand
            operator.run_job("preorder-sweep", shop)
    total, atp = sum(sold.values()), sum(offered.values())
    _say(
        f"  sold {total} {sold} of PO ATP {atp}: oversold {max(0, total - atp)}, sell-through {total / max(1, atp):.0%}"
    )
    return sold


def main() -> None:
    started = time.monotonic()
    _quiet_logs()
    _say("shopsync demo — starting the embedded stack (moto, Shopify emulator, API, stream poller, Lambda shim)…")
    with LocalStack(ports=Ports.from_env(), start_scheduler=False) as stack:
        _say(f"  API {stack.api_url}   Shopify emulator {stack.emulator_url}   moto {stack.moto_url}")
        operator = Operator(stack.api_url, stack.emulator_url)
        try:
            full = import_catalog(operator)
            skus = presell_catalog(operator)
            seed_000(operator, skus)
            storm(operator, skus[1])
            orders(operator)
            preorder_webhook(operator, skus[3])
            _say("\nSummary")
            _say(
                f"  parent catalog: {full['counts']['written']} variants imported in {full['seconds']:.1f} s, "
                f"{full['shopify_calls']} Shopify calls, {full['shopify_cost']:.0f} cost points"
            )
            _say(f"  demo total {time.monotonic() - started:.1f} s")
            operate(operator, legacy_id(operator.store_variants("us-parent")[skus[0]]["id"]))
        finally:
            operator.close()


def orders(operator: Operator) -> None:
    _say("\n5. Orders from every store: the storm's anonymous checkouts and one order without contact details all")
    _say("   fail validation and are kept as failed records with every reason, never dropped:")
    variant = next(iter(operator.store_variants("uk-child").values()))
    created = operator.emulator.post(
        "/_emulator/stores/uk-child/orders",
        json={
            "lines": [{"variant_id": variant["id"], "quantity": 1}],
            "email": None,
            "phone": None,
            "shipping_address": {"address1": "1 High St", "city": "London", "zip": "N1", "country_code": "GB"},
        },
    ).json()["order"]
    legacy = str(created["id"]).rsplit("/", 1)[-1]
    for shop_id in STORES:
        _run(operator, "order-import", shop_id)
    failed = operator.call("GET", "/orders/failed", params={"shop": "uk-child"}).json()
    for record in failed[:3]:
        reasons = "; ".join(problem["message"] for problem in record["problems"])
        _say(f"  failed record {record['order_id']} ({record['name']}): {reasons}")
    _say(f"  … {len(failed)} failed records in uk-child (GET /orders/failed?shop=uk-child)")
    operator.emulator.patch(f"/_emulator/stores/uk-child/orders/{legacy}", json={"email": "ada@example.com"})
    _say("  the merchant adds the customer's email in Shopify; re-import that one order:")
    result = operator.call("POST", f"/shops/uk-child/orders/{legacy}/import").json()
    left = operator.call("GET", "/orders/failed", params={"shop": "uk-child"}).json()
    _say(
        f"  POST /shops/uk-child/orders/{legacy}/import → {result['outcome']} (status {result['status']}); "
        f"failed records left in uk-child: {len(left)}"
    )


def preorder_webhook(operator: Operator, sku: str) -> None:
    variants = {shop: operator.store_variants(shop)[sku]["id"] for shop in STORES}
    for shop in STORES:
        operator.wait_until(partial(operator.fully_listed, shop, variants[shop]), STREAM_WAIT_S)
    before = operator.offered(variants)
    total = sum(before.values())
    _say(f"\n6. A customer pre-orders 3 of {sku} in the eu-child storefront; offered before: {before}")
    order, seconds = operator.order_to_quantities(variants, "eu-child", 3, total - 3, STREAM_WAIT_S)
    order_id = f"eu-child-{order['id']}"
    (line,) = operator.call("GET", f"/orders/{order_id}").json()["versions"][0]["lines"]
    taken = ", ".join(
        f"{a['quantity']} of {a['po_item']['external_id']} (ships {a['promise_date']})" for a in line["allocations"]
    )
    _say(f"  webhook → order {order_id} imported, {line['presell']} line holds {taken}")
    _say(
        f"  PO ATP change → stream → every store re-synced {seconds:.1f} s after the checkout: "
        f"{operator.offered(variants)}"
    )
    seconds = operator.cancel_to_quantities(variants, "eu-child", str(order["id"]), total, STREAM_WAIT_S)
    _say(
        f"  the merchant cancels it (restocked) → webhook → the 3 go back to the PO → stores re-synced "
        f"{seconds:.1f} s later: {operator.offered(variants)}"
    )


def operate(operator: Operator, product_id: str) -> None:
    """What an operator looks at first: every job per store, then why one product is (not) where it should be."""
    _say("\nGET /jobs")
    for job in operator.call("GET", "/jobs").json():
        for store in job["stores"]:
            last = store["last_run"]["status"] if store["last_run"] else "never run"
            _say(
                f"  {job['job']:<16} {store['shop_id']:<10} {'on ' if store['enabled'] else 'off'} "
                f"{store['frequency'] or 'no schedule':<18} limit {store['limit'] or '-':<5} last {last:<9} "
                f"{'healthy' if store['healthy'] else 'UNHEALTHY'}"
            )
    _say(f"\nGET /products/{product_id}/diagnosis")
    for finding in operator.call("GET", f"/products/{product_id}/diagnosis").json()["findings"]:
        action = finding["action"]
        todo = f"\n            → {action['method']} {action['path']}" if action and action["method"] else ""
        _say(f"  {finding['severity']:<7} {finding['message']}{todo}")


if __name__ == "__main__":
    main()

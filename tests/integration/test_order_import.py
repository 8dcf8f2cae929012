"""Order import against the emulator's three stores: every store imported, failed records fixed in Shopify and
re-imported by id, no duplicates under overlapping windows or duplicated webhooks, POS orders fulfilled later,
refresh, PO ATP consumed and given back, webhook signatures."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import httpx
import pytest
from werkzeug.wrappers import Request, Response

from functions.api.app import lambda_handler as api_handler
from functions.order_import.app import webhook_handler
from local.http_server import BackgroundServer
from local.sandbox import RunningEmulator, Sandbox, sandbox
from shopsync.catalog.identifiers import legacy_id
from shopsync.catalog.refresh import CATALOG_REFRESH
from shopsync.jobs import runner
from shopsync.jobs.clock import utc_now
from shopsync.models.catalog import Association, AssociationSource, CatalogProduct
from shopsync.models.jobs import JobInvocation, JobRun
from shopsync.models.shop import Shop
from shopsync.orders.importer import OrderImporter, order_gid, with_all_lines
from shopsync.orders.order_import import ORDER_IMPORT
from shopsync.settings import get_settings
from shopsync.shopify.documents import load_document
from shopsync.store import associations as association_store
from shopsync.store import catalog as catalog_store
from shopsync.store import presell as presell_store
from shopsync.store import shops as shop_store
from shopsync.store import table
from tests.factories import api_event, lambda_context

PLENTY = 600_000
CATALOG_SKUS = 3
ADDRESS = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "address1": "1 Analytical Way",
    "city": "London",
    "zip": "N1 1AA",
    "country": "United Kingdom",
    "country_code": "GB",
}
WEBHOOK_KEY = "whsec_local_test"


def run_import(shop_id: str | None = None) -> list[JobRun]:
    return runner.execute(ORDER_IMPORT, JobInvocation(shop_id=shop_id), lambda: PLENTY)


def api(method: str, path: str, body: object = None, query: dict[str, str] | None = None) -> tuple[int, Any]:
    response = api_handler(api_event(method, path, body, query), lambda_context())
    return response["statusCode"], json.loads(response["body"] or "null")


def variants_by_sku(shopify: RunningEmulator, shop_id: str) -> dict[str, dict[str, Any]]:
    state = httpx.get(f"{shopify.base_url}/_emulator/stores/{shop_id}").json()
    return {
        variant["sku"]: {**variant, "product_id": product["id"]}
        for product in state["products"]
        for variant in product["variants"]
    }


def link_catalog(variants: dict[str, dict[str, dict[str, Any]]], skus: list[str]) -> None:
    """A few catalog products, linked in every store, written directly: what product import and the association
    job would store for them, without their seconds of work over the whole demo catalog."""
    now = datetime.now(UTC)
    parent = variants["us-parent"]
    products = [
        CatalogProduct(
            product_id=legacy_id(parent[sku]["id"]),
            shopify_product_id=parent[sku]["product_id"],
            shopify_variant_id=parent[sku]["id"],
            inventory_item_id=parent[sku]["inventory_item_id"],
            sku=sku,
            barcode=parent[sku]["barcode"],
            title=sku,
            variant_title=parent[sku]["title"],
            handle=sku.lower(),
            status="ACTIVE",
            shopify_updated_at=now,
        )
        for sku in skus
    ]
    catalog_store.upsert_products(products, "us-parent", now)
    for child in ("eu-child", "uk-child"):
        for product in products:
            variant = variants[child][product.sku or ""]
            association = Association(
                product_id=product.product_id,
                shop_id=child,
                shopify_product_id=variant["product_id"],
                shopify_variant_id=variant["id"],
                inventory_item_id=variant["inventory_item_id"],
                source=AssociationSource.ASSOCIATION_JOB,
                linked_at=now,
            )
            catalog_store.put_association(association)
            association_store.set_linked_product(association)


def place_order(shopify: RunningEmulator, shop_id: str, lines: list[dict[str, Any]], **fields: Any) -> str:
    """An order in the store; returns shopsync's order id for it."""
    fields.setdefault("email", "ada@example.com")
    fields.setdefault("shipping_address", ADDRESS)
    order_gid = shopify.emulator.create_order(shop_id, lines, **fields)
    return f"{shop_id}-{legacy_id(order_gid)}"


def detail(order_id: str) -> dict[str, Any]:
    status, body = api("GET", f"/orders/{order_id}")
    assert status == 200, body
    return body


@pytest.fixture(scope="module")
def box() -> Iterator[tuple[Sandbox, dict[str, dict[str, dict[str, Any]]]]]:
    """One sandbox for the module with a few catalog products linked in every store; each test places its own
    orders and looks only at those."""
    with sandbox(get_settings().table_name) as running:
        variants = {shop_id: variants_by_sku(running.shopify, shop_id) for shop_id in running.shops}
        skus = sorted(set.intersection(*(set(by_sku) for by_sku in variants.values())))[:CATALOG_SKUS]
        link_catalog(variants, skus)
        yield running, {shop_id: {sku: by_sku[sku] for sku in skus} for shop_id, by_sku in variants.items()}


@pytest.fixture
def shopify(box) -> RunningEmulator:
    return box[0].shopify


@pytest.fixture
def catalog(box) -> dict[str, dict[str, dict[str, Any]]]:
    """The linked variants of each store by SKU."""
    return box[1]


def shared_sku(catalog: dict[str, dict[str, dict[str, Any]]], index: int = 0) -> str:
    return sorted(catalog["us-parent"])[index]


def line(catalog: dict[str, dict[str, dict[str, Any]]], shop_id: str, sku: str, quantity: int = 1) -> dict[str, Any]:
    return {"variant_id": catalog[shop_id][sku]["id"], "quantity": quantity}


# --- import from every store, dedupe ------------------------------------------------------------------------------


def test_every_store_is_imported_once_under_overlapping_windows(catalog, shopify):
    sku = shared_sku(catalog)
    placed = {shop_id: place_order(shopify, shop_id, [line(catalog, shop_id, sku, 2)]) for shop_id in catalog}

    runs = run_import()

    assert {run.shop_id for run in runs} == set(catalog)
    for shop_id, order_id in placed.items():
        order = detail(order_id)
        (version,) = order["versions"]
        assert version["status"] == "CREATED"
        assert version["order"]["source"] == "web"
        assert version["order"]["contact"]["email"] == "ada@example.com"
        assert version["order"]["shipping_address"]["city"] == "London"
        (imported_line,) = version["lines"]
        assert imported_line["product_id"] == legacy_id(catalog["us-parent"][sku]["id"]), shop_id
    # The next runs re-read the overlap (5 min before the watermark): nothing is written again.
    again = run_import()
    assert sum(run.counts.written for run in again) == 0
    assert sum(run.counts.skipped for run in again) >= len(placed)
    assert all(len(detail(order_id)["versions"]) == 1 for order_id in placed.values())


# --- failed records -----------------------------------------------------------------------------------------------

FAILURES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "MISSING_SHIPPING_ADDRESS": ({"shipping_address": None}, {"shipping_address": ADDRESS}),
    "INCOMPLETE_SHIPPING_ADDRESS": (
        {"shipping_address": {**ADDRESS, "address1": "", "city": None}},
        {"shipping_address": ADDRESS},
    ),
    "MISSING_CONTACT": ({"email": None, "phone": None}, {"phone": "+44 20 7946 0000"}),
    "MALFORMED_EMAIL": ({"email": "ada(at)example.com"}, {"email": "ada@example.com"}),
}


@pytest.mark.parametrize("reason", sorted(FAILURES))
def test_failure_reason_fixed_in_shopify_then_reimported_by_id(catalog, shopify, reason):
    broken, fix = FAILURES[reason]
    sku = shared_sku(catalog)
    order_id = place_order(shopify, "eu-child", [line(catalog, "eu-child", sku)], **broken)
    shop_id, number = order_id.rsplit("-", 1)

    run_import("eu-child")

    status, failed = api("GET", "/orders/failed", query={"shop": "eu-child", "reason": reason})
    assert status == 200
    (record,) = [f for f in failed if f["order_id"] == order_id]
    assert reason in {problem["reason"] for problem in record["problems"]}
    assert json.loads(record["raw_payload"])["id"].endswith(f"/{number}")
    assert record["attempts"] == 1 and record["next_attempt_at"]
    # Re-importing before the fix says why, and keeps the record
    status, refused = api("POST", f"/shops/{shop_id}/orders/{number}/import")
    assert status == 422 and reason in {p["reason"] for p in refused["problems"]}

    shopify.emulator.update_order(shop_id, int(number), **fix)
    status, result = api("POST", f"/shops/{shop_id}/orders/{number}/import")

    assert status == 200, result
    assert (result["outcome"], result["version"], result["status"]) == ("IMPORTED", 1, "CREATED")
    assert api("GET", "/orders/failed", query={"shop": "eu-child", "reason": reason})[1] == []
    assert detail(order_id)["failure"] is None


def make_retry_due(order_id: str) -> None:
    shop_id, number = order_id.rsplit("-", 1)
    due = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    table.update_item(
        f"ORDER#{shop_id}#{number}",
        "FAILED",
        update="SET next_attempt_at = :due",
        values={":due": due},
        condition="attribute_exists(next_attempt_at)",
    )


def test_unknown_variant_is_resolved_once_the_operator_links_it(catalog, shopify):
    # Given a child-store variant that is not linked, sold under a SKU no catalog product has
    sku = shared_sku(catalog)
    variant = catalog["eu-child"][sku]
    product_id = legacy_id(catalog["us-parent"][sku]["id"])
    assert api("DELETE", f"/products/{product_id}/shops/eu-child")[0] == 204
    order_id = place_order(shopify, "eu-child", [{**line(catalog, "eu-child", sku), "sku": "EU-RENAMED-1"}])
    run_import("eu-child")
    failed = api("GET", "/orders/failed", query={"reason": "UNKNOWN_VARIANT"})[1]
    assert [f["order_id"] for f in failed] == [order_id]
    # When the operator links the variant, then the automatic retry imports the order
    link = {"shopify_product_id": variant["product_id"], "shopify_variant_id": variant["id"]}
    assert api("PUT", f"/products/{product_id}/shops/eu-child", link)[0] in (200, 201)
    make_retry_due(order_id)
    (run,) = run_import("eu-child")
    assert run.counts.written == 1
    order = detail(order_id)
    assert order["failure"] is None
    assert order["versions"][0]["lines"][0]["product_id"] == product_id


def test_failed_record_retries_are_bounded(catalog, shopify):
    order_id = place_order(shopify, "us-parent", [{"sku": "NOWHERE-1", "name": "Mystery", "quantity": 1}])
    run_import("us-parent")
    for _ in range(get_settings().order_retry_max_attempts - 1):
        make_retry_due(order_id)
        run_import("us-parent")
    failure = detail(order_id)["failure"]
    assert failure["attempts"] == get_settings().order_retry_max_attempts
    assert failure["next_attempt_at"] is None  # left for the operator: the next runs do not pick it up
    run_import("us-parent")
    assert detail(order_id)["failure"]["attempts"] == get_settings().order_retry_max_attempts


# --- orders with more lines than one read returns -----------------------------------------------------------------


def test_an_order_of_230_lines_is_imported_whole(catalog, shopify):
    skus = sorted(catalog["eu-child"])
    lines = [line(catalog, "eu-child", skus[index % len(skus)], 1 + index % 4) for index in range(230)]
    order_id = place_order(shopify, "eu-child", lines)
    shop_id, number = order_id.rsplit("-", 1)

    (run,) = run_import("eu-child")

    assert run.counts.failed == 0
    (version,) = detail(order_id)["versions"]
    shopify_lines = version["order"]["lines"]
    assert len(shopify_lines) == len(version["lines"]) == 230
    assert [item["quantity"] for item in shopify_lines] == [item["quantity"] for item in lines]
    assert not version["order"]["lines_truncated"]
    # Read by id (re-import, refresh, webhooks, retries), the order has the same 230 lines: nothing changed
    assert api("POST", f"/orders/{order_id}/refresh")[1]["outcome"] == "UNCHANGED"
    assert api("POST", f"/shops/{shop_id}/orders/{number}/import")[1]["outcome"] == "UNCHANGED"


def test_an_order_whose_remaining_lines_cannot_be_read_fails_whole_with_its_reason(catalog, shopify):
    order_id = place_order(shopify, "uk-child", [line(catalog, "uk-child", shared_sku(catalog))] * 101)
    shop = shop_store.get_shop("uk-child")
    assert shop is not None
    with runner.shop_client(shop, lambda: PLENTY) as client:
        node = client.execute(load_document("OrderById"), {"id": order_gid(order_id.rsplit("-", 1)[1])}).data["order"]
        # The order is gone from Shopify by the time its remaining lines are read
        gone = {**node, "id": "gid://shopify/Order/999999999", "legacyResourceId": "999999999"}
        assert with_all_lines(client, gone) == gone

    (result,) = OrderImporter(shop, utc_now).import_nodes([gone])

    assert result.outcome == "FAILED"
    assert [(problem.reason, problem.message) for problem in result.problems] == [
        ("TOO_MANY_LINES", "only 100 lines of the order could be read from Shopify; it is not imported in part")
    ]
    failure = detail("uk-child-999999999")["failure"]
    assert json.loads(failure["raw_payload"]) == gone


def test_unreadable_payloads_are_failed_records_with_every_reason_and_the_payload(catalog):
    shop = shop_store.get_shop("us-parent")
    assert shop is not None
    payloads: list[Any] = [
        ["not", "an", "order"],
        {"name": "#NO-ID", "email": "ada@example.com"},
        {"id": "gid://shopify/Order/424242", "createdAt": 5, "lineItems": {"nodes": [{"quantity": 2**40}]}},
    ]

    results = OrderImporter(shop, utc_now).import_nodes(payloads)

    assert [result.outcome for result in results] == ["FAILED"] * 3
    assert len({result.order_id for result in results}) == 3  # none overwrites another
    assert [problem.message for problem in results[2].problems] == [
        "legacyResourceId: Field required",
        "name: Field required",
        "createdAt: is not an ISO 8601 date-time string (got 5)",
        "updatedAt: Field required",
        "lineItems.nodes.0.id: Field required",
        "lineItems.nodes.0.quantity: Input should be less than or equal to 2147483647 (got 1099511627776)",
    ]
    failed = {f["order_id"]: f for f in api("GET", "/orders/failed", query={"shop": "us-parent"})[1]}
    for payload, result in zip(payloads, results, strict=True):
        record = failed[result.order_id]
        assert json.loads(record["raw_payload"]) == payload
        assert {problem["reason"] for problem in record["problems"]} == {"UNREADABLE_FIELD"}
    # Only the one that names an order is retried: the others have nothing to re-read
    assert [failed[result.order_id]["next_attempt_at"] is not None for result in results] == [False, False, True]


# --- versions: POS fulfilled later, refresh -----------------------------------------------------------------------


def test_pos_order_fulfilled_after_import_becomes_a_new_completed_version(catalog, shopify):
    sku = shared_sku(catalog)
    order_id = place_order(shopify, "us-parent", [line(catalog, "us-parent", sku)], source_name="pos")
    shop_id, number = order_id.rsplit("-", 1)
    run_import("us-parent")
    (first,) = detail(order_id)["versions"]
    assert (first["status"], first["order"]["source"]) == ("CREATED", "pos")

    shopify.emulator.fulfil_order(shop_id, int(number))
    run_import("us-parent")

    order = detail(order_id)
    current, old = order["versions"]
    assert (order["current_version"], current["version"], current["status"]) == (2, 2, "COMPLETED")
    assert (old["version"], old["status"], old["tags"]) == (1, "CANCELLED", ["Old Version"])
    assert old["superseded_at"]


def test_refresh_makes_a_new_version_only_when_shopify_differs(catalog, shopify):
    sku = shared_sku(catalog)
    order_id = place_order(shopify, "uk-child", [line(catalog, "uk-child", sku)])
    shop_id, number = order_id.rsplit("-", 1)
    status, imported = api("POST", f"/shops/{shop_id}/orders/{number}/import")
    assert (status, imported["outcome"]) == (200, "IMPORTED")
    assert api("POST", f"/orders/{order_id}/refresh")[1]["outcome"] == "UNCHANGED"

    shopify.emulator.update_order(shop_id, int(number), tags=["gift"])
    status, refreshed = api("POST", f"/orders/{order_id}/refresh")

    assert (status, refreshed["outcome"], refreshed["version"]) == (200, "NEW_VERSION", 2)
    assert [v["status"] for v in detail(order_id)["versions"]] == ["CREATED", "CANCELLED"]
    assert api("POST", "/orders/uk-child-999999/refresh")[0] == 404


# --- pre-orders take PO ATP ---------------------------------------------------------------------------------------


def po_item_allocated(product_id: str) -> dict[str, int]:
    return {item.external_id: item.allocated for item in presell_store.product_state(product_id).po_items}


def test_preorder_lines_take_po_atp_fifo_and_give_it_back_on_cancel(catalog, shopify):
    # Given a product on pre-order with two PO items: 2 units arriving in 20 days, 10 in 50 days
    sku = shared_sku(catalog, 1)
    product_id = legacy_id(catalog["us-parent"][sku]["id"])
    today = datetime.now(UTC).date()
    items = [
        {
            "externalId": "PO-EARLY",
            "itemId": "1",
            "sku": sku,
            "quantity": 2,
            "isNewProduct": "Y",
            "arrivalDate": (today + timedelta(days=20)).isoformat(),
        },
        {
            "externalId": "PO-LATE",
            "itemId": "1",
            "sku": sku,
            "quantity": 10,
            "isNewProduct": "Y",
            "arrivalDate": (today + timedelta(days=50)).isoformat(),
        },
    ]
    assert api("POST", "/purchase-orders", {"items": items})[0] == 200
    assert api("PUT", "/inventory", [{"sku": sku, "on_hand": 0, "online_atp": 0}])[0] == 200
    runner.execute(CATALOG_REFRESH, JobInvocation(params={"mode": "incremental"}), lambda: PLENTY)
    assert product_id not in presell_store.refresh_markers()
    # When a pre-order of 3 is imported, from a child store
    order_id = place_order(shopify, "eu-child", [line(catalog, "eu-child", sku, 3)])
    shop_id, number = order_id.rsplit("-", 1)
    run_import("eu-child")

    # Then it took the 2 arriving first and 1 of the next, and says when it can ship
    (imported,) = detail(order_id)["versions"][0]["lines"]
    assert (imported["presell"], imported["presell_sources"]) == ("PRE_ORDER", ["membership"])
    assert [(a["po_item"]["external_id"], a["quantity"]) for a in imported["allocations"]] == [
        ("PO-EARLY", 2),
        ("PO-LATE", 1),
    ]
    assert imported["allocations"][1]["promise_date"] == items[1]["arrivalDate"]
    assert po_item_allocated(product_id) == {"PO-EARLY": 2, "PO-LATE": 1}
    assert product_id in presell_store.refresh_markers()  # the catalog refresh re-decides the product
    # A duplicate delivery or a refresh takes nothing more
    assert api("POST", f"/orders/{order_id}/refresh")[1]["outcome"] == "UNCHANGED"
    shopify.emulator.update_order(shop_id, int(number), note="call before delivery")
    assert api("POST", f"/orders/{order_id}/refresh")[1]["outcome"] == "NEW_VERSION"
    assert po_item_allocated(product_id) == {"PO-EARLY": 2, "PO-LATE": 1}

    # When the order is cancelled in Shopify, the units go back
    shopify.emulator.cancel_order(shop_id, int(number), "CUSTOMER")
    run_import("eu-child")

    assert po_item_allocated(product_id) == {"PO-EARLY": 0, "PO-LATE": 0}
    current = detail(order_id)["versions"][0]
    assert current["status"] == "CANCELLED" and current["lines"][0]["allocations"] == []


# --- webhooks -----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def webhook_shop(box) -> Shop:
    """eu-child registered with its myshopify domain and webhook key."""
    secret_name = "shopsync/test/webhooks/eu-child"
    boto3.client("secretsmanager").create_secret(Name=secret_name, SecretString=WEBHOOK_KEY)
    shop = shop_store.get_shop("eu-child")
    assert shop is not None
    updated = shop.model_copy(update={"myshopify_domain": "eu-child.myshopify.com", "webhook_secret_name": secret_name})
    shop_store.save_shop(updated, shop)
    return updated


def signature(body: bytes, key: str = WEBHOOK_KEY) -> str:
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def deliver(
    body: bytes, *, topic: str = "orders/create", webhook_id: str | None = None, hmac_header: str | None = None
) -> tuple[int, Any]:
    """POST /webhooks/shopify as Shopify sends it; signed with the store's key unless `hmac_header` says otherwise
    ("" = no header)."""
    event = api_event("POST", "/webhooks/shopify", body.decode())
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": "eu-child.myshopify.com",
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
        "X-Shopify-API-Version": "2026-07",
        "X-Shopify-Triggered-At": datetime.now(UTC).isoformat(),
        "X-Shopify-Hmac-Sha256": signature(body) if hmac_header is None else hmac_header,
    }
    if hmac_header == "":
        del headers["X-Shopify-Hmac-Sha256"]
    event["headers"] = headers
    event["multiValueHeaders"] = {name: [value] for name, value in headers.items()}
    response = api_handler(event, lambda_context())
    return response["statusCode"], json.loads(response["body"] or "null")


def deliveries() -> list[dict[str, Any]]:
    """The stored deliveries, as the table stream would carry their INSERTs."""
    raw = boto3.client("dynamodb").scan(
        TableName=get_settings().table_name,
        FilterExpression="#type = :delivery",
        ExpressionAttributeNames={"#type": "type"},
        ExpressionAttributeValues={":delivery": {"S": "WEBHOOK_DELIVERY"}},
    )["Items"]
    return raw


def stream_event(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "eventID": str(index),
                "eventName": "INSERT",
                "eventSource": "aws:dynamodb",
                "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/shopsync-test/stream/2026",
                "dynamodb": {
                    "Keys": {"PK": item["PK"], "SK": item["SK"]},
                    "NewImage": item,
                    "SequenceNumber": str(index),
                    "StreamViewType": "NEW_AND_OLD_IMAGES",
                },
            }
            for index, item in enumerate(items)
        ]
    }


def test_webhook_with_a_wrong_or_missing_signature_is_refused_and_stores_nothing(webhook_shop):
    body = json.dumps({"id": 1, "admin_graphql_api_id": "gid://shopify/Order/1"}).encode()
    before = len(deliveries())
    assert deliver(body, hmac_header=signature(body, "not-the-key"))[0] == 401
    assert deliver(body, hmac_header="")[0] == 401
    assert deliver(body, hmac_header="bm90IGEgc2lnbmF0dXJl")[0] == 401
    status, refused = deliver(body + b" ", hmac_header=signature(body))  # the body changed after signing
    assert (status, refused["error"]) == (401, "Unauthorized")
    assert len(deliveries()) == before


def test_webhook_is_stored_once_and_imports_the_order_once(webhook_shop, catalog, shopify):
    sku = shared_sku(catalog, 2)
    order_id = place_order(shopify, "eu-child", [line(catalog, "eu-child", sku)])
    shop_id, number = order_id.rsplit("-", 1)
    body = json.dumps(shopify.emulator.order_json(shop_id, int(number))).encode()
    webhook_id = str(uuid.uuid4())
    before = len(deliveries())

    first = deliver(body, webhook_id=webhook_id)
    replay = deliver(body, webhook_id=webhook_id)
    # Shopify sends orders/updated for the same change as another delivery (another webhook id)
    other = deliver(body, topic="orders/updated")

    assert first == (200, {"status": "accepted", "webhook_id": webhook_id, "order": f"gid://shopify/Order/{number}"})
    assert replay[1]["status"] == "duplicate"
    assert other[1]["status"] == "accepted"
    stored = deliveries()
    assert len(stored) == before + 2
    response = webhook_handler(stream_event(stored[before:]), lambda_context())
    assert response == {"batchItemFailures": []}
    order = detail(order_id)
    assert len(order["versions"]) == 1 and order["versions"][0]["status"] == "CREATED"
    # A topic shopsync does not handle is acknowledged and not stored
    assert deliver(body, topic="products/update")[1]["status"] == "ignored"
    assert len(deliveries()) == before + 2


@pytest.fixture
def webhook_endpoint(webhook_shop) -> Iterator[str]:
    """POST /webhooks/shopify on loopback, for the emulator's real deliveries (headers and raw body as sent)."""

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        event = api_event("POST", "/webhooks/shopify", request.get_data().decode())
        event["headers"] = dict(request.headers)
        event["multiValueHeaders"] = {name: [value] for name, value in request.headers.items()}
        answer = api_handler(event, lambda_context())
        return Response(answer["body"], status=answer["statusCode"])(environ, start_response)

    server = BackgroundServer(app, name="webhooks")
    server.start()
    yield f"{server.url}/webhooks/shopify"
    server.stop()


def test_emulator_deliveries_duplicated_are_stored_once_and_import_once(webhook_endpoint, catalog, shopify):
    emulator = shopify.emulator
    for topic in ("orders/create", "orders/updated"):
        emulator.subscribe_webhook("eu-child", topic, webhook_endpoint, secret=WEBHOOK_KEY)
    emulator.webhook_faults("eu-child", duplicate=True)
    before = len(deliveries())
    try:
        order_id = place_order(shopify, "eu-child", [line(catalog, "eu-child", shared_sku(catalog, 2), 2)])
        shopify.emulator.update_order("eu-child", int(order_id.rsplit("-", 1)[1]), note="leave at the door")
        assert emulator.wait_for_webhooks(timeout=20)
    finally:
        emulator.webhook_faults("eu-child", duplicate=False)

    sent = [d for d in emulator.webhook_deliveries("eu-child") if d["topic"] in ("orders/create", "orders/updated")]
    stored = deliveries()[before:]
    # Every delivery was answered 2xx, but each webhook id is stored once
    assert len({item["webhook_id"]["S"] for item in stored}) == len(stored) == 2
    assert len(sent) >= 4
    assert webhook_handler(stream_event(stored), lambda_context()) == {"batchItemFailures": []}
    order = detail(order_id)
    assert len(order["versions"]) == 1
    assert order["versions"][0]["order"]["note"] == "leave at the door"

"""Webhook deliveries over real loopback HTTP: signed payloads, headers, retries, duplicates, drops, delays."""

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from local.emulator import ShopifyEmulator, serve_in_thread
from local.emulator.testing import AdminGraphQL, in_process_http

SECRET = "shpss_test_secret"


class Receiver:
    """A loopback webhook endpoint that records requests and answers with scripted status codes."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.statuses: list[int] = []  # answered in order, then 200
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.requests.append({"headers": dict(self.headers), "body": body})
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/webhooks/shopify"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()


@pytest.fixture
def emulator() -> Iterator[ShopifyEmulator]:
    emulator = ShopifyEmulator(webhook_backoff_s=0.01)
    emulator.add_store(shop_id="us-parent", access_token="shpat_x", webhook_secret=SECRET)
    yield emulator
    emulator.close()


def signed(body: bytes, header: str) -> bool:
    digest = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(digest, header)


def test_order_webhooks_are_signed_and_carry_the_rest_payload(emulator, receiver):
    emulator.subscribe_webhook("us-parent", "orders/create", receiver.url)
    emulator.subscribe_webhook("us-parent", "ORDERS_CANCELLED", receiver.url)
    order_id = emulator.create_order(
        "us-parent",
        [{"sku": "TEE-1", "quantity": 2, "price": "5.00", "properties": {"gift": "yes"}}],
        email="a@example.com",
        tags=["x", "y"],
        customer={"first_name": "Ada", "email": "a@example.com"},
    )
    emulator.update_order("us-parent", order_id, phone="+1555")  # no orders/updated subscriber: nothing sent
    emulator.cancel_order("us-parent", order_id, "CUSTOMER")
    assert emulator.wait_for_webhooks(5)
    topics = [r["headers"]["X-Shopify-Topic"] for r in receiver.requests]
    assert sorted(topics) == ["orders/cancelled", "orders/create"]
    for request in receiver.requests:
        headers = request["headers"]
        assert signed(request["body"], headers["X-Shopify-Hmac-Sha256"])
        assert headers["X-Shopify-Shop-Domain"] == "us-parent.myshopify.com"
        assert headers["X-Shopify-API-Version"] == "2026-07"
        assert headers["X-Shopify-Webhook-Id"] and headers["X-Shopify-Event-Id"]
        assert headers["X-Shopify-Triggered-At"].endswith("Z")
    create = json.loads(
        next(r["body"] for r in receiver.requests if r["headers"]["X-Shopify-Topic"] == "orders/create")
    )
    assert create["admin_graphql_api_id"] == order_id and create["id"] == int(order_id.rsplit("/", 1)[1])
    assert (create["name"], create["email"], create["phone"], create["tags"]) == (
        "#1001",
        "a@example.com",
        None,
        "x, y",
    )
    assert (create["financial_status"], create["fulfillment_status"], create["source_name"]) == ("paid", None, "web")
    assert create["line_items"][0] | {"id": 0, "admin_graphql_api_id": ""} == {
        "id": 0,
        "admin_graphql_api_id": "",
        "variant_id": None,
        "product_id": None,
        "sku": "TEE-1",
        "title": "TEE-1",
        "name": "TEE-1",
        "quantity": 2,
        "current_quantity": 2,
        "fulfillable_quantity": 2,
        "price": "5.00",
        "properties": [{"name": "gift", "value": "yes"}],
        "selling_plan_allocation": None,
    }
    assert create["customer"]["first_name"] == "Ada" and create["shipping_address"] is None
    cancelled = json.loads(
        next(r["body"] for r in receiver.requests if r["headers"]["X-Shopify-Topic"] == "orders/cancelled")
    )
    assert (cancelled["cancel_reason"], cancelled["phone"]) == ("customer", "+1555")
    stats = emulator.stats("us-parent")["webhooks"]
    assert (stats["delivered"], stats["failed"], stats["pending"], stats["subscriptions"]) == (2, 0, 0, 2)


def test_retries_keep_the_webhook_id_until_a_2xx(emulator, receiver):
    emulator.subscribe_webhook("us-parent", "orders/create", receiver.url)
    receiver.statuses = [500, 503, 404]
    emulator.create_order("us-parent", [{"sku": "A", "quantity": 1}])
    assert emulator.wait_for_webhooks(5)
    assert len(receiver.requests) == 4
    assert len({r["headers"]["X-Shopify-Webhook-Id"] for r in receiver.requests}) == 1
    assert len({r["body"] for r in receiver.requests}) == 1  # the original payload every time
    (delivery,) = emulator.webhook_deliveries("us-parent")
    assert (delivery["status"], delivery["attempts"], delivery["responses"]) == ("delivered", 4, [500, 503, 404, 200])


def test_gives_up_after_max_attempts_and_on_unreachable_subscribers():
    emulator = ShopifyEmulator(webhook_backoff_s=0.005, webhook_max_attempts=3, webhook_timeout_s=0.5)
    try:
        emulator.add_store(shop_id="s1")
        emulator.subscribe_webhook("s1", "orders/create", "http://127.0.0.1:9/nobody-listens")
        emulator.create_order("s1", [{"sku": "A", "quantity": 1}])
        assert emulator.wait_for_webhooks(5)
        (delivery,) = emulator.webhook_deliveries("s1")
        assert (delivery["status"], delivery["attempts"]) == ("failed", 3)
        assert delivery["responses"] == ["ConnectError"] * 3
        with pytest.raises(ValueError, match="loopback"):
            emulator.subscribe_webhook("s1", "orders/create", "https://example.com/hook")
        with pytest.raises(ValueError, match="unsupported webhook topic"):
            emulator.subscribe_webhook("s1", "products/update", "http://127.0.0.1:9/")
    finally:
        emulator.close()


def test_duplicate_drop_and_delay_switches(emulator, receiver):
    emulator.subscribe_webhook("us-parent", "orders/create", receiver.url)
    emulator.webhook_faults("us-parent", duplicate=True)
    emulator.create_order("us-parent", [{"sku": "A", "quantity": 1}])
    assert emulator.wait_for_webhooks(5)
    assert len(receiver.requests) == 2
    assert len({r["headers"]["X-Shopify-Webhook-Id"] for r in receiver.requests}) == 1  # same delivery twice
    emulator.webhook_faults("us-parent", duplicate=False, drop_rate=0.5, seed=7)
    for _ in range(20):
        emulator.create_order("us-parent", [{"sku": "A", "quantity": 1}])
    assert emulator.wait_for_webhooks(5)
    dropped = [d for d in emulator.webhook_deliveries("us-parent") if d["status"] == "dropped"]
    assert 4 <= len(dropped) <= 16
    assert len(receiver.requests) == 2 + 20 - len(dropped)
    emulator.webhook_faults("us-parent", drop_rate=0.0, delay_s=0.3)
    emulator.create_order("us-parent", [{"sku": "A", "quantity": 1}])
    assert not emulator.wait_for_webhooks(0.1)  # still held back
    assert emulator.wait_for_webhooks(5)


def test_checkout_over_a_real_server_fires_orders_create(receiver):
    emulator = ShopifyEmulator()
    emulator.add_store(shop_id="us-parent", access_token="shpat_x", webhook_secret=SECRET)
    server, base_url = serve_in_thread(emulator)
    try:
        import httpx

        with httpx.Client(base_url=base_url) as http:
            admin = AdminGraphQL(http, "us-parent", "shpat_x")
            created = admin(
                """mutation($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) {
                  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) {
                    webhookSubscription { id topic uri endpoint { ... on WebhookHttpEndpoint { callbackUrl } } }
                    userErrors { field message } } }""",
                {"topic": "ORDERS_CREATE", "sub": {"uri": receiver.url, "format": "JSON"}},
            )["data"]["webhookSubscriptionCreate"]
            assert created["userErrors"] == [] and created["webhookSubscription"]["topic"] == "ORDERS_CREATE"
            assert created["webhookSubscription"]["endpoint"] == {"callbackUrl": receiver.url}
            refused = admin(
                """mutation($sub: WebhookSubscriptionInput!) { webhookSubscriptionCreate(topic: ORDERS_CREATE,
                  webhookSubscription: $sub) { webhookSubscription { id } userErrors { field message } } }""",
                {"sub": {"uri": "https://example.com/x"}},
            )["data"]["webhookSubscriptionCreate"]
            assert refused["webhookSubscription"] is None and refused["userErrors"][0]["field"] == [
                "webhookSubscription",
                "uri",
            ]
            product = admin(
                """mutation { productSet(synchronous: true, input: {title: "Tee",
                  productOptions: [{name: "Title", values: [{name: "Default Title"}]}],
                  variants: [{optionValues: [{optionName: "Title", name: "Default Title"}],
                              inventoryPolicy: CONTINUE, inventoryItem: {tracked: true}}]}) {
                  product { variants(first: 1) { nodes { id } } } } }"""
            )["data"]["productSet"]["product"]
            variant = product["variants"]["nodes"][0]["id"]
            response = http.post(
                "/_emulator/stores/us-parent/checkout",
                json={"lines": [{"variant_id": variant, "quantity": 1}], "email": "e@example.com"},
            )
            assert response.status_code == 201
            assert emulator.wait_for_webhooks(5)
            payload = json.loads(receiver.requests[0]["body"])
            assert payload["admin_graphql_api_id"] == response.json()["order_id"]
            assert payload["line_items"][0]["variant_id"] == int(variant.rsplit("/", 1)[1])
            deliveries = http.get("/_emulator/stores/us-parent/webhooks").json()["deliveries"]
            assert [d["status"] for d in deliveries] == ["delivered"]
    finally:
        server.shutdown()
        emulator.close()


def test_no_subscriber_no_payload_work(emulator):
    admin = AdminGraphQL(in_process_http(emulator), "us-parent", "shpat_x")
    assert admin("{ shop { id } }")["data"]["shop"]["id"]
    emulator.create_order("us-parent", [{"sku": "A", "quantity": 1}])
    assert emulator.webhook_deliveries("us-parent") == []
    assert emulator.wait_for_webhooks(0.1)

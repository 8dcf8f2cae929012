"""Shopify order webhooks: verify, dedupe, hand off; and the consumer that imports the order.

Receiving (POST /webhooks/shopify, within Shopify's 5 s): the store comes from X-Shopify-Shop-Domain, the signature
(base64 HMAC-SHA256 of the raw body with the store's webhook key) is compared in constant time before the body is
parsed, and the delivery is stored under its X-Shopify-Webhook-Id with a conditional put. That one write is both the
dedupe (Shopify retries with the same id) and the hand-off: its INSERT on the table stream reaches the consumer,
with the stream's retries, bisection and on-failure queue. An SQS hand-off would need a second write after the
dedupe record, and a crash between the two would lose the delivery while blocking its retries.

Consuming: the order is re-read with `order(id:)` and imported through the same importer as the job: the payload
is the REST shape of some earlier moment (deliveries are unordered and retried for hours), Shopify's current
order is the truth. Nothing is stored for a bad or missing signature.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, Field, Strict, ValidationError

from shopsync.errors import InvalidRequest, NotFound, Unauthorized, UpstreamUnavailable
from shopsync.jobs.clock import utc_now
from shopsync.jobs.runner import shop_client
from shopsync.models.orders import OrderImportResult
from shopsync.models.shop import Shop
from shopsync.observability import logger
from shopsync.orders.importer import OrderImporter, fetch_order
from shopsync.orders.node import OrderGid
from shopsync.settings import get_settings
from shopsync.store import orders as order_store
from shopsync.store import secrets
from shopsync.store import shops as shop_store

ORDER_TOPICS = frozenset({"orders/create", "orders/updated", "orders/cancelled"})


def signature_matches(raw_body: bytes, signature: str | None, secret: str) -> bool:
    if not signature:
        return False
    digest = base64.b64encode(hmac.new(secret.encode(), raw_body, hashlib.sha256).digest()).decode("ascii")
    return hmac.compare_digest(digest, signature.strip())


class ReceiptStatus(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"


class WebhookReceipt(BaseModel):
    status: ReceiptStatus
    webhook_id: str | None = None
    order: str | None = None


def _shop_for_domain(domain: str) -> Shop | None:
    wanted = domain.strip().lower()
    return next((shop for shop in shop_store.list_shops() if shop.myshopify_domain == wanted), None)


def _verified_shop(raw_body: bytes, header: Callable[[str], str | None]) -> Shop:
    signature = header("X-Shopify-Hmac-Sha256")
    domain = header("X-Shopify-Shop-Domain")
    if not signature:
        raise Unauthorized("X-Shopify-Hmac-Sha256 is missing")
    shop = _shop_for_domain(domain) if domain else None
    if shop is None or not shop.webhook_secret_name:
        raise Unauthorized(f"no registered store with a webhook key has the domain {domain!r}")
    try:
        secret = secrets.get_webhook_secret(shop.webhook_secret_name)
    except secrets.SecretUnavailable as error:
        # Our configuration, not the sender's fault: a 5xx makes Shopify retry once it is fixed.
        raise UpstreamUnavailable(f"the webhook key of {shop.shop_id} is unavailable: {error}") from error
    if not signature_matches(raw_body, signature, secret):
        raise Unauthorized("the X-Shopify-Hmac-Sha256 signature does not match the body")
    return shop


class _OrderReference(BaseModel):
    """What shopsync reads of an order webhook's REST body: the order it names (the rest is re-read from Shopify)."""

    admin_graphql_api_id: OrderGid | None = None
    id: Annotated[int, Strict(), Field(gt=0, lt=2**64)] | None = None


def webhook_order_gid(raw_body: bytes) -> str:
    """The order GID the body names; InvalidRequest with every reason when the body is not JSON, not an object, or
    names no order (pydantic's JSON parser also bounds nesting, where json.loads would raise RecursionError)."""
    try:
        reference = _OrderReference.model_validate_json(raw_body)
    except ValidationError as error:
        reasons = "; ".join(
            f"{'.'.join(str(part) for part in detail['loc']) or 'body'}: {detail['msg']}" for detail in error.errors()
        )
        raise InvalidRequest(f"the body does not name an order: {reasons}") from error
    if reference.admin_graphql_api_id is not None:
        return reference.admin_graphql_api_id
    if reference.id is not None:
        return f"gid://shopify/Order/{reference.id}"
    raise InvalidRequest("the body names no order (admin_graphql_api_id or id)")


def receive(raw_body: bytes, header: Callable[[str], str | None], now: datetime) -> WebhookReceipt:
    """Verify and store one delivery; `header` looks a header up case-insensitively."""
    shop = _verified_shop(raw_body, header)
    topic = (header("X-Shopify-Topic") or "").strip()
    webhook_id = (header("X-Shopify-Webhook-Id") or "").strip()
    if topic not in ORDER_TOPICS:
        logger.info("webhook topic not handled", extra={"topic": topic, "shop_id": shop.shop_id})
        return WebhookReceipt(status=ReceiptStatus.IGNORED, webhook_id=webhook_id or None)
    if not webhook_id:
        raise InvalidRequest("X-Shopify-Webhook-Id is missing")
    delivery = order_store.WebhookDelivery(
        webhook_id=webhook_id,
        shop_id=shop.shop_id,
        topic=topic,
        shopify_order_id=webhook_order_gid(raw_body),
        triggered_at=header("X-Shopify-Triggered-At"),
        received_at=now,
    )
    stored = order_store.record_delivery(delivery, timedelta(hours=get_settings().webhook_dedupe_hours))
    status = ReceiptStatus.ACCEPTED if stored else ReceiptStatus.DUPLICATE
    logger.info("webhook received", extra={"webhook_id": webhook_id, "topic": topic, "status": status.value})
    return WebhookReceipt(status=status, webhook_id=webhook_id, order=delivery.shopify_order_id)


def is_delivery(image: Mapping[str, Any]) -> bool:
    return image.get("type") == order_store.DELIVERY_TYPE


def process_delivery(image: Mapping[str, Any], time_left_s: Callable[[], float]) -> OrderImportResult | None:
    """Import the order a stored delivery names (None when the store or the order is gone)."""
    delivery = order_store.WebhookDelivery.model_validate(image)
    shop = shop_store.get_shop(delivery.shop_id)
    if shop is None:
        logger.warning("delivery for a store no longer registered", extra={"shop_id": delivery.shop_id})
        return None
    with shop_client(shop, time_left_s) as client:
        try:
            node = fetch_order(client, delivery.shopify_order_id)
        except NotFound:
            logger.warning("webhook order not found in Shopify", extra={"order": delivery.shopify_order_id})
            return None
    (result,) = OrderImporter(shop, utc_now).import_nodes([node])
    return result

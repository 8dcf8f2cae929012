"""Orders: failed records, re-import by id, refresh, one order's versions; and the Shopify webhook endpoint (the one
route without IAM auth: Shopify signs its deliveries instead)."""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from shopsync.api.preorder import API_TIME_BUDGET_S
from shopsync.errors import InvalidRequest
from shopsync.jobs.clock import utc_now
from shopsync.models.orders import FailedOrder, FailureReason, OrderDetail, OrderImportResult
from shopsync.models.shop import SHOP_ID_PATTERN
from shopsync.orders import operations
from shopsync.orders.webhooks import WebhookReceipt, receive

router = APIGatewayRouter()
OrderIdPath = Annotated[
    str, Path(pattern=r"^[a-z0-9][a-z0-9-]{1,62}-\d{1,20}$", description="<shop>-<Shopify order legacy id>")
]


def _request_budget() -> Callable[[], float]:
    """Seconds left for this request's Shopify calls."""
    deadline = time.monotonic() + API_TIME_BUDGET_S
    return lambda: deadline - time.monotonic()


@router.get("/orders/failed", summary="Orders that could not be imported, with every reason", tags=["orders"])
def list_failed_orders(
    shop: Annotated[str | None, Query(pattern=SHOP_ID_PATTERN, description="one store; all when absent")] = None,
    reason: Annotated[FailureReason | None, Query()] = None,
    since: Annotated[datetime | None, Query(description="failed at or after this time (ISO 8601)")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[FailedOrder]:
    if since is not None and since.tzinfo is None:
        raise InvalidRequest("since needs a time zone (e.g. 2026-11-01T00:00:00Z)")
    return operations.failed_orders(shop, reason, since, limit)


@router.post(
    "/shops/<shop_id>/orders/<shopify_order_id>/import",
    summary="Read one order from Shopify now and import it (resolves its failed record)",
    tags=["orders"],
)
def import_order(
    shop_id: Annotated[str, Path(pattern=SHOP_ID_PATTERN)],
    shopify_order_id: Annotated[str, Path(pattern=r"^\d{1,20}$", description="Shopify's numeric order id")],
) -> OrderImportResult:
    return operations.import_order(shop_id, shopify_order_id, _request_budget())


@router.post(
    "/orders/<order_id>/refresh",
    summary="Re-read an order from Shopify; a change makes a new version and cancels the old one (Old Version)",
    tags=["orders"],
)
def refresh_order(order_id: OrderIdPath) -> OrderImportResult:
    return operations.refresh_order(order_id, _request_budget())


@router.get(
    "/orders/<order_id>", summary="One order: every version (newest first) and its failed record", tags=["orders"]
)
def get_order(order_id: OrderIdPath) -> OrderDetail:
    return operations.order_detail(order_id)


def _raw_body() -> bytes:
    """The bytes Shopify signed: API Gateway passes text bodies as they came and binary ones base64-encoded."""
    event = router.current_event
    body = event.body or ""
    if not event.is_base64_encoded:
        return body.encode("utf-8")
    try:
        return base64.b64decode(body, validate=True)
    except binascii.Error as error:
        raise InvalidRequest(f"the body is not valid base64: {error}") from error


@router.post("/webhooks/shopify", summary="Shopify order webhooks (HMAC-signed; no IAM auth)", tags=["webhooks"])
def shopify_webhook() -> WebhookReceipt:
    # Powertools' headers are case-insensitive; Shopify's are mixed case on the wire and lower case via some proxies.
    return receive(_raw_body(), router.current_event.headers.get, utc_now())

"""Purchase-order and inventory uploads. The body is read raw (CSV or JSON, base64 when API Gateway says so), so
that one bad row is reported with its reason instead of failing the whole request."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from shopsync.catalog.inventory import import_inventory
from shopsync.catalog.po_upload import UploadOptions
from shopsync.catalog.purchase_orders import import_purchase_orders
from shopsync.errors import InvalidRequest
from shopsync.jobs.clock import utc_now
from shopsync.models.presell import PurchaseOrderUploadResult, UploadResult

router = APIGatewayRouter()


def _body_text() -> str:
    try:
        body = router.current_event.decoded_body
    except ValueError as error:  # bad base64, or bytes that are not UTF-8 (both ValueError subclasses)
        raise InvalidRequest(f"the body is not UTF-8 text: {error}") from error
    if not body:
        raise InvalidRequest("the body is empty")
    return body


@router.post(
    "/purchase-orders",
    summary="Upload purchase-order items (CSV with a column mapping, or ERP JSON); upsert by (external id, item id)",
    tags=["pre-sell"],
)
def post_purchase_orders(options: Annotated[UploadOptions, Query()]) -> PurchaseOrderUploadResult:
    content_type = router.current_event.headers.get("Content-Type")  # case-insensitive lookup
    return import_purchase_orders(_body_text(), content_type, options, utc_now())


@router.put(
    "/inventory",
    summary="Upload on-hand and online ATP per product (JSON list of {sku | product_id, on_hand, online_atp})",
    tags=["pre-sell"],
)
def put_inventory() -> UploadResult:
    return import_inventory(_body_text(), utc_now())

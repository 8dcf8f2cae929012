from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from shopsync.api.params import ProductIdPath
from shopsync.diagnosis.orders import diagnose_order
from shopsync.diagnosis.products import diagnose_product
from shopsync.jobs.clock import utc_now
from shopsync.models.diagnosis import OrderDiagnosis, ProductDiagnosis
from shopsync.models.shop import SHOP_ID_PATTERN

router = APIGatewayRouter()


@router.get(
    "/products/<product_id>/diagnosis",
    summary="Why a product is (not) linked, pre-sell or listed in each store, with a suggested action per finding",
    tags=["diagnosis"],
)
def get_product_diagnosis(
    product_id: ProductIdPath,
) -> ProductDiagnosis:
    return diagnose_product(product_id, utc_now())


@router.get(
    "/orders/<shop_id>/<shopify_order_id>/diagnosis",
    summary="Whether an order was imported or failed (and why), its versions, and its import job's health",
    tags=["diagnosis"],
)
def get_order_diagnosis(
    shop_id: Annotated[str, Path(pattern=SHOP_ID_PATTERN)],
    shopify_order_id: Annotated[str, Path(pattern=r"^\d{1,20}$", description="Shopify's numeric order id")],
) -> OrderDiagnosis:
    return diagnose_order(shop_id, shopify_order_id, utc_now())

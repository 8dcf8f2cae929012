from __future__ import annotations

import time
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from shopsync.api.params import ProductIdPath
from shopsync.models.shop import SHOP_ID_PATTERN
from shopsync.preorder.sync import SyncReport
from shopsync.preorder.triggers import resync

router = APIGatewayRouter()
API_TIME_BUDGET_S = 25.0  # API Gateway gives up at 29 s


@router.post("/products/<product_id>/sync", summary="Push this product's pre-order listing now", tags=["pre-order"])
def sync_product(
    product_id: ProductIdPath,
    shop: Annotated[str | None, Query(pattern=SHOP_ID_PATTERN, description="one store; all linked when absent")] = None,
) -> SyncReport:
    """The replacement for "touch the record in Webtools": reads what the stores show and pushes the difference."""
    deadline = time.monotonic() + API_TIME_BUDGET_S
    return resync(product_id, shop, lambda: deadline - time.monotonic())

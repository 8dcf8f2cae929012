from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from shopsync.catalog.audit import ProductAudit, audit_product
from shopsync.jobs.clock import utc_now

router = APIGatewayRouter()


@router.get(
    "/products/<product_id>",
    summary="Audit one product: identifiers, pre-sell membership and evaluation, PO items, per-store association",
    tags=["products"],
)
def get_product_audit(
    product_id: Annotated[str, Path(pattern=r"^\d{1,20}$", description="catalog product id")],
) -> ProductAudit:
    return audit_product(product_id, utc_now())

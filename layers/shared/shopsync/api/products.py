from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from shopsync.api.params import ProductIdPath
from shopsync.catalog.audit import ProductAudit, audit_product
from shopsync.jobs.clock import utc_now

router = APIGatewayRouter()


@router.get(
    "/products/<product_id>",
    summary="Audit one product: identifiers, pre-sell membership and evaluation, PO items, per-store association",
    tags=["products"],
)
def get_product_audit(
    product_id: ProductIdPath,
) -> ProductAudit:
    return audit_product(product_id, utc_now())

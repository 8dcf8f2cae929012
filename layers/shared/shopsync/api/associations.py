"""Manual association of a product with a child-store variant, and the variants the association job could not link."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from shopsync.api.params import ProductIdPath
from shopsync.catalog.identifiers import legacy_id
from shopsync.catalog.manual_association import link_manually, unlink_manually
from shopsync.errors import NotFound
from shopsync.jobs.clock import utc_now
from shopsync.models.association import ManualAssociationRequest, UnmatchedPage, UnmatchedReason
from shopsync.models.catalog import Association
from shopsync.models.shop import SHOP_ID_PATTERN
from shopsync.store import associations as association_store
from shopsync.store import shops as shop_store

router = APIGatewayRouter()
ShopIdPath = Annotated[str, Path(pattern=SHOP_ID_PATTERN, description="the child store's id in shopsync")]


@router.put(
    "/products/<product_id>/shops/<shop_id>", summary="Link a product to a child-store variant", tags=["associations"]
)
def put_association(
    product_id: ProductIdPath, shop_id: ShopIdPath, request: Annotated[ManualAssociationRequest, Body()]
) -> Response[Association]:
    association, created = link_manually(product_id, shop_id, request, utc_now())
    return Response(status_code=201 if created else 200, content_type=content_types.APPLICATION_JSON, body=association)


@router.delete(
    "/products/<product_id>/shops/<shop_id>", summary="Remove a product's link to a child store", tags=["associations"]
)
def delete_association(product_id: ProductIdPath, shop_id: ShopIdPath) -> Response[None]:
    unlink_manually(product_id, shop_id)
    return Response(status_code=204, body=None)


@router.get(
    "/associations/unmatched",
    summary="Variants of a child store the association job could not link",
    tags=["associations"],
)
def list_unmatched(
    shop: Annotated[str, Query(pattern=SHOP_ID_PATTERN, description="the child store")],
    reason: Annotated[UnmatchedReason | None, Query()] = None,
    after: Annotated[str | None, Query(description="next_after of the previous page", max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> UnmatchedPage:
    if shop_store.get_shop(shop) is None:
        raise NotFound(f"shop {shop} is not registered", shop_id=shop)
    # One more than asked tells whether another page follows.
    items = association_store.list_unmatched(shop, after=after, limit=limit + 1, reason=reason)
    next_after = legacy_id(items[limit - 1].variant_id) if len(items) > limit else None
    return UnmatchedPage(shop_id=shop, items=items[:limit], next_after=next_after)

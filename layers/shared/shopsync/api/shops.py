from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from shopsync.errors import NotFound
from shopsync.jobs.clock import utc_now
from shopsync.models.shop import SHOP_ID_PATTERN, Shop, ShopRegistration
from shopsync.registration import register_shop
from shopsync.store import shops as shop_store

router = APIGatewayRouter()
ShopIdPath = Annotated[str, Path(pattern=SHOP_ID_PATTERN, description="the store's id in shopsync")]


@router.put("/shops/<shop_id>", summary="Register or update a store", tags=["shops"])
def put_shop(shop_id: ShopIdPath, registration: Annotated[ShopRegistration, Body()]) -> Response[Shop]:
    shop, created = register_shop(shop_id, registration, utc_now())
    return Response(status_code=201 if created else 200, content_type=content_types.APPLICATION_JSON, body=shop)


@router.get("/shops", summary="List the registered stores", tags=["shops"])
def list_shops() -> list[Shop]:
    return shop_store.list_shops()


@router.get("/shops/<shop_id>", summary="One registered store", tags=["shops"])
def get_shop(shop_id: ShopIdPath) -> Shop:
    shop = shop_store.get_shop(shop_id)
    if shop is None:
        raise NotFound(f"shop {shop_id} is not registered", shop_id=shop_id)
    return shop

"""Builders shared by tests: the table from template.yaml, registered shops."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3

from local.template import SamTemplate
from shopsync.models.shop import IdentifierType, Shop, ShopRole
from shopsync.store import shops as shop_store

_CREATE_TABLE_KEYS = (
    "AttributeDefinitions",
    "KeySchema",
    "GlobalSecondaryIndexes",
    "BillingMode",
    "StreamSpecification",
)


def create_table_from_template(table_name: str) -> str:
    (properties,) = SamTemplate.load().tables().values()
    spec: dict[str, Any] = {key: properties[key] for key in _CREATE_TABLE_KEYS if key in properties}
    if "StreamSpecification" in spec:
        spec["StreamSpecification"] = {"StreamEnabled": True, **spec["StreamSpecification"]}
    client = boto3.client("dynamodb")
    client.create_table(TableName=table_name, **spec)
    ttl = properties.get("TimeToLiveSpecification")
    if ttl:
        client.update_time_to_live(TableName=table_name, TimeToLiveSpecification=ttl)
    return table_name


def register_shop_record(
    shop_id: str,
    *,
    role: ShopRole = ShopRole.PARENT,
    base_url: str = "http://127.0.0.1:9/stores/x",
    identifier_type: IdentifierType = IdentifierType.SKU,
    currency: str = "USD",
) -> Shop:
    """A registration written straight to the table (no store verification): for tests of what comes after."""
    now = datetime.now(UTC)
    shop = Shop(
        shop_id=shop_id,
        role=role,
        name=shop_id,
        admin_api_base_url=base_url,  # type: ignore[arg-type]
        api_version="2026-07",
        identifier_type=identifier_type,
        currency=currency,
        token_secret_name=f"shopsync/test/shopify/{shop_id}",
        created_at=now,
        updated_at=now,
    )
    shop_store.save_shop(shop, shop_store.get_shop(shop_id))
    return shop

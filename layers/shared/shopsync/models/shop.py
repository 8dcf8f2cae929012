"""Shopify stores registered with shopsync: one parent that owns product data, children that are only linked."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, field_validator

SHOP_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{1,62}$"
ShopId = Annotated[str, Field(pattern=SHOP_ID_PATTERN, description="lower-case letters, digits and dashes")]


class ShopRole(StrEnum):
    PARENT = "parent"
    CHILD = "child"


class IdentifierType(StrEnum):
    """How child-store variants are matched to catalog products (HotWax productIdentifierEnumId)."""

    SKU = "SKU"
    BARCODE = "BARCODE"
    PRODUCT_ID = "PRODUCT_ID"


class ShopRegistration(BaseModel):
    """Body of PUT /shops/{id}."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    role: ShopRole
    name: str = Field(min_length=1, max_length=200)
    admin_api_base_url: AnyHttpUrl = Field(
        description="Store base URL; the client calls {base}/admin/api/{version}/graphql.json",
        examples=["https://acme-us.myshopify.com"],
    )
    api_version: str = Field(default="2026-07", pattern=r"^\d{4}-(01|04|07|10)$")
    identifier_type: IdentifierType = IdentifierType.SKU
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code; must match the store's currency")
    token_secret_name: str = Field(
        min_length=1, max_length=512, description="Secrets Manager secret holding the Admin API access token"
    )
    myshopify_domain: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$",
        description="the domain Shopify sends as X-Shopify-Shop-Domain; needed to accept the store's webhooks",
        examples=["acme-us.myshopify.com"],
    )
    webhook_secret_name: str | None = Field(
        default=None,
        min_length=1,
        max_length=512,
        description="Secrets Manager secret holding the key Shopify signs this store's webhooks with",
    )

    @field_validator("admin_api_base_url")
    @classmethod
    def no_query_or_fragment(cls, url: AnyHttpUrl) -> AnyHttpUrl:
        if url.query or url.fragment:
            raise ValueError("the base URL takes no query string or fragment")
        return url


class Shop(ShopRegistration):
    model_config = ConfigDict(extra="ignore")

    shop_id: ShopId
    created_at: datetime
    updated_at: datetime

    @property
    def base_url(self) -> str:
        return str(self.admin_api_base_url).rstrip("/")

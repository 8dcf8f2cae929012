"""Store registration: validated against the store itself before it is saved."""

from __future__ import annotations

from datetime import datetime

from shopsync.errors import Conflict, UnprocessableRequest, UpstreamUnavailable
from shopsync.models.shop import Shop, ShopRegistration, ShopRole
from shopsync.shopify.client import ShopifyClient
from shopsync.shopify.documents import load_document
from shopsync.shopify.errors import ShopifyAuthError, ShopifyError, ShopifyUnavailable
from shopsync.store import secrets
from shopsync.store import shops as shop_store

VERIFY_TIME_BUDGET_S = 10.0


def register_shop(shop_id: str, registration: ShopRegistration, now: datetime) -> tuple[Shop, bool]:
    """Create or replace a store registration. Returns the shop and whether it was created.

    Refuses a second parent, a token that is missing or refused by the store, and a currency that differs from the
    store's own, each with its reason; nothing is saved then.
    """
    previous = shop_store.get_shop(shop_id)
    if registration.role is ShopRole.PARENT:
        parent = shop_store.get_parent_shop()
        if parent is not None and parent.shop_id != shop_id:
            raise Conflict(
                f"a parent store is already registered ({parent.shop_id}); a catalog has exactly one parent",
                parent_shop_id=parent.shop_id,
            )
    shop = Shop(
        shop_id=shop_id,
        created_at=previous.created_at if previous else now,
        updated_at=now,
        **registration.model_dump(),
    )
    _verify_store(shop)
    shop_store.save_shop(shop, previous)
    return shop, previous is None


def _verify_store(shop: Shop) -> None:
    try:
        token = secrets.get_access_token(shop.token_secret_name)
    except secrets.SecretUnavailable as error:
        raise UnprocessableRequest(f"{error}; create it with the store's Admin API access token first") from error
    try:
        with ShopifyClient(
            shop.base_url, shop.api_version, token, time_remaining_s=lambda: VERIFY_TIME_BUDGET_S
        ) as client:
            data = client.execute(load_document("ShopInfo")).data
    except ShopifyAuthError as error:
        raise UnprocessableRequest(f"the store at {shop.base_url} refused the access token: {error}") from error
    except ShopifyUnavailable as error:
        raise UpstreamUnavailable(f"the store at {shop.base_url} did not answer: {error}") from error
    except ShopifyError as error:
        raise UnprocessableRequest(f"the store at {shop.base_url} answered with an error: {error}") from error
    store_currency = data["shop"]["currencyCode"]
    if store_currency != shop.currency:
        raise UnprocessableRequest(
            f"currency {shop.currency} does not match the store's currency {store_currency}",
            store_currency=store_currency,
        )

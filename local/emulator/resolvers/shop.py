"""Shop-level roots: shop, publicApiVersions, node and nodes."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo

from local.emulator.context import RequestContext, context_of
from local.emulator.ids import gid, gid_kind, parse_gid
from local.emulator.metafields import owner_metafield_fields
from local.emulator.resolvers import bulk, catalog, inventory, listing, orders
from local.emulator.schema import API_VERSION
from local.emulator.views import View

NODE_DOMAINS: tuple[Any, ...] = (catalog, inventory, bulk, listing, orders)
SUPPORTED_VERSIONS = ("2025-10", "2026-01", "2026-04", API_VERSION)


def shop(info: GraphQLResolveInfo, **_: Any) -> View:
    return shop_view(context_of(info))


def shop_view(ctx: RequestContext) -> View:
    store = ctx.store
    return {
        "__typename": "Shop",
        "id": gid("Shop", store.shop_number),
        "name": store.name,
        "currencyCode": store.currency,
        "enabledPresentmentCurrencies": [store.currency],
        "myshopifyDomain": store.myshopify_domain,
        "ianaTimezone": store.iana_timezone,
        "email": f"owner@{store.myshopify_domain}",
        "contactEmail": f"owner@{store.myshopify_domain}",
        "url": f"https://{store.myshopify_domain}",
        "primaryDomain": {
            "id": gid("Domain", store.shop_number),
            "host": store.myshopify_domain,
            "url": f"https://{store.myshopify_domain}",
            "sslEnabled": True,
        },
        **owner_metafield_fields(ctx, gid("Shop", store.shop_number)),
    }


def public_api_versions(info: GraphQLResolveInfo, **_: Any) -> list[View]:
    return [{"handle": v, "displayName": v, "supported": True} for v in SUPPORTED_VERSIONS] + [
        {"handle": "unstable", "displayName": "unstable", "supported": False}
    ]


def find_node(ctx: RequestContext, global_id: str) -> View | None:
    kind, number = gid_kind(global_id), parse_gid(global_id)
    if kind is None or number is None:
        return None
    if kind == "Shop":
        return shop_view(ctx) if number == ctx.store.shop_number else None
    for domain in NODE_DOMAINS:
        view = domain.resolve_node(ctx, kind, number)
        if view is not None:
            return view
    return None


def node(info: GraphQLResolveInfo, id: str, **_: Any) -> View | None:
    return find_node(context_of(info), id)


def nodes(info: GraphQLResolveInfo, ids: list[str], **_: Any) -> list[View | None]:
    ctx = context_of(info)
    return [find_node(ctx, global_id) for global_id in ids]

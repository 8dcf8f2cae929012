"""Catalog reads: products, productVariants and their by-id roots."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo

from local.emulator.connections import bad_request, connection
from local.emulator.context import RequestContext, context_of, response_path
from local.emulator.ids import parse_gid
from local.emulator.search import CompiledSearch, SearchField, SearchSyntaxError, compile_search
from local.emulator.state import Product, Store, Variant
from local.emulator.views import (
    VARIANT_SORT,
    View,
    product_view,
    sortable_time,
    variant_connection,
    variant_view,
)

PRODUCT_STATUSES = frozenset({"active", "archived", "draft", "unlisted"})

PRODUCT_SORT: dict[str, Callable[[Store, Product], Any]] = {
    "ID": lambda store, p: p.id,
    "TITLE": lambda store, p: p.title.casefold(),
    "UPDATED_AT": lambda store, p: sortable_time(p.updated_at),
    "CREATED_AT": lambda store, p: sortable_time(p.created_at),
    "PUBLISHED_AT": lambda store, p: sortable_time(p.created_at),
    "VENDOR": lambda store, p: p.vendor.casefold(),
    "PRODUCT_TYPE": lambda store, p: p.product_type.casefold(),
    "INVENTORY_TOTAL": lambda store, p: sum(store.variant_quantity(v) for v in store.product_variants(p)),
}


def product_search_fields(store: Store) -> dict[str, SearchField[Product]]:
    def skus(p: Product) -> list[str | None]:
        return [store.inventory_items[v.inventory_item_id].sku for v in store.product_variants(p)]

    return {
        "default": SearchField("text", lambda p: [p.title, p.vendor, p.product_type, *filter(None, skus(p))]),
        "title": SearchField("text", lambda p: p.title),
        "handle": SearchField("keyword", lambda p: p.handle),
        "status": SearchField("keyword", lambda p: p.status, accepted=PRODUCT_STATUSES),
        "vendor": SearchField("keyword", lambda p: p.vendor),
        "product_type": SearchField("keyword", lambda p: p.product_type),
        "tag": SearchField("tag", lambda p: p.tags),
        "tag_not": SearchField("tag_not", lambda p: p.tags),
        "created_at": SearchField("time", lambda p: p.created_at),
        "updated_at": SearchField("time", lambda p: p.updated_at),
        "published_at": SearchField("time", lambda p: p.created_at if p.status == "ACTIVE" else None),
        "id": SearchField("id", lambda p: p.id),
        "sku": SearchField("keyword", skus),
        "barcode": SearchField("keyword", lambda p: [v.barcode for v in store.product_variants(p)]),
        "variant_id": SearchField("id", lambda p: p.variant_ids),
        "variant_title": SearchField("text", lambda p: [v.title for v in store.product_variants(p)]),
        "inventory_total": SearchField(
            "number", lambda p: sum(store.variant_quantity(v) for v in store.product_variants(p))
        ),
        "gift_card": SearchField("bool", lambda p: False),
        "out_of_stock_somewhere": SearchField(
            "bool", lambda p: any(store.variant_quantity(v) <= 0 for v in store.product_variants(p))
        ),
    }


def variant_search_fields(store: Store) -> dict[str, SearchField[Variant]]:
    def product(v: Variant) -> Product:
        return store.products[v.product_id]

    def option(index: int) -> SearchField[Variant]:
        return SearchField("keyword", lambda v: v.options[index][1] if len(v.options) > index else None)

    return {
        "default": SearchField(
            "text", lambda v: [v.title, product(v).title, store.inventory_items[v.inventory_item_id].sku or ""]
        ),
        "title": SearchField("text", lambda v: v.title),
        "sku": SearchField("keyword", lambda v: store.inventory_items[v.inventory_item_id].sku),
        "barcode": SearchField("keyword", lambda v: v.barcode),
        "id": SearchField("id", lambda v: v.id),
        "product_id": SearchField("id", lambda v: v.product_id),
        "product_ids": SearchField("id", lambda v: v.product_id),
        "product_status": SearchField("keyword", lambda v: product(v).status, accepted=PRODUCT_STATUSES),
        "product_type": SearchField("keyword", lambda v: product(v).product_type),
        "vendor": SearchField("keyword", lambda v: product(v).vendor),
        "tag": SearchField("tag", lambda v: product(v).tags),
        "tag_not": SearchField("tag_not", lambda v: product(v).tags),
        "inventory_quantity": SearchField("number", store.variant_quantity),
        "location_id": SearchField(
            "id",
            lambda v: [lid for lid, lvl in store.inventory_items[v.inventory_item_id].levels.items() if lvl.is_active],
        ),
        "option1": option(0),
        "option2": option(1),
        "option3": option(2),
        "taxable": SearchField("bool", lambda v: v.taxable),
        "gift_card": SearchField("bool", lambda v: False),
        "created_at": SearchField("time", lambda v: v.created_at),
        "updated_at": SearchField("time", lambda v: v.updated_at),
    }


def search(info: GraphQLResolveInfo, query: str | None, fields: Mapping[str, SearchField[Any]]) -> CompiledSearch[Any]:
    """Compile a `query:` filter; its warnings become `extensions.search` of the response."""
    ctx = context_of(info)
    try:
        compiled = compile_search(query, fields, ctx.store.now())
    except SearchSyntaxError as exc:
        raise bad_request(str(exc)) from exc
    extension = compiled.extension(response_path(info))
    if extension is not None:
        ctx.search_extensions.append(extension)
    return compiled


def products(info: GraphQLResolveInfo, **args: Any) -> View:
    ctx = context_of(info)
    store = ctx.store
    if args.get("savedSearchId"):
        raise unsupported_argument("products", "savedSearchId")
    matching = search(info, args.get("query"), product_search_fields(store)).filter(store.products.values())
    sort = PRODUCT_SORT.get(args.get("sortKey") or "ID", PRODUCT_SORT["ID"])
    return connection(
        matching,
        args,
        sort_value=lambda p: sort(store, p),
        item_id=lambda p: p.id,
        view=lambda p: product_view(ctx, p),
        unbounded=ctx.bulk,
    )


def product_variants(info: GraphQLResolveInfo, **args: Any) -> View:
    ctx = context_of(info)
    store = ctx.store
    if args.get("savedSearchId"):
        raise unsupported_argument("productVariants", "savedSearchId")
    matching = search(info, args.get("query"), variant_search_fields(store)).filter(store.variants.values())
    if (args.get("sortKey") or "ID") not in VARIANT_SORT:
        raise unsupported_argument("productVariants", f"sortKey: {args['sortKey']}")
    return variant_connection(ctx, matching, args)


def product(info: GraphQLResolveInfo, id: str, **_: Any) -> View | None:
    ctx = context_of(info)
    found = ctx.store.products.get(parse_gid(id, "Product") or -1)
    return product_view(ctx, found) if found else None


def product_variant(info: GraphQLResolveInfo, id: str, **_: Any) -> View | None:
    ctx = context_of(info)
    found = ctx.store.variants.get(parse_gid(id, "ProductVariant") or -1)
    return variant_view(ctx, found) if found else None


def unsupported_argument(field: str, argument: str) -> GraphQLError:
    return GraphQLError(
        f"Argument '{argument}' on field '{field}' is not supported by the shopsync emulator",
        extensions={"code": "NOT_SUPPORTED_BY_EMULATOR"},
    )


def resolve_node(ctx: RequestContext, kind: str, number: int) -> View | None:
    if kind == "Product" and number in ctx.store.products:
        return product_view(ctx, ctx.store.products[number])
    if kind == "ProductVariant" and number in ctx.store.variants:
        return variant_view(ctx, ctx.store.variants[number])
    return None

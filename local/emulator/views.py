"""State objects rendered as GraphQL result dicts.

A key present in a view is an emulated field (a `None` value is a real null); a key that is absent makes the
field resolver fail with "not supported by the shopsync emulator". Values that need arguments or are costly
are callables `(info, **args)` evaluated only when selected.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo

from local.emulator.connections import connection
from local.emulator.context import RequestContext
from local.emulator.ids import gid, parse_gid
from local.emulator.metafields import owner_metafield_fields
from local.emulator.search import SearchField, compile_search
from local.emulator.state import (
    QUANTITY_NAMES,
    AdjustmentGroup,
    InventoryChange,
    InventoryItem,
    InventoryLevel,
    Location,
    Product,
    Variant,
    iso,
)

View = dict[str, Any]


def sortable_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def level_gid(level: InventoryLevel) -> str:
    return f"{gid('InventoryLevel', level.id)}?inventory_item_id={level.item_id}"


# ---- catalog -----------------------------------------------------------------------------------------

VARIANT_SORT: dict[str, Callable[[RequestContext, Variant], Any]] = {
    "ID": lambda ctx, v: v.id,
    "SKU": lambda ctx, v: (variant_sku(ctx, v) or "").casefold(),
    "TITLE": lambda ctx, v: v.title.casefold(),
    "POSITION": lambda ctx, v: [v.product_id, v.position],
    "FULL_TITLE": lambda ctx, v: f"{ctx.store.products[v.product_id].title} - {v.title}".casefold(),
    "NAME": lambda ctx, v: f"{ctx.store.products[v.product_id].title} - {v.title}".casefold(),
    "INVENTORY_QUANTITY": lambda ctx, v: ctx.store.variant_quantity(v),
    "INVENTORY_POLICY": lambda ctx, v: v.inventory_policy,
}


def variant_sku(ctx: RequestContext, variant: Variant) -> str | None:
    return ctx.store.inventory_items[variant.inventory_item_id].sku


def variant_connection(ctx: RequestContext, variants: list[Variant], args: dict[str, Any]) -> View:
    sort = VARIANT_SORT.get(args.get("sortKey") or "ID", VARIANT_SORT["ID"])
    return connection(
        variants,
        args,
        sort_value=lambda v: sort(ctx, v),
        item_id=lambda v: v.id,
        view=lambda v: variant_view(ctx, v),
        unbounded=ctx.bulk,
    )


def product_view(ctx: RequestContext, product: Product) -> View:
    store = ctx.store

    def variants() -> list[Variant]:
        return store.product_variants(product)

    return {
        "__typename": "Product",
        "id": gid("Product", product.id),
        "legacyResourceId": str(product.id),
        "title": product.title,
        "handle": product.handle,
        "status": product.status,
        "vendor": product.vendor,
        "productType": product.product_type,
        "tags": sorted(product.tags, key=str.casefold),
        "descriptionHtml": product.description_html,
        "createdAt": iso(product.created_at),
        "updatedAt": iso(product.updated_at),
        "publishedAt": iso(product.created_at) if product.status == "ACTIVE" else None,
        "isGiftCard": False,
        "hasOnlyDefaultVariant": [o.name for o in product.options] == ["Title"] and len(product.variant_ids) == 1,
        "totalInventory": lambda info, **_: sum(store.variant_quantity(v) for v in variants()),
        "tracksInventory": lambda info, **_: any(
            store.inventory_items[v.inventory_item_id].tracked for v in variants()
        ),
        "hasOutOfStockVariants": lambda info, **_: any(store.variant_quantity(v) <= 0 for v in variants()),
        "options": lambda info, first=None, **_: [
            option_view(product, o) for o in product.options[: first if first is not None else None]
        ],
        "variants": lambda info, **args: variant_connection(ctx, variants(), args),
        "variantsCount": lambda info, **_: {"count": len(product.variant_ids), "precision": "EXACT"},
        **owner_metafield_fields(ctx, gid("Product", product.id)),
    }


def option_view(product: Product, option: Any) -> View:
    return {
        "id": gid("ProductOption", option.id),
        "name": option.name,
        "position": option.position,
        "values": list(option.values),
        "optionValues": [
            {"id": gid("ProductOptionValue", option.id * 100 + i), "name": value, "hasVariants": True}
            for i, value in enumerate(option.values, start=1)
        ],
    }


def variant_view(ctx: RequestContext, variant: Variant) -> View:
    store = ctx.store
    product = store.products[variant.product_id]
    item = store.inventory_items[variant.inventory_item_id]
    return {
        "__typename": "ProductVariant",
        "id": gid("ProductVariant", variant.id),
        "legacyResourceId": str(variant.id),
        "title": variant.title,
        "displayName": f"{product.title} - {variant.title}",
        "sku": item.sku,
        "barcode": variant.barcode,
        "price": variant.price,
        "compareAtPrice": variant.compare_at_price,
        "inventoryPolicy": variant.inventory_policy,
        "inventoryQuantity": lambda info, **_: store.variant_quantity(variant) if item.tracked else None,
        "sellableOnlineQuantity": lambda info, **_: max(0, store.variant_quantity(variant)),
        "availableForSale": lambda info, **_: (
            product.status == "ACTIVE"
            and (not item.tracked or variant.inventory_policy == "CONTINUE" or store.variant_quantity(variant) > 0)
        ),
        "position": variant.position,
        "taxable": variant.taxable,
        "selectedOptions": [{"name": name, "value": value} for name, value in variant.options],
        "createdAt": iso(variant.created_at),
        "updatedAt": iso(variant.updated_at),
        "product": lambda info, **_: product_view(ctx, product),
        "inventoryItem": lambda info, **_: inventory_item_view(ctx, item),
        **owner_metafield_fields(ctx, gid("ProductVariant", variant.id)),
    }


# ---- inventory ---------------------------------------------------------------------------------------

LEVEL_SEARCH: dict[str, SearchField[InventoryLevel]] = {
    "id": SearchField("id", lambda level: level.id),
    "inventory_item_id": SearchField("id", lambda level: level.item_id),
    "location_id": SearchField("id", lambda level: level.location_id),
    "updated_at": SearchField("time", lambda level: level.updated_at),
    "created_at": SearchField("time", lambda level: level.created_at),
}


def level_connection(ctx: RequestContext, levels: list[InventoryLevel], args: dict[str, Any]) -> View:
    if not args.get("includeInactive"):
        levels = [level for level in levels if level.is_active]
    levels = compile_search(args.get("query"), LEVEL_SEARCH, ctx.store.now()).filter(levels)
    return connection(
        levels,
        args,
        sort_value=lambda level: level.id,
        item_id=lambda level: level.id,
        view=lambda level: level_view(ctx, level),
        unbounded=ctx.bulk,
    )


def inventory_item_view(ctx: RequestContext, item: InventoryItem) -> View:
    store = ctx.store

    def level_at(info: GraphQLResolveInfo, locationId: str, includeInactive: bool = False, **_: Any) -> View | None:
        level = item.levels.get(parse_gid(locationId, "Location") or -1)
        if level is None or not (level.is_active or includeInactive):
            return None
        return level_view(ctx, level)

    def variant() -> Variant | None:
        return store.variants.get(item.variant_id) if item.variant_id is not None else None

    return {
        "__typename": "InventoryItem",
        "id": gid("InventoryItem", item.id),
        "legacyResourceId": str(item.id),
        "sku": item.sku,
        "tracked": item.tracked,
        "requiresShipping": item.requires_shipping,
        "createdAt": iso(item.created_at),
        "updatedAt": iso(item.updated_at),
        "duplicateSkuCount": lambda info, **_: _duplicate_sku_count(ctx, item),
        "locationsCount": lambda info, **_: {
            "count": sum(1 for level in item.levels.values() if level.is_active),
            "precision": "EXACT",
        },
        "inventoryLevel": level_at,
        "inventoryLevels": lambda info, **args: level_connection(ctx, list(item.levels.values()), args),
        "variant": lambda info, **_: variant_view(ctx, v) if (v := variant()) else None,
        "variants": lambda info, **args: variant_connection(ctx, [v] if (v := variant()) else [], args),
    }


def _duplicate_sku_count(ctx: RequestContext, item: InventoryItem) -> int:
    if not item.sku:
        return 0
    return sum(1 for other in ctx.store.inventory_items.values() if other.sku == item.sku and other.id != item.id)


def level_view(ctx: RequestContext, level: InventoryLevel) -> View:
    store = ctx.store

    def quantities(info: GraphQLResolveInfo, names: list[str], **_: Any) -> list[View]:
        unknown = [name for name in names if name not in QUANTITY_NAMES]
        if unknown:
            raise GraphQLError(
                f"Invalid quantity name(s): {', '.join(unknown)}. Valid names are: {', '.join(QUANTITY_NAMES)}.",
                extensions={"code": "BAD_REQUEST"},
            )
        return [
            {
                "id": f"{gid('InventoryQuantity', level.id)}?inventory_item_id={level.item_id}&name={name}",
                "name": name,
                "quantity": level.quantity(name),
                "updatedAt": iso(level.changed_at.get(name)),
            }
            for name in names
        ]

    return {
        "__typename": "InventoryLevel",
        "id": level_gid(level),
        "isActive": level.is_active,
        "canDeactivate": level.quantity("committed") == 0,
        "createdAt": iso(level.created_at),
        "updatedAt": iso(level.updated_at),
        "quantities": quantities,
        "item": lambda info, **_: inventory_item_view(ctx, store.inventory_items[level.item_id]),
        "location": lambda info, **_: location_view(ctx, store.locations[level.location_id]),
    }


def location_view(ctx: RequestContext, location: Location) -> View:
    store = ctx.store

    def levels() -> list[InventoryLevel]:
        return [level for level in store.levels.values() if level.location_id == location.id]

    def level_for(
        info: GraphQLResolveInfo, inventoryItemId: str, includeInactive: bool = False, **_: Any
    ) -> View | None:
        item = store.inventory_items.get(parse_gid(inventoryItemId, "InventoryItem") or -1)
        level = item.levels.get(location.id) if item else None
        return level_view(ctx, level) if level and (level.is_active or includeInactive) else None

    address = location.address
    return {
        "__typename": "Location",
        "id": gid("Location", location.id),
        "legacyResourceId": str(location.id),
        "name": location.name,
        "isActive": location.is_active,
        "isPrimary": location.is_primary,
        "isFulfillmentService": False,
        "fulfillsOnlineOrders": True,
        "shipsInventory": True,
        "hasActiveInventory": lambda info, **_: any(level.is_active for level in levels()),
        "createdAt": iso(location.created_at),
        "updatedAt": iso(location.created_at),
        "address": {
            "address1": address.get("address1"),
            "address2": None,
            "city": address.get("city"),
            "province": None,
            "provinceCode": None,
            "zip": address.get("zip"),
            "country": "United States",
            "countryCode": address.get("countryCode"),
            "phone": None,
            "formatted": [v for v in (address.get("address1"), address.get("city"), address.get("zip")) if v],
        },
        "inventoryLevel": level_for,
        "inventoryLevels": lambda info, **args: level_connection(ctx, levels(), args),
    }


def adjustment_group_view(ctx: RequestContext, group: AdjustmentGroup) -> View:
    def changes(
        info: GraphQLResolveInfo,
        inventoryItemIds: list[str] | None = None,
        locationIds: list[str] | None = None,
        quantityNames: list[str] | None = None,
        **_: Any,
    ) -> list[View]:
        items = {parse_gid(i, "InventoryItem") for i in inventoryItemIds} if inventoryItemIds else None
        locations = {parse_gid(i, "Location") for i in locationIds} if locationIds else None
        return [
            change_view(ctx, change)
            for change in group.changes
            if (items is None or change.item_id in items)
            and (locations is None or change.location_id in locations)
            and (quantityNames is None or change.name in quantityNames)
        ]

    return {
        "__typename": "InventoryAdjustmentGroup",
        "id": gid("InventoryAdjustmentGroup", group.id),
        "createdAt": iso(group.created_at),
        "reason": group.reason,
        "referenceDocumentUri": group.reference_document_uri,
        "app": None,
        "staffMember": None,
        "changes": changes,
    }


def change_view(ctx: RequestContext, change: InventoryChange) -> View:
    store = ctx.store
    return {
        "name": change.name,
        "delta": change.delta,
        "quantityAfterChange": change.quantity_after_change,
        "ledgerDocumentUri": change.ledger_document_uri,
        "item": lambda info, **_: (
            inventory_item_view(ctx, store.inventory_items[change.item_id])
            if change.item_id in store.inventory_items
            else None
        ),
        "location": lambda info, **_: location_view(ctx, store.locations[change.location_id]),
    }

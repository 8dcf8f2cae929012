"""Listing mutations: productVariantsBulkUpdate, tagsAdd / tagsRemove and metafieldsSet.

Shapes and error order follow the recordings (products/product-variants-bulk-update-allow-partial-and-error-order.json,
metafields/*.json): productVariantsBulkUpdate is all-or-nothing unless `allowPartialUpdates`, in which case the
valid variants are written and the invalid ones reported; per variant, `compareAtPrice` is reported before `price`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo

from local.emulator.context import RequestContext, context_of
from local.emulator.ids import gid, gid_kind, parse_gid
from local.emulator.metafields import (
    MAX_METAFIELDS_PER_CALL,
    MetafieldError,
    PlannedMetafield,
    apply_metafield,
    metafield_error,
    metafield_view,
    plan_metafield,
    touch_owner,
)
from local.emulator.resolvers.product_set import UserError, apply_variant_fields, user_error
from local.emulator.state import Order, Product, Store, Variant
from local.emulator.views import View, product_view, variant_view

MAX_INPUT_ARRAY = 250
MONEY_LIMIT = Decimal(10) ** 18
MAX_TAG_LENGTH = 255
TAGGABLE = ("Product", "Order")
# Metafield codes that ProductVariantsBulkUpdateUserErrorCode does not have.
_VARIANT_METAFIELD_CODES = {
    "INVALID_TYPE": "INVALID_VALUE",
    "INVALID": "INVALID_INPUT",
    "STALE_OBJECT": "INVALID_INPUT",
}


# ---- productVariantsBulkUpdate -----------------------------------------------------------------------


@dataclass
class VariantUpdate:
    index: int
    variant: Variant
    spec: dict[str, Any]
    metafields: list[PlannedMetafield] = field(default_factory=list)


def product_variants_bulk_update(
    info: GraphQLResolveInfo,
    productId: str,
    variants: list[dict[str, Any]],
    allowPartialUpdates: bool = False,
    **_: Any,
) -> View:
    ctx = context_of(info)
    store = ctx.store
    if len(variants) > MAX_INPUT_ARRAY:
        raise GraphQLError(
            f"The input array size of {len(variants)} is greater than the maximum allowed of {MAX_INPUT_ARRAY}.",
            nodes=info.field_nodes,
            extensions={"code": "MAX_INPUT_SIZE_EXCEEDED"},
        )
    product = store.products.get(parse_gid(productId, "Product") or -1)
    if product is None:
        error = user_error(["productId"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")
        return {"product": None, "productVariants": None, "userErrors": [error]}
    errors: list[UserError] = []
    valid: list[VariantUpdate] = []
    touched: list[Variant] = []
    for index, spec in enumerate(variants):
        before = len(errors)
        variant = _target_variant(store, product, index, spec, errors)
        if variant is not None:
            touched.append(variant)
            update = VariantUpdate(index, variant, spec)
            _check_variant(store, update, errors)
            if len(errors) == before:
                valid.append(update)
    if not errors or allowPartialUpdates:
        now = store.now()
        changed = [update for update in valid if _apply_variant(store, update, now)]
        if changed:
            product.updated_at = now
    return {
        "product": product_view(ctx, product),
        "productVariants": [variant_view(ctx, v) for v in touched],
        "userErrors": errors,
    }


def _target_variant(
    store: Store, product: Product, index: int, spec: dict[str, Any], errors: list[UserError]
) -> Variant | None:
    path: list[str | int] = ["variants", index, "id"]
    if not spec.get("id"):
        errors.append(user_error(path, "Product variant is missing ID attribute", "PRODUCT_VARIANT_ID_MISSING"))
        return None
    variant = store.variants.get(parse_gid(spec["id"], "ProductVariant") or -1)
    if variant is None:
        errors.append(user_error(path, "Product variant does not exist", "PRODUCT_VARIANT_DOES_NOT_EXIST"))
        return None
    if variant.product_id != product.id:
        errors.append(user_error(path, "Product variant does not belong to the product", "MUST_BE_FOR_THIS_PRODUCT"))
        return None
    return variant


def _money(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _check_variant(store: Store, update: VariantUpdate, errors: list[UserError]) -> None:
    spec = update.spec
    path: list[str | int] = ["variants", update.index]
    for key in ("compareAtPrice", "price"):  # the recorded order: compareAtPrice first
        if spec.get(key) is None:
            continue
        amount = _money(spec[key])
        if amount is None:
            errors.append(user_error([*path, key], "is invalid", "INVALID_INPUT"))
        elif amount >= MONEY_LIMIT:
            errors.append(user_error([*path, key], "must be less than 1000000000000000000", "INVALID_INPUT"))
        elif amount < 0:
            label = "Price" if key == "price" else "Compare at price"
            errors.append(
                user_error([*path, key], f"{label} must be greater than or equal to 0", "GREATER_THAN_OR_EQUAL_TO")
            )
    if spec.get("inventoryQuantities"):
        message = (
            "Inventory quantities can only be provided during create. To update inventory for existing variants, "
            "use inventoryAdjustQuantities."
        )
        errors.append(user_error([*path, "inventoryQuantities"], message, "NO_INVENTORY_QUANTITIES_ON_VARIANTS_UPDATE"))
    if spec.get("barcode") is not None and len(spec["barcode"]) > 255:
        errors.append(user_error([*path, "barcode"], "Barcode is too long (maximum is 255 characters)", "TOO_LONG"))
    sku = (spec.get("inventoryItem") or {}).get("sku")
    if sku is not None and len(sku) > 255:
        errors.append(
            user_error([*path, "inventoryItem", "sku"], "SKU is too long (maximum is 255 characters)", "TOO_LONG")
        )
    owner = gid("ProductVariant", update.variant.id)
    for position, metafield in enumerate(spec.get("metafields") or []):
        problems: list[MetafieldError] = []
        planned = plan_metafield(store, owner, metafield, [*path, "metafields", position], problems, check_digest=False)
        for problem in problems:
            code = _VARIANT_METAFIELD_CODES.get(problem["code"], problem["code"])
            errors.append(user_error(problem["field"], problem["message"], str(code)))
        if planned is not None:
            update.metafields.append(planned)


def _apply_variant(store: Store, update: VariantUpdate, now: Any) -> bool:
    variant, spec = update.variant, update.spec
    item = store.inventory_items[variant.inventory_item_id]
    before = (variant.price, variant.compare_at_price, variant.barcode, variant.inventory_policy, variant.taxable)
    item_before = (item.sku, item.tracked, item.requires_shipping)
    apply_variant_fields(variant, spec)
    item_input = spec.get("inventoryItem") or {}
    if "sku" in item_input:
        item.sku = item_input["sku"]
    for key, attribute in (("tracked", "tracked"), ("requiresShipping", "requires_shipping")):
        if item_input.get(key) is not None:
            setattr(item, attribute, item_input[key])
    changed = before != (
        variant.price,
        variant.compare_at_price,
        variant.barcode,
        variant.inventory_policy,
        variant.taxable,
    )
    if item_before != (item.sku, item.tracked, item.requires_shipping):
        item.updated_at = now
        changed = True
    for planned in update.metafields:
        changed |= apply_metafield(store, planned, now)[1]
    if changed:
        variant.updated_at = now
    return changed


# ---- tagsAdd / tagsRemove ----------------------------------------------------------------------------


def split_tags(raw: list[str] | str) -> list[str]:
    """Tags as given: a list, or comma-separated strings; blanks dropped, case-insensitive duplicates merged."""
    values = [raw] if isinstance(raw, str) else raw
    tags: list[str] = []
    seen: set[str] = set()
    for value in values:
        for part in str(value).split(","):
            tag = part.strip()
            if tag and tag.casefold() not in seen:
                seen.add(tag.casefold())
                tags.append(tag)
    return tags


def tags_add(info: GraphQLResolveInfo, id: str, tags: list[str], **_: Any) -> View:
    return _change_tags(context_of(info), id, tags, add=True)


def tags_remove(info: GraphQLResolveInfo, id: str, tags: list[str], **_: Any) -> View:
    return _change_tags(context_of(info), id, tags, add=False)


def taggable(store: Store, global_id: str) -> Product | Order | None:
    kind, number = gid_kind(global_id) if isinstance(global_id, str) else None, parse_gid(global_id)
    if kind == "Product" and number is not None:
        return store.products.get(number)
    if kind == "Order" and number is not None:
        return store.orders.get(number)
    return None


def change_tags(store: Store, target: Product | Order, tags: list[str], *, add: bool) -> bool:
    """Set semantics on the target's tags; True when they changed (then updatedAt moves)."""
    current = list(target.tags)
    folded = {t.casefold() for t in current}
    if add:
        updated = current + [t for t in tags if t.casefold() not in folded]
    else:
        removing = {t.casefold() for t in tags}
        updated = [t for t in current if t.casefold() not in removing]
    if updated == current:
        return False
    target.tags = updated
    target.updated_at = store.now()
    return True


def _change_tags(ctx: RequestContext, global_id: str, raw_tags: list[str], *, add: bool) -> View:
    from local.emulator.resolvers.shop import find_node

    store = ctx.store
    target = taggable(store, global_id)
    kind = gid_kind(global_id) if isinstance(global_id, str) else None
    if target is None:
        message = f"{kind} does not exist" if kind in TAGGABLE else "Invalid global id"
        return {"node": None, "userErrors": [{"field": ["id"], "message": message}]}
    tags = split_tags(raw_tags)
    too_long = [t for t in tags if len(t) > MAX_TAG_LENGTH]
    if too_long:
        message = f"Tags can't be longer than {MAX_TAG_LENGTH} characters"
        return {"node": None, "userErrors": [{"field": ["tags"], "message": message}]}
    change_tags(store, target, tags, add=add)
    if isinstance(target, Order):
        ctx.emulator.order_changed(store, target, "orders/updated")
    return {"node": find_node(ctx, global_id), "userErrors": []}


# ---- metafieldsSet -----------------------------------------------------------------------------------


def metafields_set(info: GraphQLResolveInfo, metafields: list[dict[str, Any]], **_: Any) -> View:
    ctx = context_of(info)
    store = ctx.store
    if len(metafields) > MAX_METAFIELDS_PER_CALL:
        message = f"Exceeded the maximum metafields input limit of {MAX_METAFIELDS_PER_CALL}."
        return {"metafields": [], "userErrors": [metafield_error(["metafields"], message, "LESS_THAN_OR_EQUAL_TO")]}
    errors: list[MetafieldError] = []
    planned: list[PlannedMetafield] = []
    seen: set[tuple[str, str, str]] = set()
    for index, spec in enumerate(metafields):
        plan = plan_metafield(store, str(spec.get("ownerId")), spec, ["metafields", index], errors)
        if plan is None:
            continue
        identity = (plan.owner_id, plan.namespace, plan.key)
        if identity in seen:
            message = "The same namespace and key cannot be set twice for one owner in a single call."
            errors.append(metafield_error(["metafields", index, "key"], message, "TAKEN"))
        seen.add(identity)
        planned.append(plan)
    if errors:
        return {"metafields": [], "userErrors": errors}  # atomic: nothing persisted
    now = store.now()
    results = []
    for plan in planned:
        metafield, changed = apply_metafield(store, plan, now)
        if changed:
            touch_owner(store, plan.owner_id, now)
            order = store.orders.get(parse_gid(plan.owner_id, "Order") or -1)
            if order is not None:
                ctx.emulator.order_changed(store, order, "orders/updated")
        results.append(metafield_view(ctx, metafield))
    return {"metafields": results, "userErrors": []}


def resolve_node(ctx: RequestContext, kind: str, number: int) -> View | None:
    if kind == "Metafield" and number in ctx.store.metafields:
        return metafield_view(ctx, ctx.store.metafields[number])
    return None

"""productSet: create or replace a product with its options and variants in one call.

Lists are replaced, as in Shopify: variants missing from `input.variants` are deleted; existing ones are
matched by `id` or, failing that, by their option values (so a re-run keeps ids and inventory items).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from graphql import GraphQLResolveInfo

from local.emulator.context import context_of
from local.emulator.ids import gid, parse_gid
from local.emulator.state import InventoryItem, Product, ProductOption, Store, Variant, handleize
from local.emulator.views import View, product_view

MAX_OPTIONS = 3
MAX_OPTION_VALUES = 100
MAX_VARIANTS = 2048
DEFAULT_OPTION = ("Title", ["Default Title"])
UserError = dict[str, Any]


def user_error(field_path: Sequence[str | int] | None, message: str, code: str) -> UserError:
    return {"field": None if field_path is None else [str(p) for p in field_path], "message": message, "code": code}


@dataclass
class VariantPlan:
    index: int
    spec: dict[str, Any]
    options: list[tuple[str, str]]
    existing: Variant | None = None


@dataclass
class ProductPlan:
    product: Product | None
    options: list[tuple[str, list[str]]] | None  # None: keep the product's options
    variants: list[VariantPlan] | None  # None: keep the product's variants
    handle: str | None = None
    errors: list[UserError] = field(default_factory=list)


def apply_variant_fields(variant: Variant, spec: dict[str, Any]) -> None:
    """The variant fields productSet and productVariantsBulkUpdate both write, as Shopify reads them."""
    if spec.get("price") is not None:
        variant.price = f"{Decimal(str(spec['price'])):.2f}"
    if "compareAtPrice" in spec:
        compare = spec["compareAtPrice"]
        variant.compare_at_price = None if compare is None else f"{Decimal(str(compare)):.2f}"
    if "barcode" in spec:
        variant.barcode = spec["barcode"]
    if spec.get("inventoryPolicy"):
        variant.inventory_policy = spec["inventoryPolicy"]
    if spec.get("taxable") is not None:
        variant.taxable = spec["taxable"]


def product_set(
    info: GraphQLResolveInfo,
    input: dict[str, Any],
    synchronous: bool = True,
    identifier: dict[str, Any] | None = None,
    **_: Any,
) -> View:
    ctx = context_of(info)
    plan = _plan(ctx.store, input, identifier)
    if plan.errors:
        return {"product": None, "productSetOperation": None, "userErrors": plan.errors}
    product = _apply(ctx.store, plan, input)
    view = product_view(ctx, product)
    if synchronous:
        return {"product": view, "productSetOperation": None, "userErrors": []}
    operation = {
        "__typename": "ProductSetOperation",
        "id": gid("ProductSetOperation", ctx.store.new_id()),
        "status": "COMPLETE",  # applied at once; a poll of the operation is not emulated
        "product": view,
        "userErrors": [],
    }
    return {"product": None, "productSetOperation": operation, "userErrors": []}


# ---- validation --------------------------------------------------------------------------------------


def _plan(store: Store, data: dict[str, Any], identifier: dict[str, Any] | None) -> ProductPlan:
    plan = ProductPlan(product=None, options=None, variants=None)
    if identifier and data.get("id"):
        plan.errors.append(
            user_error(["input"], "The id field is not allowed if identifier is provided.", "ID_NOT_ALLOWED")
        )
        return plan
    plan.product, lookup_error = _target(store, data, identifier or {})
    if lookup_error:
        plan.errors.append(lookup_error)
        return plan
    creating = plan.product is None
    title = data.get("title")
    if (creating or "title" in data) and not (title or "").strip():
        plan.errors.append(user_error(["input", "title"], "Title can't be blank", "INVALID_PRODUCT"))
    plan.handle = _handle(store, data, identifier or {}, plan)
    plan.options = _options(data.get("productOptions"), plan.errors)
    plan.variants = _variants(store, data.get("variants"), plan)
    return plan


def _target(store: Store, data: dict[str, Any], identifier: dict[str, Any]) -> tuple[Product | None, UserError | None]:
    if identifier.get("customId"):
        return None, user_error(
            ["identifier", "customId"], "customId identifiers are not emulated by shopsync", "INVALID_INPUT"
        )
    if identifier.get("id") or data.get("id"):
        path = ["identifier", "id"] if identifier.get("id") else ["input", "id"]
        product = store.products.get(parse_gid(identifier.get("id") or data.get("id"), "Product") or -1)
        if product is None:
            return None, user_error(path, "Product does not exist", "PRODUCT_DOES_NOT_EXIST")
        return product, None
    if identifier.get("handle"):
        return store.product_by_handle(handleize(identifier["handle"])), None
    return None, None


def _handle(store: Store, data: dict[str, Any], identifier: dict[str, Any], plan: ProductPlan) -> str | None:
    wanted = (data.get("handle") or "").strip() or (identifier.get("handle") or "").strip()
    own_id = plan.product.id if plan.product else None
    if wanted:
        handle = handleize(wanted)
        holder = store.product_by_handle(handle)
        if holder is not None and holder.id != own_id:
            plan.errors.append(
                user_error(
                    ["input", "handle"],
                    f"Handle '{handle}' already in use. Please provide a new handle.",
                    "HANDLE_NOT_UNIQUE",
                )
            )
        return handle
    if plan.product is None and data.get("title"):
        return store.unique_handle(handleize(data["title"]))
    return None


def _options(raw: list[dict[str, Any]] | None, errors: list[UserError]) -> list[tuple[str, list[str]]] | None:
    if raw is None:
        return None
    if len(raw) > MAX_OPTIONS:
        errors.append(
            user_error(["input", "productOptions"], "Can only specify a maximum of 3 options", "OPTIONS_OVER_LIMIT")
        )
    options: list[tuple[str, list[str]]] = []
    for index, option in enumerate(raw):
        path: list[str | int] = ["input", "productOptions", index]
        name = (option.get("name") or "").strip()
        values = [(v.get("name") or "").strip() for v in option.get("values") or []]
        if not name:
            errors.append(user_error([*path, "name"], "Option name can't be blank", "INVALID_INPUT"))
        elif any(name.casefold() == existing.casefold() for existing, _ in options):
            errors.append(user_error([*path, "name"], f"Duplicated option name '{name}'", "DUPLICATED_OPTION_NAME"))
        if not values or not all(values):
            errors.append(user_error([*path, "values"], "Option values can't be blank", "OPTION_VALUES_MISSING"))
        elif len({v.casefold() for v in values}) != len(values):
            errors.append(user_error([*path, "values"], "Duplicated option value", "DUPLICATED_OPTION_VALUE"))
        elif len(values) > MAX_OPTION_VALUES:
            errors.append(user_error([*path, "values"], "Too many option values", "OPTION_VALUES_OVER_LIMIT"))
        options.append((name, values))
    return options


def _variants(store: Store, raw: list[dict[str, Any]] | None, plan: ProductPlan) -> list[VariantPlan] | None:
    product = plan.product
    options = plan.options if plan.options is not None else _current_options(store, product)
    if raw is None:
        if plan.options is not None and product is None:
            plan.errors.append(
                user_error(
                    ["input", "variants"], "Variants input is required with product options", "VARIANTS_INPUT_MISSING"
                )
            )
        return None
    if len(raw) > MAX_VARIANTS:
        plan.errors.append(user_error(["input", "variants"], "Too many variants", "VARIANTS_OVER_LIMIT"))
        return None
    if options is None:
        if len(raw) == 1 and not raw[0].get("optionValues"):
            options = [DEFAULT_OPTION]
        else:
            plan.errors.append(
                user_error(
                    ["input", "productOptions"],
                    "Product options input is required when variants have option values",
                    "PRODUCT_OPTIONS_INPUT_MISSING",
                )
            )
            return None
    existing = store.product_variants(product) if product else []
    plans: list[VariantPlan] = []
    seen: set[tuple[tuple[str, str], ...]] = set()
    for index, spec in enumerate(raw):
        path: list[str | int] = ["input", "variants", index]
        chosen = _variant_options(spec, options, path, plan.errors)
        if chosen is None:
            continue
        key = tuple((n.casefold(), v.casefold()) for n, v in chosen)
        if key in seen:
            title = " / ".join(v for _, v in chosen)
            plan.errors.append(
                user_error([*path, "optionValues"], f"The variant '{title}' already exists.", "INVALID_VARIANT")
            )
        seen.add(key)
        _check_price(spec, path, plan.errors)
        match = _existing_variant(spec, chosen, existing, path, plan.errors)
        plans.append(VariantPlan(index, spec, chosen, match))
    return plans


def _current_options(store: Store, product: Product | None) -> list[tuple[str, list[str]]] | None:
    if product is None or not product.options:
        return None
    return [(o.name, list(o.values)) for o in product.options]


def _variant_options(
    spec: dict[str, Any], options: list[tuple[str, list[str]]], path: list[str | int], errors: list[UserError]
) -> list[tuple[str, str]] | None:
    given = spec.get("optionValues") or []
    if options == [DEFAULT_OPTION] and not given:
        return [("Title", "Default Title")]
    by_name: dict[str, str] = {}
    for position, value in enumerate(given):
        option_name = (value.get("optionName") or "").strip()
        match = next(((n, vals) for n, vals in options if n.casefold() == option_name.casefold()), None)
        if match is None:
            errors.append(
                user_error(
                    [*path, "optionValues", position], f"Option '{option_name}' does not exist", "OPTION_DOES_NOT_EXIST"
                )
            )
            return None
        wanted = (value.get("name") or "").strip()
        canonical = next((v for v in match[1] if v.casefold() == wanted.casefold()), None)
        if canonical is None:
            errors.append(
                user_error(
                    [*path, "optionValues", position],
                    f"Option value '{wanted}' does not exist for option '{match[0]}'",
                    "OPTION_VALUE_DOES_NOT_EXIST",
                )
            )
            return None
        by_name[match[0]] = canonical
    if len(by_name) != len(options) or len(given) != len(options):
        errors.append(
            user_error(
                [*path, "optionValues"], "A variant needs exactly one value for each product option", "INVALID_VARIANT"
            )
        )
        return None
    return [(name, by_name[name]) for name, _ in options]


def _check_price(spec: dict[str, Any], path: list[str | int], errors: list[UserError]) -> None:
    for key in ("price", "compareAtPrice"):
        if spec.get(key) is None:
            continue
        try:
            valid = Decimal(str(spec[key])) >= 0
        except InvalidOperation:
            valid = False
        if not valid:
            label = "Price" if key == "price" else "Compare at price"
            errors.append(user_error([*path, key], f"{label} must be greater than or equal to 0", "INVALID_VARIANT"))


def _existing_variant(
    spec: dict[str, Any],
    chosen: list[tuple[str, str]],
    existing: list[Variant],
    path: list[str | int],
    errors: list[UserError],
) -> Variant | None:
    if spec.get("id"):
        number = parse_gid(spec["id"], "ProductVariant")
        found = next((v for v in existing if v.id == number), None)
        if found is None:
            errors.append(user_error([*path, "id"], "Product variant does not exist", "PRODUCT_VARIANT_DOES_NOT_EXIST"))
        return found
    wanted = [(n.casefold(), v.casefold()) for n, v in chosen]
    return next((v for v in existing if [(n.casefold(), x.casefold()) for n, x in v.options] == wanted), None)


# ---- apply -------------------------------------------------------------------------------------------


def _apply(store: Store, plan: ProductPlan, data: dict[str, Any]) -> Product:
    now = store.now()
    product = plan.product
    if product is None:
        product = Product(id=store.new_id(), title="", handle="", created_at=now, updated_at=now, vendor=store.name)
        store.products[product.id] = product
    before = _snapshot(product)
    product.title = (data.get("title") or product.title).strip()
    product.handle = plan.handle or product.handle
    for key, attribute in (("status", "status"), ("vendor", "vendor"), ("productType", "product_type")):
        if data.get(key) is not None:
            setattr(product, attribute, data[key])
    if data.get("descriptionHtml") is not None:
        product.description_html = data["descriptionHtml"]
    if data.get("tags") is not None:
        product.tags = _tags(data["tags"])
    if plan.options is not None:
        product.options = _option_objects(store, product, plan.options)
    elif not product.options and plan.variants is not None:
        product.options = _option_objects(store, product, [DEFAULT_OPTION])
    if plan.variants is not None:
        _replace_variants(store, product, plan.variants, now)
    elif not product.variant_ids:
        product.options = _option_objects(store, product, [DEFAULT_OPTION])
        _replace_variants(store, product, [VariantPlan(0, {}, [("Title", "Default Title")])], now)
    if _snapshot(product) != before:
        product.updated_at = now
    return product


def _tags(raw: Any) -> list[str]:
    values = raw if isinstance(raw, list) else [raw]
    tags: list[str] = []
    for value in values:
        for raw_tag in str(value).split(","):
            tag = raw_tag.strip()
            if tag and tag.casefold() not in {t.casefold() for t in tags}:
                tags.append(tag)
    return tags


def _option_objects(store: Store, product: Product, options: list[tuple[str, list[str]]]) -> list[ProductOption]:
    current = {o.name.casefold(): o for o in product.options}
    result = []
    for position, (name, values) in enumerate(options, start=1):
        option = current.get(name.casefold()) or ProductOption(store.new_id(), name, position)
        option.name, option.position, option.values = name, position, list(values)
        result.append(option)
    return result


def _replace_variants(store: Store, product: Product, plans: list[VariantPlan], now: Any) -> None:
    kept: list[int] = []
    for order, plan in enumerate(plans, start=1):
        variant = plan.existing or _new_variant(store, product, plan, now)
        before = _variant_snapshot(store, variant)
        spec = plan.spec
        variant.options = plan.options
        variant.position = spec.get("position") or order
        apply_variant_fields(variant, spec)
        item = store.inventory_items[variant.inventory_item_id]
        item_input = spec.get("inventoryItem") or {}
        if "sku" in item_input or "sku" in spec:
            item.sku = item_input.get("sku", spec.get("sku"))
        for key, attribute in (("tracked", "tracked"), ("requiresShipping", "requires_shipping")):
            if item_input.get(key) is not None:
                setattr(item, attribute, item_input[key])
        _set_initial_quantities(store, item, spec.get("inventoryQuantities") or [])
        if _variant_snapshot(store, variant) != before:
            variant.updated_at = item.updated_at = now
        kept.append(variant.id)
    for variant_id in product.variant_ids:
        if variant_id not in kept:
            _delete_variant(store, store.variants[variant_id])
    product.variant_ids = kept


def _new_variant(store: Store, product: Product, plan: VariantPlan, now: Any) -> Variant:
    item_input = plan.spec.get("inventoryItem") or {}
    tracked = item_input.get("tracked")
    item = InventoryItem(
        id=store.new_id(),
        sku=None,
        created_at=now,
        updated_at=now,
        tracked=bool(plan.spec.get("inventoryQuantities")) if tracked is None else tracked,
    )
    variant = Variant(
        id=store.new_id(),
        product_id=product.id,
        inventory_item_id=item.id,
        created_at=now,
        updated_at=now,
        options=plan.options,
    )
    item.variant_id = variant.id
    store.inventory_items[item.id] = item
    store.variants[variant.id] = variant
    store.activate(item, store.primary_location)  # new variants are stocked at the shop's primary location
    return variant


def _set_initial_quantities(store: Store, item: InventoryItem, quantities: list[dict[str, Any]]) -> None:
    for entry in quantities:
        location = store.locations.get(parse_gid(entry.get("locationId"), "Location") or -1)
        if location is None or entry.get("name") not in ("available", "on_hand"):
            continue
        store.activate(item, location).set_quantity(entry["name"], int(entry["quantity"]), store.now())


def _delete_variant(store: Store, variant: Variant) -> None:
    item = store.inventory_items.pop(variant.inventory_item_id, None)
    for level in item.levels.values() if item else []:
        store.levels.pop(level.id, None)
    store.variants.pop(variant.id, None)


def _snapshot(product: Product) -> tuple[Any, ...]:
    return (
        product.title,
        product.handle,
        product.status,
        product.vendor,
        product.product_type,
        tuple(product.tags),
        product.description_html,
        tuple((o.name, tuple(o.values)) for o in product.options),
        tuple(product.variant_ids),
    )


def _variant_snapshot(store: Store, variant: Variant) -> tuple[Any, ...]:
    item = store.inventory_items[variant.inventory_item_id]
    return (
        tuple(variant.options),
        variant.position,
        variant.price,
        variant.compare_at_price,
        variant.barcode,
        variant.inventory_policy,
        variant.taxable,
        item.sku,
        item.tracked,
    )

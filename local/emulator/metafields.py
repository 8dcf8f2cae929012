"""Metafields: validation shared by metafieldsSet and productVariantsBulkUpdate, upsert, and the views.

Rules (reference §4.3, MetafieldsSetInput description, recordings metafields/*.json): at most 25 inputs per
metafieldsSet call, atomic, upsert by (ownerId, namespace, key); `type` required when the metafield does not exist
yet (no metafield definitions are emulated); namespace 3-255 characters, key 2-64, both `[A-Za-z0-9_-]` (an app
namespace may carry the `$app:` prefix); values checked against their type (json must parse); `compareDigest`
is a compare-and-set on the stored metafield (null: it must not exist yet). Errors name the input element in
`field` (["metafields", "0", "value"]) with `elementIndex: null`, as in the recordings.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from graphql import GraphQLResolveInfo

from local.emulator.connections import connection
from local.emulator.ids import gid, gid_kind, parse_gid
from local.emulator.state import Metafield, Store, iso

MAX_METAFIELDS_PER_CALL = 25
APP_NAMESPACE = "app--shopsync"
OWNER_TYPES = {"Product": "PRODUCT", "ProductVariant": "PRODUCTVARIANT", "Order": "ORDER", "Shop": "SHOP"}
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
SCALAR_TYPES = frozenset(
    {
        "boolean",
        "color",
        "date",
        "date_time",
        "json",
        "money",
        "multi_line_text_field",
        "number_decimal",
        "number_integer",
        "rich_text_field",
        "single_line_text_field",
        "url",
        "id",
        "link",
        "product_reference",
        "variant_reference",
        "collection_reference",
        "file_reference",
        "metaobject_reference",
        "page_reference",
        "customer_reference",
        "company_reference",
        "dimension",
        "volume",
        "weight",
        "rating",
    }
)
MetafieldError = dict[str, Any]


def metafield_error(path: Sequence[str | int], message: str, code: str) -> MetafieldError:
    return {"field": [str(p) for p in path], "message": message, "code": code, "elementIndex": None}


def valid_type(type_name: str) -> bool:
    return type_name in SCALAR_TYPES or (type_name.startswith("list.") and type_name[5:] in SCALAR_TYPES)


def normalise_namespace(namespace: str | None) -> str:
    if namespace is None or namespace == "":
        return APP_NAMESPACE
    if namespace.startswith("$app:"):
        return f"{APP_NAMESPACE}--{namespace[5:]}"
    if namespace == "$app":
        return APP_NAMESPACE
    return namespace


def _json_problem(type_name: str, value: str) -> str | None:
    try:
        parsed = json.loads(value)
    except ValueError:
        return "Value is invalid JSON."
    if type_name.startswith("list.") and not isinstance(parsed, list):
        return "Value must be an array."
    return None


def _parses(parser: Any, value: str) -> bool:
    try:
        parser(value)
    except (ValueError, InvalidOperation):
        return False
    return True


_VALUE_RULES: dict[str, tuple[Any, str]] = {
    "number_integer": (lambda v: re.fullmatch(r"-?\d+", v.strip()) is not None, "Value must be an integer."),
    "number_decimal": (lambda v: _parses(Decimal, v), "Value must be a decimal."),
    "boolean": (lambda v: v in ("true", "false"), "Value must be true or false."),
    "date": (lambda v: _parses(date.fromisoformat, v), "Value must be in YYYY-MM-DD format."),
    "date_time": (
        lambda v: _parses(lambda x: datetime.fromisoformat(x.replace("Z", "+00:00")), v),
        "Value must be in ISO 8601 format.",
    ),
    "single_line_text_field": (lambda v: "\n" not in v and "\r" not in v, "Value must be a single line of text."),
    "url": (lambda v: re.match(r"^(https?|mailto|sms|tel):\S+$", v) is not None, "Value must be a valid URL."),
}


def value_problem(type_name: str, value: str) -> str | None:
    """Why `value` is not a valid `type_name` value, or None."""
    if type_name == "json" or type_name.startswith("list."):
        return _json_problem(type_name, value)
    rule = _VALUE_RULES.get(type_name)
    if rule is None or rule[0](value):
        return None
    return str(rule[1])


@dataclass
class PlannedMetafield:
    owner_id: str
    namespace: str
    key: str
    type: str
    value: str
    existing: Metafield | None


def owner_exists(store: Store, owner_id: str) -> bool:
    kind, number = gid_kind(owner_id) if isinstance(owner_id, str) else None, parse_gid(owner_id)
    if kind == "Product":
        return number in store.products
    if kind == "ProductVariant":
        return number in store.variants
    if kind == "Order":
        return number in store.orders
    if kind == "Shop":
        return number == store.shop_number
    return False


def plan_metafield(
    store: Store,
    owner_id: str,
    spec: dict[str, Any],
    path: list[str | int],
    errors: list[MetafieldError],
    *,
    check_digest: bool = True,
) -> PlannedMetafield | None:
    """Validate one MetafieldsSetInput/MetafieldInput; on error append to `errors` and return None."""
    before = len(errors)
    if not owner_exists(store, owner_id):
        errors.append(metafield_error([*path, "ownerId"], "Owner does not exist.", "INVALID"))
        return None
    namespace = normalise_namespace(spec.get("namespace"))
    key = spec.get("key")
    if not key:
        errors.append(metafield_error([*path, "key"], "Key can't be blank", "BLANK"))
        return None
    if not namespace.startswith(APP_NAMESPACE):
        _name_errors(namespace, "Namespace", (3, 255), [*path, "namespace"], errors)
    _name_errors(key, "Key", (2, 64), [*path, "key"], errors)
    existing = store.metafield_for(owner_id, namespace, key)
    type_name = spec.get("type") or (existing.type if existing else None)
    value = spec.get("value")
    _type_and_value_errors(type_name, value, path, errors)
    if check_digest and "compareDigest" in spec:
        _digest_errors(spec["compareDigest"], existing, path, errors)
    if len(errors) > before:
        return None
    assert type_name is not None and value is not None
    return PlannedMetafield(owner_id, namespace, key, type_name, value, existing)


def _name_errors(
    name: str, label: str, bounds: tuple[int, int], path: list[str | int], errors: list[MetafieldError]
) -> None:
    shortest, longest = bounds
    if len(name) < shortest:
        errors.append(metafield_error(path, f"{label} is too short (minimum is {shortest} characters)", "TOO_SHORT"))
    elif len(name) > longest:
        errors.append(metafield_error(path, f"{label} is too long (maximum is {longest} characters)", "TOO_LONG"))
    elif not _NAME.match(name):
        errors.append(metafield_error(path, f"{label} contains one or more invalid characters.", "INVALID"))


def _type_and_value_errors(
    type_name: str | None, value: str | None, path: list[str | int], errors: list[MetafieldError]
) -> None:
    if not type_name:
        errors.append(metafield_error([*path, "type"], "Type can't be blank", "BLANK"))
    elif not valid_type(type_name):
        message = f"Type '{type_name}' is not a valid metafield type."
        errors.append(metafield_error([*path, "type"], message, "INVALID_TYPE"))
    if value is None:
        errors.append(metafield_error([*path, "value"], "Value can't be blank", "BLANK"))
    elif type_name and valid_type(type_name):
        problem = value_problem(type_name, value)
        if problem:
            errors.append(metafield_error([*path, "value"], problem, "INVALID_VALUE"))


def _digest_errors(
    digest: str | None, existing: Metafield | None, path: list[str | int], errors: list[MetafieldError]
) -> None:
    if digest is not None and not re.fullmatch(r"[0-9a-f]{64}", str(digest)):
        errors.append(
            metafield_error([*path, "compareDigest"], "The compareDigest is invalid.", "INVALID_COMPARE_DIGEST")
        )
    elif (digest is None and existing is not None) or (
        digest is not None and (existing is None or existing.compare_digest != digest)
    ):
        message = "The resource has been updated since it was loaded. Try again with an updated `compareDigest` value."
        errors.append(metafield_error([*path, "compareDigest"], message, "STALE_OBJECT"))


def apply_metafield(store: Store, plan: PlannedMetafield, now: datetime) -> tuple[Metafield, bool]:
    """Upsert; returns the metafield and whether anything changed."""
    existing = plan.existing
    if existing is not None:
        if existing.type == plan.type and existing.value == plan.value:
            return existing, False
        existing.type, existing.value, existing.updated_at = plan.type, plan.value, now
        return existing, True
    metafield = Metafield(
        id=store.new_id(),
        owner_id=plan.owner_id,
        namespace=plan.namespace,
        key=plan.key,
        type=plan.type,
        value=plan.value,
        created_at=now,
        updated_at=now,
    )
    store.metafields[metafield.id] = metafield
    store.metafield_index[(plan.owner_id, plan.namespace, plan.key)] = metafield.id
    return metafield, True


def touch_owner(store: Store, owner_id: str, now: datetime) -> None:
    """A metafield change bumps its owner's updatedAt (and a variant's product)."""
    kind, number = gid_kind(owner_id), parse_gid(owner_id)
    if kind == "Product" and number in store.products:
        store.products[number].updated_at = now
    elif kind == "ProductVariant" and number in store.variants:
        variant = store.variants[number]
        variant.updated_at = now
        if variant.product_id in store.products:
            store.products[variant.product_id].updated_at = now
    elif kind == "Order" and number in store.orders:
        store.orders[number].updated_at = now


# ---- views -------------------------------------------------------------------------------------------


def metafield_view(ctx: Any, metafield: Metafield) -> dict[str, Any]:
    from local.emulator.resolvers.shop import find_node

    kind = gid_kind(metafield.owner_id) or "Shop"

    def json_value() -> Any:
        try:
            return json.loads(metafield.value)
        except ValueError:
            return metafield.value

    return {
        "__typename": "Metafield",
        "id": gid("Metafield", metafield.id),
        "legacyResourceId": str(metafield.id),
        "namespace": metafield.namespace,
        "key": metafield.key,
        "type": metafield.type,
        "value": metafield.value,
        "jsonValue": lambda info, **_: (
            json_value()
            if metafield.type == "json" or metafield.type.startswith(("list.", "number_", "boolean"))
            else metafield.value
        ),
        "compareDigest": metafield.compare_digest,
        "createdAt": iso(metafield.created_at),
        "updatedAt": iso(metafield.updated_at),
        "ownerType": OWNER_TYPES.get(kind, "SHOP"),
        "owner": lambda info, **_: find_node(ctx, metafield.owner_id),
        "definition": None,
        "description": None,
        "sizeInBytes": len(metafield.value.encode()),
    }


def owner_metafield_fields(ctx: Any, owner_id: str) -> dict[str, Any]:
    """The `metafield` and `metafields` fields of a HasMetafields view."""
    store: Store = ctx.store

    def one(info: GraphQLResolveInfo, key: str, namespace: str | None = None, **_: Any) -> dict[str, Any] | None:
        found = store.metafield_for(owner_id, normalise_namespace(namespace), key)
        return metafield_view(ctx, found) if found else None

    def many(info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
        items = store.owner_metafields(owner_id)
        if args.get("namespace") is not None:
            namespace = normalise_namespace(args["namespace"])
            items = [m for m in items if m.namespace == namespace]
        if args.get("keys"):
            wanted = set(args["keys"])  # "namespace.key"
            items = [m for m in items if f"{m.namespace}.{m.key}" in wanted]
        return connection(
            items,
            args,
            sort_value=lambda m: m.id,
            item_id=lambda m: m.id,
            view=lambda m: metafield_view(ctx, m),
            unbounded=ctx.bulk,
        )

    return {"metafield": one, "metafields": many}

"""Orders: storefront checkout (Shopify's own stock rule), merchant edits (fulfil, cancel, update) and the
REST-style order JSON that webhooks carry (reference §5, §6, §8).

Stock rule of a checkout, atomic for the whole cart under the store lock: a tracked variant with policy DENY sells
only from a location whose `available` covers the quantity; CONTINUE always sells (`available` may go negative);
untracked items never touch stock. A sale moves the quantity from `available` to `committed`; fulfilment removes it
from `committed` (so from `on_hand`); cancelling an unfulfilled order gives it back to `available`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from local.emulator.ids import gid, parse_gid
from local.emulator.state import Customer, InventoryLevel, LineItem, Order, Store, Variant, iso

APPS = {"web": "Online Store", "pos": "Point of Sale", "shopify_draft_order": "Draft Orders", "iphone": "Shop"}
CANCEL_REASONS = ("CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "OTHER", "STAFF")
ORDER_FIELDS = frozenset(
    {"email", "phone", "note", "tags", "shipping_address", "billing_address", "customer", "test", "source_name"}
)


@dataclass
class CheckoutResult:
    """What a storefront checkout answered: an order, or the first variant it could not sell."""

    ok: bool
    order_id: str | None = None  # GID
    order_name: str | None = None
    error: str | None = None  # OUT_OF_STOCK | UNKNOWN_VARIANT | INVALID_QUANTITY
    variant_id: str | None = None
    lines: list[dict[str, Any]] = field(default_factory=list)  # variant_id, quantity, location_id

    def as_json(self) -> dict[str, Any]:
        if self.ok:
            return {"order_id": self.order_id, "name": self.order_name, "lines": self.lines}
        return {"error": self.error, "variant_id": self.variant_id}


class CheckoutRefused(Exception):
    def __init__(self, error: str, variant_id: str | None) -> None:
        super().__init__(error)
        self.error = error
        self.variant_id = variant_id


# ---- checkout ----------------------------------------------------------------------------------------


def _variant_of(store: Store, variant_id: Any) -> Variant:
    number = parse_gid(variant_id, "ProductVariant") if isinstance(variant_id, str) else variant_id
    variant = store.variants.get(number) if isinstance(number, int) else None
    if variant is None:
        raise CheckoutRefused("UNKNOWN_VARIANT", str(variant_id))
    return variant


def _ordered_levels(store: Store, variant: Variant) -> list[InventoryLevel]:
    item = store.inventory_items[variant.inventory_item_id]
    levels = [level for level in item.levels.values() if level.is_active]
    primary = store.primary_location.id
    return sorted(levels, key=lambda level: (level.location_id != primary, level.location_id))


def allocate(store: Store, lines: Sequence[Mapping[str, Any]]) -> list[tuple[Variant, int, InventoryLevel | None]]:
    """Where each variant's quantity comes from, or CheckoutRefused. Changes nothing."""
    wanted: dict[int, int] = {}
    variants: dict[int, Variant] = {}
    for line in lines:
        variant = _variant_of(store, line.get("variant_id"))
        quantity = line.get("quantity", 1)
        if not isinstance(quantity, int) or quantity <= 0:
            raise CheckoutRefused("INVALID_QUANTITY", gid("ProductVariant", variant.id))
        variants[variant.id] = variant
        wanted[variant.id] = wanted.get(variant.id, 0) + quantity
    plan: list[tuple[Variant, int, InventoryLevel | None]] = []
    for variant_id, quantity in wanted.items():
        variant = variants[variant_id]
        item = store.inventory_items[variant.inventory_item_id]
        levels = _ordered_levels(store, variant)
        if not item.tracked:
            plan.append((variant, quantity, None))
        elif variant.inventory_policy == "CONTINUE":
            plan.append((variant, quantity, levels[0] if levels else None))
        else:
            level = next((lv for lv in levels if lv.stored["available"] >= quantity), None)
            if level is None:
                raise CheckoutRefused("OUT_OF_STOCK", gid("ProductVariant", variant.id))
            plan.append((variant, quantity, level))
    return plan


def commit_stock(level: InventoryLevel, quantity: int, now: datetime) -> None:
    level.stored["available"] -= quantity
    level.stored["committed"] += quantity
    level.changed_at["available"] = level.changed_at["committed"] = now
    level.updated_at = now


def checkout(
    store: Store,
    lines: Sequence[Mapping[str, Any]],
    *,
    email: str | None = None,
    phone: str | None = None,
    shipping_address: dict[str, Any] | None = None,
    source_name: str = "web",
) -> tuple[CheckoutResult, Order | None]:
    """Call under the store lock. Creates the order only when every line can be sold."""
    try:
        plan = allocate(store, lines)
    except CheckoutRefused as refused:
        return CheckoutResult(ok=False, error=refused.error, variant_id=refused.variant_id), None
    now = store.now()
    items = []
    for variant, quantity, level in plan:
        if level is not None:
            commit_stock(level, quantity, now)
        items.append(_line_item(store, variant, quantity, level.location_id if level else None))
    names = (shipping_address or {}).get("first_name"), (shipping_address or {}).get("last_name")
    order = new_order(
        store,
        items,
        now=now,
        email=email,
        phone=phone,
        shipping_address=shipping_address,
        billing_address=shipping_address,
        source_name=source_name,
        customer={"first_name": names[0], "last_name": names[1], "email": email, "phone": phone}
        if email or phone
        else None,
    )
    result = CheckoutResult(
        ok=True,
        order_id=gid("Order", order.id),
        order_name=order.name,
        lines=[
            {
                "variant_id": gid("ProductVariant", variant.id),
                "quantity": quantity,
                "location_id": gid("Location", level.location_id) if level else None,
            }
            for variant, quantity, level in plan
        ],
    )
    return result, order


def _line_item(store: Store, variant: Variant, quantity: int, location_id: int | None) -> LineItem:
    product = store.products[variant.product_id]
    title = product.title if variant.title == "Default Title" else f"{product.title} - {variant.title}"
    return LineItem(
        id=store.new_id(),
        variant_id=variant.id,
        sku=store.inventory_items[variant.inventory_item_id].sku,
        name=title,
        quantity=quantity,
        price=variant.price,
        location_id=location_id,
        product_id=product.id,
    )


def new_order(
    store: Store,
    items: list[LineItem],
    *,
    now: datetime,
    source_name: str = "web",
    customer: Mapping[str, Any] | None = None,
    **fields: Any,
) -> Order:
    number = next(store.order_numbers)
    order = Order(
        id=store.new_id(),
        number=number,
        name=f"#{number}",
        created_at=now,
        updated_at=now,
        processed_at=now,
        line_items=items,
        source_name=source_name,
        app_name=APPS.get(source_name, "shopsync"),
        currency=store.currency,
    )
    for key, value in fields.items():
        setattr(order, key, value)
    if customer:
        order.customer = Customer(
            id=store.new_id(),
            first_name=customer.get("first_name"),
            last_name=customer.get("last_name"),
            email=customer.get("email"),
            phone=customer.get("phone"),
        )
        store.customers[order.customer.id] = order.customer
    store.orders[order.id] = order
    return order


# ---- seeding and merchant edits ----------------------------------------------------------------------


def seed_line(store: Store, spec: Mapping[str, Any], *, adjust_inventory: bool, now: datetime) -> LineItem:
    """A line of a seeded order: a known variant, or only a SKU/title (custom item or unknown variant)."""
    quantity = int(spec.get("quantity", 1))
    variant_id = spec.get("variant_id")
    if variant_id is not None:
        variant = _variant_of(store, variant_id)
        levels = _ordered_levels(store, variant)
        item = store.inventory_items[variant.inventory_item_id]
        level = levels[0] if adjust_inventory and item.tracked and levels else None
        if level is not None:
            commit_stock(level, quantity, now)
        line = _line_item(store, variant, quantity, level.location_id if level else None)
        if "sku" in spec:
            line.sku = spec["sku"]
    else:
        line = LineItem(
            id=store.new_id(),
            variant_id=None,
            sku=spec.get("sku"),
            name=spec.get("name") or spec.get("title") or spec.get("sku") or "Custom item",
            quantity=quantity,
            price=str(spec.get("price", "0.00")),
        )
    if spec.get("price") is not None:
        line.price = f"{Decimal(str(spec['price'])):.2f}"
    line.selling_plan = spec.get("selling_plan")
    line.custom_attributes = [{"key": str(k), "value": str(v)} for k, v in (spec.get("properties") or {}).items()]
    return line


def fulfil(store: Store, order: Order) -> None:
    now = store.now()
    for line in order.line_items:
        remaining = (line.current_quantity or 0) - line.fulfilled_quantity
        if remaining > 0 and line.location_id is not None and line.variant_id in store.variants:
            level = _level(store, line)
            if level is not None:
                level.stored["committed"] -= remaining
                level.changed_at["committed"] = now
                level.updated_at = now
        line.fulfilled_quantity += max(0, remaining)
    order.fulfillment_status = "FULFILLED"
    if order.source_name == "pos" and order.closed_at is None:
        order.closed_at = now
    order.updated_at = now


def cancel(store: Store, order: Order, reason: str = "OTHER", *, restock: bool = True) -> None:
    if reason.upper() not in CANCEL_REASONS:
        raise ValueError(f"unknown cancel reason {reason!r}; expected one of {', '.join(CANCEL_REASONS)}")
    if order.cancelled_at is not None:
        raise ValueError(f"order {order.name} is already cancelled")
    now = store.now()
    for line in order.line_items:
        unfulfilled = (line.current_quantity or 0) - line.fulfilled_quantity
        if restock and unfulfilled > 0 and line.location_id is not None:
            level = _level(store, line)
            if level is not None:
                level.stored["committed"] -= unfulfilled
                level.stored["available"] += unfulfilled
                level.changed_at["available"] = level.changed_at["committed"] = now
                level.updated_at = now
        line.current_quantity = line.fulfilled_quantity
    order.cancelled_at, order.cancel_reason = now, reason.upper()
    order.closed_at = order.closed_at or now
    order.financial_status = "REFUNDED" if order.financial_status == "PAID" else "VOIDED"
    if order.fulfillment_status == "UNFULFILLED" and restock:
        order.fulfillment_status = "RESTOCKED"
    order.updated_at = now


def update(store: Store, order: Order, fields: Mapping[str, Any]) -> None:
    unknown = set(fields) - ORDER_FIELDS
    if unknown:
        raise ValueError(f"cannot update order fields {sorted(unknown)}; allowed: {sorted(ORDER_FIELDS)}")
    for key, value in fields.items():
        if key == "customer":
            order.customer = _customer(store, order.customer, value)
        elif key == "tags":
            order.tags = [t.strip() for t in (value.split(",") if isinstance(value, str) else value) if t.strip()]
        else:
            setattr(order, key, value)
    if "source_name" in fields:
        order.app_name = APPS.get(order.source_name, "shopsync")
    order.updated_at = store.now()


def _customer(store: Store, current: Customer | None, value: Mapping[str, Any] | None) -> Customer | None:
    if value is None:
        return None
    customer = current or Customer(id=store.new_id())
    for key in ("first_name", "last_name", "email", "phone"):
        if key in value:
            setattr(customer, key, value[key])
    store.customers[customer.id] = customer
    return customer


def _level(store: Store, line: LineItem) -> InventoryLevel | None:
    variant = store.variants.get(line.variant_id) if line.variant_id is not None else None
    if variant is None or line.location_id is None:
        return None
    return store.inventory_items[variant.inventory_item_id].levels.get(line.location_id)


# ---- REST JSON (webhook payloads, the checkout endpoint) ---------------------------------------------

_FINANCIAL = {"PAID": "paid", "PENDING": "pending", "REFUNDED": "refunded", "VOIDED": "voided"}
_FULFILLMENT = {"FULFILLED": "fulfilled", "PARTIALLY_FULFILLED": "partial", "RESTOCKED": "restocked"}


def rest_address(address: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if address is None:
        return None
    keys = ("first_name", "last_name", "address1", "address2", "city", "province", "province_code", "zip")
    result: dict[str, Any] = {key: address.get(key) for key in keys}
    result.update(
        {
            "country": address.get("country"),
            "country_code": address.get("country_code"),
            "phone": address.get("phone"),
            "company": address.get("company"),
            "name": " ".join(p for p in (address.get("first_name"), address.get("last_name")) if p) or None,
        }
    )
    return result


def rest_order(store: Store, order: Order) -> dict[str, Any]:
    """The order as Shopify's REST resource / webhook payload (reference §8), ids as JSON numbers."""
    customer = order.customer
    return {
        "id": order.id,
        "admin_graphql_api_id": gid("Order", order.id),
        "name": order.name,
        "order_number": order.number,
        "number": order.number - 1000,
        "email": order.email,
        "contact_email": order.email,
        "phone": order.phone,
        "created_at": iso(order.created_at),
        "updated_at": iso(order.updated_at),
        "processed_at": iso(order.processed_at),
        "cancelled_at": iso(order.cancelled_at),
        "cancel_reason": order.cancel_reason.lower() if order.cancel_reason else None,
        "closed_at": iso(order.closed_at),
        "financial_status": _FINANCIAL.get(order.financial_status or ""),
        "fulfillment_status": _FULFILLMENT.get(order.fulfillment_status),
        "source_name": order.source_name,
        "location_id": order.retail_location_id,
        "test": order.test,
        "tags": ", ".join(order.tags),
        "note": order.note,
        "currency": order.currency,
        "total_price": order.total_price,
        "line_items": [
            {
                "id": line.id,
                "admin_graphql_api_id": gid("LineItem", line.id),
                "variant_id": line.variant_id,
                "product_id": line.product_id,
                "sku": line.sku,
                "title": line.name,
                "name": line.name,
                "quantity": line.quantity,
                "current_quantity": line.current_quantity,
                "fulfillable_quantity": max(0, (line.current_quantity or 0) - line.fulfilled_quantity),
                "price": line.price,
                "properties": [{"name": a["key"], "value": a["value"]} for a in line.custom_attributes],
                "selling_plan_allocation": (
                    {"selling_plan": {"id": line.selling_plan.get("sellingPlanId"), "name": line.selling_plan["name"]}}
                    if line.selling_plan
                    else None
                ),
            }
            for line in order.line_items
        ],
        "shipping_address": rest_address(order.shipping_address),
        "billing_address": rest_address(order.billing_address),
        "customer": (
            {
                "id": customer.id,
                "admin_graphql_api_id": gid("Customer", customer.id),
                "email": customer.email,
                "phone": customer.phone,
                "first_name": customer.first_name,
                "last_name": customer.last_name,
            }
            if customer
            else None
        ),
    }

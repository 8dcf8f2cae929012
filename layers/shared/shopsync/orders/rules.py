"""Order import rules (reference/hotwax-domain.md §5.2-5.3), pure functions over the GraphQL order node.

- Status: cancelled → CANCELLED; closed or fulfilled → COMPLETED (a POS sale fulfilled at the till); else CREATED.
- Source: `sourceName` "pos" (or a retail location) → pos; "web" → web; anything else (draft orders, mobile and
  third-party apps) → app.
- Validation collects every problem, never only the first: an operator fixes them all in one pass.
  - an order that ships (not a POS sale) needs a shipping address with street, city and country;
  - a phone or an email must be there (the order's, the customer's, or the address phone);
  - the email, when there is one, must look like one;
  - every line must resolve to one catalog product (store link, else a unique SKU match);
  - all lines must have been read (one read returns up to 100).
- Pre-order/back-order lines: the product is in the pre-sell catalog, or the store shows the listing tag shopsync
  pushed, or the line was bought with a pre-order selling plan or carries a "Pre Order" property.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shopsync.models.listing import PREORDER_TAGS
from shopsync.models.orders import (
    CustomerContact,
    FailureReason,
    OrderProblem,
    OrderSource,
    OrderStatus,
    PostalAddress,
    PresellSource,
    ShopifyOrder,
    ShopifyOrderLine,
)
from shopsync.models.presell import PresellCategory

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_NOT_LETTERS = re.compile(r"[^a-z]")
_FALSE_VALUES = {"", "false", "no", "0", "n"}
_CATEGORY_BY_WORD = {"preorder": PresellCategory.PRE_ORDER, "backorder": PresellCategory.BACKORDER}
CATEGORY_BY_TAG = {tag: category for category, tag in PREORDER_TAGS.items()}


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _time(value: str | None) -> datetime | None:
    return _parse_time(value) if value else None


def _text(value: Any) -> str | None:
    """Shopify's empty strings and whitespace mean "not given"."""
    return value.strip() or None if isinstance(value, str) else None


def order_source(source_name: str | None, retail_location_id: str | None) -> OrderSource:
    name = (source_name or "").strip().lower()
    if name == "pos" or retail_location_id:
        return OrderSource.POS
    return OrderSource.WEB if name == "web" else OrderSource.APP


def _address(node: Mapping[str, Any] | None) -> PostalAddress | None:
    if not node:
        return None
    full_name = _text(node.get("name")) or _text(" ".join(filter(None, [node.get("firstName"), node.get("lastName")])))
    return PostalAddress(
        name=full_name,
        company=_text(node.get("company")),
        address1=_text(node.get("address1")),
        address2=_text(node.get("address2")),
        city=_text(node.get("city")),
        province=_text(node.get("province")),
        province_code=_text(node.get("provinceCode")),
        zip=_text(node.get("zip")),
        country=_text(node.get("country")),
        country_code=_text(node.get("countryCodeV2")),
        phone=_text(node.get("phone")),
    )


def _contact(node: Mapping[str, Any], address: PostalAddress | None) -> CustomerContact:
    customer = node.get("customer") or {}
    customer_email = _text((customer.get("defaultEmailAddress") or {}).get("emailAddress"))
    customer_phone = _text((customer.get("defaultPhoneNumber") or {}).get("phoneNumber"))
    name = _text(" ".join(filter(None, [customer.get("firstName"), customer.get("lastName")])))
    return CustomerContact(
        customer_id=customer.get("id"),
        name=name,
        email=_text(node.get("email")) or customer_email,
        phone=_text(node.get("phone")) or customer_phone or (address.phone if address else None),
    )


def _line(node: Mapping[str, Any]) -> ShopifyOrderLine:
    variant = node.get("variant") or {}
    attributes = node.get("customAttributes") or []
    return ShopifyOrderLine(
        line_id=node["id"],
        sku=_text(node.get("sku")) or _text(variant.get("sku")),
        name=node.get("name") or "",
        variant_id=variant.get("id"),
        quantity=int(node["quantity"]),
        current_quantity=int(node.get("currentQuantity", node["quantity"])),
        selling_plan=_text((node.get("sellingPlan") or {}).get("name")),
        properties={str(a["key"]): str(a.get("value") or "") for a in attributes},
    )


def shopify_order(node: Mapping[str, Any]) -> ShopifyOrder:
    """The OrdersPage / OrderById node as a model (raises KeyError/ValueError when a required field is missing)."""
    address = _address(node.get("shippingAddress"))
    retail_location = (node.get("retailLocation") or {}).get("id")
    money = (node.get("totalPriceSet") or {}).get("shopMoney") or {}
    line_items = node.get("lineItems") or {}
    return ShopifyOrder(
        shopify_order_id=node["id"],
        legacy_id=str(node["legacyResourceId"]),
        name=node["name"],
        created_at=_parse_time(node["createdAt"]),
        updated_at=_parse_time(node["updatedAt"]),
        processed_at=_time(node.get("processedAt")),
        cancelled_at=_time(node.get("cancelledAt")),
        cancel_reason=node.get("cancelReason"),
        closed_at=_time(node.get("closedAt")),
        financial_status=node.get("displayFinancialStatus"),
        fulfillment_status=node.get("displayFulfillmentStatus"),
        source=order_source(node.get("sourceName"), retail_location),
        source_name=node.get("sourceName"),
        app_name=(node.get("app") or {}).get("name"),
        retail_location_id=retail_location,
        contact=_contact(node, address),
        shipping_address=address,
        tags=tuple(node.get("tags") or ()),
        note=node.get("note"),
        total_amount=money.get("amount"),
        currency=money.get("currencyCode"),
        lines=tuple(_line(line) for line in line_items.get("nodes") or ()),
        lines_truncated=bool((line_items.get("pageInfo") or {}).get("hasNextPage")),
    )


def order_status(order: ShopifyOrder) -> OrderStatus:
    if order.cancelled_at is not None:
        return OrderStatus.CANCELLED
    if order.closed_at is not None or order.fulfillment_status == "FULFILLED":
        return OrderStatus.COMPLETED
    return OrderStatus.CREATED


# --- validation --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineMatch:
    """How a line resolved to the catalog: a product, or the problem that stopped it."""

    product_id: str | None
    problem: OrderProblem | None = None


def unknown_variant(line: ShopifyOrderLine) -> OrderProblem:
    what = f"SKU {line.sku}" if line.sku else "no SKU"
    variant = line.variant_id or "a deleted or custom item"
    return OrderProblem(
        reason=FailureReason.UNKNOWN_VARIANT,
        message=f"line {line.name!r} ({variant}, {what}) matches no catalog product",
        line_id=line.line_id,
    )


def ambiguous_sku(line: ShopifyOrderLine, product_ids: Sequence[str]) -> OrderProblem:
    return OrderProblem(
        reason=FailureReason.AMBIGUOUS_SKU,
        message=f"line {line.name!r}: SKU {line.sku} is shared by catalog products {', '.join(sorted(product_ids))}",
        line_id=line.line_id,
    )


def _address_problems(order: ShopifyOrder) -> list[OrderProblem]:
    if order.source is OrderSource.POS:
        return []  # a POS sale leaves the store with the customer
    address = order.shipping_address
    if address is None:
        return [
            OrderProblem(
                reason=FailureReason.MISSING_SHIPPING_ADDRESS,
                message=f"{order.source.value} order has no shipping address",
            )
        ]
    missing = [label for label, value in (("street", address.address1), ("city", address.city)) if not value]
    if not (address.country_code or address.country):
        missing.append("country")
    if not missing:
        return []
    return [
        OrderProblem(
            reason=FailureReason.INCOMPLETE_SHIPPING_ADDRESS,
            message=f"the shipping address has no {', '.join(missing)}",
        )
    ]


def _contact_problems(order: ShopifyOrder) -> list[OrderProblem]:
    email, phone = order.contact.email, order.contact.phone
    if not email and not phone:
        return [
            OrderProblem(reason=FailureReason.MISSING_CONTACT, message="the order has neither a phone nor an email")
        ]
    if email and not _EMAIL.fullmatch(email):
        return [
            OrderProblem(reason=FailureReason.MALFORMED_EMAIL, message=f"email {email!r} is not formatted correctly")
        ]
    return []


def validate(order: ShopifyOrder, matches: Mapping[str, LineMatch]) -> list[OrderProblem]:
    """Every problem that keeps the order from being imported (empty = importable)."""
    problems = _address_problems(order) + _contact_problems(order)
    problems += [match.problem for match in matches.values() if match.problem is not None]
    if order.lines_truncated:
        problems.append(
            OrderProblem(
                reason=FailureReason.TOO_MANY_LINES,
                message="the order has more than 100 lines; it cannot be imported whole",
            )
        )
    return problems


# --- pre-order / back-order lines ---------------------------------------------------------------------------------


def _category_in(text: str | None) -> PresellCategory | None:
    letters = _NOT_LETTERS.sub("", (text or "").lower())
    return next((category for word, category in _CATEGORY_BY_WORD.items() if word in letters), None)


def _property_category(properties: Mapping[str, str]) -> PresellCategory | None:
    for key, value in sorted(properties.items()):
        category = _category_in(key)
        if category and value.strip().lower() not in _FALSE_VALUES:
            return category
    return None


def line_presell(
    line: ShopifyOrderLine, membership: PresellCategory | None, listing_tag: str | None
) -> tuple[PresellCategory | None, tuple[PresellSource, ...]]:
    """The line's category (the first source that names one, in the order below) and every source that flags it."""
    found = [
        (PresellSource.MEMBERSHIP, membership),
        (PresellSource.LISTING_TAG, CATEGORY_BY_TAG.get(listing_tag or "")),
        (PresellSource.SELLING_PLAN, _category_in(line.selling_plan)),
        (PresellSource.LINE_PROPERTY, _property_category(line.properties)),
    ]
    flagged = [(source, category) for source, category in found if category is not None]
    if not flagged:
        return None, ()
    return flagged[0][1], tuple(source for source, _ in flagged)

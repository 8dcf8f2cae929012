"""Order import rules (reference/hotwax-domain.md §5.2-5.3), pure functions over the GraphQL order node.

- Reading: whatever a node holds (webhook-era leftovers, a stored raw payload, garbage), `read_order` never raises; a
  field the Admin API would never return (node.py) makes the order unreadable with one problem per field, and the
  node is kept whole for the failed record.
- Status: cancelled → CANCELLED; closed or fulfilled → COMPLETED (a POS sale fulfilled at the till); else CREATED.
- Source: `sourceName` "pos" (or a retail location) → pos; "web" → web; anything else (draft orders, mobile and
  third-party apps) → app.
- Validation collects every problem, never only the first: an operator fixes them all in one pass.
  - an order that ships (not a POS sale) needs a shipping address with street, city and country;
  - a phone or an email must be there (the order's, the customer's, or the address phone);
  - the email, when there is one, must look like one (printable, no spaces, a dot in the domain);
  - every line must resolve to one catalog product (store link, else a unique SKU match);
  - all lines must have been read (the importer reads the lines past the first page; only an order whose remaining
    lines Shopify would not return stays incomplete).
- Pre-order/back-order lines: the product is in the pre-sell catalog, or the store shows the listing tag shopsync
  pushed, or the line was bought with a pre-order selling plan or carries a "Pre Order" property.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

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
from shopsync.orders.node import ORDER_GID_PATTERN, AddressNode, CustomerNode, LineNode, OrderNode

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_ORDER_GID = re.compile(ORDER_GID_PATTERN)
_LEGACY_ID = re.compile(r"[1-9][0-9]{0,19}")
_NOT_LETTERS = re.compile(r"[^a-z]")
_FALSE_VALUES = {"", "false", "no", "0", "n"}
_CATEGORY_BY_WORD = {"preorder": PresellCategory.PRE_ORDER, "backorder": PresellCategory.BACKORDER}
CATEGORY_BY_TAG = {tag: category for category, tag in PREORDER_TAGS.items()}
_SHOWN_INPUT_CHARS = 80


def _text(value: str | None) -> str | None:
    """Shopify's empty strings and whitespace mean "not given"."""
    return value.strip() or None if value is not None else None


def order_source(source_name: str | None, retail_location_id: str | None) -> OrderSource:
    name = (source_name or "").strip().lower()
    if name == "pos" or retail_location_id:
        return OrderSource.POS
    return OrderSource.WEB if name == "web" else OrderSource.APP


def _full_name(first: str | None, last: str | None) -> str | None:
    return _text(" ".join(filter(None, [first, last])))


def _address(node: AddressNode | None) -> PostalAddress | None:
    if node is None:
        return None
    return PostalAddress(
        name=_text(node.name) or _full_name(node.first_name, node.last_name),
        company=_text(node.company),
        address1=_text(node.address1),
        address2=_text(node.address2),
        city=_text(node.city),
        province=_text(node.province),
        province_code=_text(node.province_code),
        zip=_text(node.zip),
        country=_text(node.country),
        country_code=_text(node.country_code_v2),
        phone=_text(node.phone),
    )


def _contact(node: OrderNode, address: PostalAddress | None) -> CustomerContact:
    customer = node.customer or CustomerNode()
    customer_email = _text(customer.default_email_address.email_address) if customer.default_email_address else None
    customer_phone = _text(customer.default_phone_number.phone_number) if customer.default_phone_number else None
    return CustomerContact(
        customer_id=customer.id,
        name=_full_name(customer.first_name, customer.last_name),
        email=_text(node.email) or customer_email,
        phone=_text(node.phone) or customer_phone or (address.phone if address else None),
    )


def _line(node: LineNode) -> ShopifyOrderLine:
    variant = node.variant
    return ShopifyOrderLine(
        line_id=node.id,
        sku=_text(node.sku) or (_text(variant.sku) if variant else None),
        name=node.name or "",
        variant_id=variant.id if variant else None,
        quantity=node.quantity,
        current_quantity=node.quantity if node.current_quantity is None else node.current_quantity,
        selling_plan=_text(node.selling_plan.name) if node.selling_plan else None,
        properties={a.key: a.value or "" for a in node.custom_attributes or ()},
    )


def line_nodes(nodes: Sequence[Mapping[str, Any]]) -> tuple[ShopifyOrderLine, ...]:
    """Line nodes (OrdersPage, OrderById, OrderLineItemsPage) as models; raises ValidationError."""
    return tuple(_line(LineNode.model_validate(node)) for node in nodes)


def _order(node: OrderNode) -> ShopifyOrder:
    address = _address(node.shipping_address)
    retail_location = node.retail_location.id if node.retail_location else None
    money = node.total_price_set.shop_money if node.total_price_set else None
    page_info = node.line_items.page_info
    return ShopifyOrder(
        shopify_order_id=node.id,
        legacy_id=node.legacy_resource_id,
        name=node.name,
        created_at=node.created_at,
        updated_at=node.updated_at,
        processed_at=node.processed_at,
        cancelled_at=node.cancelled_at,
        cancel_reason=node.cancel_reason,
        closed_at=node.closed_at,
        financial_status=node.display_financial_status,
        fulfillment_status=node.display_fulfillment_status,
        source=order_source(node.source_name, retail_location),
        source_name=node.source_name,
        app_name=node.app.name if node.app else None,
        retail_location_id=retail_location,
        contact=_contact(node, address),
        shipping_address=address,
        tags=tuple(node.tags or ()),
        note=node.note,
        total_amount=money.amount if money else None,
        currency=money.currency_code if money else None,
        lines=tuple(_line(line) for line in node.line_items.nodes),
        lines_truncated=page_info is not None and page_info.has_next_page,
    )


def shopify_order(node: Mapping[str, Any]) -> ShopifyOrder:
    """The OrdersPage / OrderById node as a model; raises ValidationError naming every unreadable field."""
    return _order(OrderNode.model_validate(node))


# --- reading a node whatever it holds -----------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderRead:
    """One order node as read: the model, or every reason it could not be read. `node` is kept as given: a failed
    record stores it whole."""

    node: Any
    legacy_id: str = ""
    shopify_order_id: str | None = None
    name: str | None = None
    order: ShopifyOrder | None = None
    problems: tuple[OrderProblem, ...] = ()


def raw_payload(node: Any) -> str:
    """The node as stored on a failed record (ASCII JSON: escapes keep even unpaired surrogates storable)."""
    return json.dumps(node, separators=(",", ":"), sort_keys=True)


def _unreadable(message: str, line_id: str | None = None) -> OrderProblem:
    return OrderProblem(reason=FailureReason.UNREADABLE_FIELD, message=message, line_id=line_id)


def _field_problem(error: Mapping[str, Any]) -> OrderProblem:
    where = ".".join(str(part) for part in error["loc"])
    message = f"{where}: {str(error['msg']).removeprefix('Value error, ')}"
    if error["type"] != "missing":
        message += f" (got {repr(error['input'])[:_SHOWN_INPUT_CHARS]})"
    return _unreadable(message)


def _identity(node: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(order GID, legacy id) as far as the node names them; the GID wins: it is what a retry re-reads."""
    gid, legacy = node.get("id"), node.get("legacyResourceId")
    if isinstance(gid, str) and _ORDER_GID.fullmatch(gid):
        return gid, gid.rsplit("/", 1)[1]
    if isinstance(legacy, str) and _LEGACY_ID.fullmatch(legacy):
        return f"gid://shopify/Order/{legacy}", legacy
    return None, None


def _shown_name(node: Mapping[str, Any]) -> str | None:
    name = node.get("name")
    return name if isinstance(name, str) and name.isprintable() else None


def _consistency_problems(order: ShopifyOrder, legacy_id: str) -> list[OrderProblem]:
    problems = []
    if order.legacy_id != legacy_id:
        problems.append(
            _unreadable(f"legacyResourceId {order.legacy_id} is not the number of {order.shopify_order_id}")
        )
    seen: set[str] = set()
    for line in order.lines:
        if line.line_id in seen:
            problems.append(_unreadable(f"line {line.line_id} appears more than once", line.line_id))
        seen.add(line.line_id)
    return problems


def read_order(node: Any) -> OrderRead:
    """Never raises: a node that is not an order node, or holds what the Admin API would never return, is an
    OrderRead without an order and with one problem per such field."""
    if not isinstance(node, Mapping):
        return OrderRead(node, _digest_id(node), problems=(_unreadable("the order node is not a JSON object"),))
    gid, legacy = _identity(node)
    key = legacy or _digest_id(node)
    try:
        order = shopify_order(node)
    except ValidationError as error:
        problems = tuple(_field_problem(detail) for detail in error.errors())
        return OrderRead(node, key, gid, _shown_name(node), problems=problems)
    problems = tuple(_consistency_problems(order, key))
    return OrderRead(node, key, gid, order.name, None if problems else order, problems)


def _digest_id(node: Any) -> str:
    """A node naming no order is still recorded, under a digest of its content: distinct payloads never overwrite
    each other's record. The leading 0 sets it apart from Shopify's ids, which never have one."""
    digest = hashlib.sha256(raw_payload(node).encode()).hexdigest()
    return "0" + str(int(digest[:15], 16))


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
    if email and not (email.isprintable() and _EMAIL.fullmatch(email)):
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
                message=f"only {len(order.lines)} lines of the order could be read from Shopify; it is not imported "
                "in part",
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

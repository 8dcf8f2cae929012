"""Order import rules: mapping of the GraphQL node, status, source, validation reasons, pre-order flags."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from shopsync.models.orders import FailureReason, OrderSource, OrderStatus, PresellSource
from shopsync.models.presell import PresellCategory
from shopsync.orders.rules import (
    LineMatch,
    line_presell,
    order_source,
    order_status,
    shopify_order,
    unknown_variant,
    validate,
)

ADDRESS = {
    "name": "Ada Lovelace",
    "address1": "1 Analytical Way",
    "city": "London",
    "country": "United Kingdom",
    "countryCodeV2": "GB",
    "zip": "N1 1AA",
    "phone": None,
}


def order_node(**overrides: Any) -> dict[str, Any]:
    node: dict[str, Any] = {
        "id": "gid://shopify/Order/5001",
        "legacyResourceId": "5001",
        "name": "#1001",
        "createdAt": "2026-11-02T10:00:00Z",
        "updatedAt": "2026-11-02T10:05:00Z",
        "processedAt": "2026-11-02T10:00:00Z",
        "cancelledAt": None,
        "cancelReason": None,
        "closedAt": None,
        "displayFinancialStatus": "PAID",
        "displayFulfillmentStatus": "UNFULFILLED",
        "sourceName": "web",
        "app": {"name": "Online Store"},
        "retailLocation": None,
        "email": "ada@example.com",
        "phone": None,
        "tags": [],
        "note": None,
        "customer": {"id": "gid://shopify/Customer/7", "firstName": "Ada", "lastName": "Lovelace"},
        "shippingAddress": ADDRESS,
        "totalPriceSet": {"shopMoney": {"amount": "40.00", "currencyCode": "USD"}},
        "lineItems": {
            "pageInfo": {"hasNextPage": False, "endCursor": None},
            "nodes": [
                {
                    "id": "gid://shopify/LineItem/9001",
                    "sku": "SS-TEE-BLK-M",
                    "name": "Tee - Black / M",
                    "quantity": 2,
                    "currentQuantity": 2,
                    "variant": {"id": "gid://shopify/ProductVariant/101", "sku": "SS-TEE-BLK-M"},
                    "sellingPlan": None,
                    "customAttributes": [],
                }
            ],
        },
    }
    node.update(overrides)
    return node


def _matched(node: dict[str, Any]) -> dict[str, LineMatch]:
    return {line["id"]: LineMatch("101") for line in node["lineItems"]["nodes"]}


def _reasons(node: dict[str, Any], matches: dict[str, LineMatch] | None = None) -> list[FailureReason]:
    order = shopify_order(node)
    return sorted(problem.reason for problem in validate(order, matches or _matched(node)))


def test_node_maps_to_the_order_with_contact_address_and_lines() -> None:
    order = shopify_order(order_node(phone="+44 20 7946 0000"))
    assert order.legacy_id == "5001"
    assert order.updated_at == datetime(2026, 11, 2, 10, 5, tzinfo=UTC)
    assert (order.contact.email, order.contact.phone, order.contact.name) == (
        "ada@example.com",
        "+44 20 7946 0000",
        "Ada Lovelace",
    )
    assert order.shipping_address is not None and order.shipping_address.country_code == "GB"
    (line,) = order.lines
    assert (line.sku, line.quantity, line.variant_id) == ("SS-TEE-BLK-M", 2, "gid://shopify/ProductVariant/101")
    assert (order.total_amount, order.currency, order.source) == ("40.00", "USD", OrderSource.WEB)


def test_customer_contact_fills_in_when_the_order_has_none() -> None:
    customer = {
        "id": "gid://shopify/Customer/7",
        "defaultEmailAddress": {"emailAddress": "c@example.com"},
        "defaultPhoneNumber": {"phoneNumber": "+1 555 0100"},
    }
    order = shopify_order(order_node(email="", customer=customer))
    assert (order.contact.email, order.contact.phone) == ("c@example.com", "+1 555 0100")


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({}, OrderStatus.CREATED),
        ({"displayFulfillmentStatus": "PARTIALLY_FULFILLED"}, OrderStatus.CREATED),
        ({"displayFulfillmentStatus": "FULFILLED"}, OrderStatus.COMPLETED),
        ({"closedAt": "2026-11-03T00:00:00Z"}, OrderStatus.COMPLETED),
        ({"cancelledAt": "2026-11-03T00:00:00Z", "closedAt": "2026-11-03T00:00:00Z"}, OrderStatus.CANCELLED),
    ],
)
def test_status_mapping(fields: dict[str, Any], status: OrderStatus) -> None:
    assert order_status(shopify_order(order_node(**fields))) is status


@pytest.mark.parametrize(
    ("source_name", "location", "source"),
    [
        ("web", None, OrderSource.WEB),
        ("pos", None, OrderSource.POS),
        (None, "gid://shopify/Location/1", OrderSource.POS),
        ("shopify_draft_order", None, OrderSource.APP),
        ("1234567", None, OrderSource.APP),
        (None, None, OrderSource.APP),
    ],
)
def test_source_classification(source_name: str | None, location: str | None, source: OrderSource) -> None:
    assert order_source(source_name, location) is source


def test_a_valid_order_has_no_problem() -> None:
    assert _reasons(order_node()) == []


def test_every_reason_is_reported_together() -> None:
    node = order_node(email=None, phone=None, shippingAddress=None)
    line = node["lineItems"]["nodes"][0]
    matches = {line["id"]: LineMatch(None, unknown_variant(shopify_order(node).lines[0]))}
    assert _reasons(node, matches) == [
        FailureReason.MISSING_CONTACT,
        FailureReason.MISSING_SHIPPING_ADDRESS,
        FailureReason.UNKNOWN_VARIANT,
    ]


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"shippingAddress": None}, FailureReason.MISSING_SHIPPING_ADDRESS),
        ({"shippingAddress": {**ADDRESS, "address1": " "}}, FailureReason.INCOMPLETE_SHIPPING_ADDRESS),
        (
            {"shippingAddress": {**ADDRESS, "country": None, "countryCodeV2": None}},
            FailureReason.INCOMPLETE_SHIPPING_ADDRESS,
        ),
        ({"email": None}, FailureReason.MISSING_CONTACT),
        ({"email": "ada at example.com"}, FailureReason.MALFORMED_EMAIL),
        ({"email": "ada@example"}, FailureReason.MALFORMED_EMAIL),
    ],
)
def test_each_reason(fields: dict[str, Any], reason: FailureReason) -> None:
    assert _reasons(order_node(**fields)) == [reason]


def test_a_pos_sale_needs_no_shipping_address_and_a_phone_is_contact_enough() -> None:
    node = order_node(sourceName="pos", shippingAddress=None, email=None, phone="+1 555 0100")
    assert _reasons(node) == []


def test_lines_left_unread_are_a_failure_not_a_partial_import() -> None:
    node = order_node()
    node["lineItems"]["pageInfo"] = {"hasNextPage": True, "endCursor": "c"}
    assert _reasons(node) == [FailureReason.TOO_MANY_LINES]


def test_content_hash_ignores_updated_at_only() -> None:
    first = shopify_order(order_node())
    assert first.content_hash() == shopify_order(order_node(updatedAt="2026-11-05T00:00:00Z")).content_hash()
    assert first.content_hash() != shopify_order(order_node(displayFulfillmentStatus="FULFILLED")).content_hash()


@pytest.mark.parametrize(
    ("line_fields", "membership", "tag", "expected"),
    [
        ({}, None, None, (None, ())),
        ({}, PresellCategory.BACKORDER, None, (PresellCategory.BACKORDER, (PresellSource.MEMBERSHIP,))),
        ({}, None, "HC:Pre-Order", (PresellCategory.PRE_ORDER, (PresellSource.LISTING_TAG,))),
        (
            {"sellingPlan": {"name": "Pre-order: ships in March"}},
            None,
            None,
            (PresellCategory.PRE_ORDER, (PresellSource.SELLING_PLAN,)),
        ),
        ({"sellingPlan": {"name": "Monthly subscription"}}, None, None, (None, ())),
        (
            {"customAttributes": [{"key": "Pre Order", "value": "03/15/2027"}]},
            None,
            None,
            (PresellCategory.PRE_ORDER, (PresellSource.LINE_PROPERTY,)),
        ),
        ({"customAttributes": [{"key": "Pre Order", "value": "false"}]}, None, None, (None, ())),
        (
            {"customAttributes": [{"key": "Pre Order", "value": "yes"}]},
            PresellCategory.BACKORDER,
            None,
            (PresellCategory.BACKORDER, (PresellSource.MEMBERSHIP, PresellSource.LINE_PROPERTY)),
        ),
    ],
)
def test_presell_flags(
    line_fields: dict[str, Any], membership: PresellCategory | None, tag: str | None, expected: tuple[Any, Any]
) -> None:
    node = order_node()
    node["lineItems"]["nodes"][0].update(line_fields)
    (line,) = shopify_order(node).lines
    assert line_presell(line, membership, tag) == expected

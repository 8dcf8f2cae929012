"""Order reads (orders, order, ordersCount, nodes) and orderCancel.

Search fields follow the orders query description (reference §6): created_at / updated_at / processed_at with
comparators and quoted ISO dates, id, name, status (open|closed|cancelled|not_closed), source_name, tag, tag_not,
email, sku, financial_status, fulfillment_status, test, customer_id, location_id. Orders are visible whatever their
age (the emulator's app has read_all_orders).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from typing import Any

from graphql import GraphQLResolveInfo

from local.emulator import orders
from local.emulator.connections import connection
from local.emulator.context import RequestContext, context_of
from local.emulator.ids import gid, parse_gid
from local.emulator.metafields import owner_metafield_fields
from local.emulator.resolvers.catalog import search, unsupported_argument
from local.emulator.search import SearchField
from local.emulator.state import Customer, LineItem, Order, Store, iso
from local.emulator.views import View, location_view, sortable_time, variant_view
from local.emulator.webhooks import enum_topic, topic_name

ORDER_STATUSES = frozenset({"open", "closed", "cancelled", "not_closed"})
FINANCIAL = frozenset({"paid", "pending", "authorized", "partially_paid", "partially_refunded", "refunded", "voided"})
FULFILLMENT = frozenset(
    {"shipped", "fulfilled", "partial", "unshipped", "unfulfilled", "scheduled", "on_hold", "restocked"}
)
COUNT_LIMIT_DEFAULT = 10_000

ORDER_SORT: dict[str, Callable[[Order], Any]] = {
    "ID": lambda o: o.id,
    "CREATED_AT": lambda o: sortable_time(o.created_at),
    "UPDATED_AT": lambda o: sortable_time(o.updated_at),
    "PROCESSED_AT": lambda o: sortable_time(o.processed_at or o.created_at),
    "ORDER_NUMBER": lambda o: o.number,
    "TOTAL_PRICE": lambda o: float(o.total_price),
    "CURRENT_TOTAL_PRICE": lambda o: float(o.total_price),
    "FINANCIAL_STATUS": lambda o: o.financial_status or "",
    "FULFILLMENT_STATUS": lambda o: o.fulfillment_status,
    "TOTAL_ITEMS_QUANTITY": lambda o: sum(li.current_quantity or 0 for li in o.line_items),
}


def _statuses(order: Order) -> list[str]:
    found = ["closed" if order.closed_at else "open"]
    if order.closed_at is None:
        found.append("not_closed")
    if order.cancelled_at is not None:
        found.append("cancelled")
    return found


def _fulfillment(order: Order) -> list[str]:
    if order.fulfillment_status == "FULFILLED":
        return ["fulfilled", "shipped"]
    if order.fulfillment_status == "PARTIALLY_FULFILLED":
        return ["partial"]
    return [order.fulfillment_status.lower(), "unshipped", "unfulfilled"]


ORDER_SEARCH: dict[str, SearchField[Order]] = {
    "default": SearchField("text", lambda o: [o.name, o.email or "", *(li.sku or "" for li in o.line_items)]),
    "id": SearchField("id", lambda o: o.id),
    "name": SearchField("keyword", lambda o: [o.name, o.name.lstrip("#")]),
    "created_at": SearchField("time", lambda o: o.created_at),
    "updated_at": SearchField("time", lambda o: o.updated_at),
    "processed_at": SearchField("time", lambda o: o.processed_at),
    "status": SearchField("keyword", _statuses, accepted=ORDER_STATUSES),
    "source_name": SearchField("keyword", lambda o: o.source_name),
    "channel": SearchField("keyword", lambda o: o.source_name),
    "tag": SearchField("tag", lambda o: o.tags),
    "tag_not": SearchField("tag_not", lambda o: o.tags),
    "email": SearchField("keyword", lambda o: o.email),
    "sku": SearchField("keyword", lambda o: [li.sku for li in o.line_items]),
    "financial_status": SearchField("keyword", lambda o: (o.financial_status or "").lower(), accepted=FINANCIAL),
    "fulfillment_status": SearchField("keyword", _fulfillment, accepted=FULFILLMENT),
    "test": SearchField("bool", lambda o: o.test),
    "customer_id": SearchField("id", lambda o: o.customer.id if o.customer else None),
    "location_id": SearchField("id", lambda o: o.retail_location_id),
}


# ---- views -------------------------------------------------------------------------------------------


def money_bag(amount: str, currency: str) -> View:
    money = {"amount": amount, "currencyCode": currency}
    return {"shopMoney": money, "presentmentMoney": money}


def address_view(address: dict[str, Any] | None) -> View | None:
    if address is None:
        return None
    first, last = address.get("first_name"), address.get("last_name")
    return {
        "id": gid("MailingAddress", zlib.crc32(json.dumps(address, sort_keys=True, default=str).encode())),
        "name": " ".join(p for p in (first, last) if p) or None,
        "firstName": first,
        "lastName": last,
        "address1": address.get("address1"),
        "address2": address.get("address2"),
        "city": address.get("city"),
        "province": address.get("province"),
        "provinceCode": address.get("province_code"),
        "zip": address.get("zip"),
        "country": address.get("country"),
        "countryCode": address.get("country_code"),
        "countryCodeV2": address.get("country_code"),
        "phone": address.get("phone"),
        "company": address.get("company"),
        "formatted": [v for v in (address.get("address1"), address.get("city"), address.get("zip")) if v],
    }


def customer_view(customer: Customer) -> View:
    display = " ".join(p for p in (customer.first_name, customer.last_name) if p) or customer.email or ""
    return {
        "__typename": "Customer",
        "id": gid("Customer", customer.id),
        "legacyResourceId": str(customer.id),
        "firstName": customer.first_name,
        "lastName": customer.last_name,
        "displayName": display,
        "email": customer.email,
        "phone": customer.phone,
        "defaultEmailAddress": {"emailAddress": customer.email} if customer.email else None,
        "defaultPhoneNumber": {"phoneNumber": customer.phone} if customer.phone else None,
    }


def line_item_view(ctx: RequestContext, order: Order, line: LineItem) -> View:
    store = ctx.store
    unit = money_bag(line.price, order.currency)
    return {
        "__typename": "LineItem",
        "id": gid("LineItem", line.id),
        "sku": line.sku,
        "name": line.name,
        "title": line.name,
        "quantity": line.quantity,
        "currentQuantity": line.current_quantity,
        "unfulfilledQuantity": max(0, (line.current_quantity or 0) - line.fulfilled_quantity),
        "fulfillableQuantity": max(0, (line.current_quantity or 0) - line.fulfilled_quantity),
        "variant": lambda info, **_: (
            variant_view(ctx, store.variants[line.variant_id])
            if line.variant_id is not None and line.variant_id in store.variants
            else None
        ),
        "sellingPlan": line.selling_plan,
        "customAttributes": list(line.custom_attributes),
        "originalUnitPriceSet": unit,
        "discountedUnitPriceSet": unit,
        "requiresShipping": True,
    }


def order_view(ctx: RequestContext, order: Order) -> View:
    store = ctx.store
    total = money_bag(order.total_price, order.currency)
    location = store.locations.get(order.retail_location_id) if order.retail_location_id else None

    def line_items(info: GraphQLResolveInfo, **args: Any) -> View:
        return connection(
            order.line_items,
            args,
            sort_value=lambda li: li.id,
            item_id=lambda li: li.id,
            view=lambda li: line_item_view(ctx, order, li),
            unbounded=ctx.bulk,
        )

    return {
        "__typename": "Order",
        "id": gid("Order", order.id),
        "legacyResourceId": str(order.id),
        "name": order.name,
        "number": order.number - 1000,
        "createdAt": iso(order.created_at),
        "updatedAt": iso(order.updated_at),
        "processedAt": iso(order.processed_at),
        "cancelledAt": iso(order.cancelled_at),
        "cancelReason": order.cancel_reason,
        "closedAt": iso(order.closed_at),
        "closed": order.closed_at is not None,
        "confirmed": True,
        "test": order.test,
        "displayFinancialStatus": order.financial_status,
        "displayFulfillmentStatus": order.fulfillment_status,
        "sourceName": order.source_name,
        "sourceIdentifier": None,
        "app": {"id": gid("App", 1 if order.source_name == "web" else 2), "name": order.app_name}
        if order.app_name
        else None,
        "retailLocation": lambda info, **_: _location(ctx, location),
        "physicalLocation": lambda info, **_: _location(ctx, location),
        "email": order.email,
        "phone": order.phone,
        "tags": sorted(order.tags, key=str.casefold),
        "note": order.note,
        "currencyCode": order.currency,
        "customer": customer_view(order.customer) if order.customer else None,
        "shippingAddress": address_view(order.shipping_address),
        "billingAddress": address_view(order.billing_address),
        "displayAddress": address_view(order.shipping_address or order.billing_address),
        "lineItems": line_items,
        "totalPriceSet": total,
        "currentTotalPriceSet": total,
        "subtotalPriceSet": total,
        "currentSubtotalPriceSet": total,
        "totalPrice": order.total_price,
        "subtotalLineItemsQuantity": sum(li.quantity for li in order.line_items),
        "currentSubtotalLineItemsQuantity": sum(li.current_quantity or 0 for li in order.line_items),
        "fullyPaid": order.financial_status == "PAID",
        "requiresShipping": order.shipping_address is not None,
        **owner_metafield_fields(ctx, gid("Order", order.id)),
    }


def _location(ctx: RequestContext, location: Any) -> View | None:
    return location_view(ctx, location) if location is not None else None


# ---- roots -------------------------------------------------------------------------------------------


def orders_root(info: GraphQLResolveInfo, **args: Any) -> View:
    ctx = context_of(info)
    store = ctx.store
    if args.get("savedSearchId"):
        raise unsupported_argument("orders", "savedSearchId")
    matching = search(info, args.get("query"), ORDER_SEARCH).filter(store.orders.values())
    sort_key = args.get("sortKey") or "PROCESSED_AT"
    if sort_key not in ORDER_SORT:
        raise unsupported_argument("orders", f"sortKey: {sort_key}")
    sort = ORDER_SORT[sort_key]
    return connection(
        matching,
        args,
        sort_value=sort,
        item_id=lambda o: o.id,
        view=lambda o: order_view(ctx, o),
        unbounded=ctx.bulk,
    )


def order(info: GraphQLResolveInfo, id: str, **_: Any) -> View | None:
    ctx = context_of(info)
    found = ctx.store.orders.get(parse_gid(id, "Order") or -1)
    return order_view(ctx, found) if found else None


def orders_count(
    info: GraphQLResolveInfo, query: str | None = None, limit: int | None = COUNT_LIMIT_DEFAULT, **_: Any
) -> View:
    store = context_of(info).store
    count = len(search(info, query, ORDER_SEARCH).filter(store.orders.values()))
    if limit is not None and count > limit:
        return {"count": limit, "precision": "AT_LEAST"}
    return {"count": count, "precision": "EXACT"}


def order_cancel(
    info: GraphQLResolveInfo,
    *,
    orderId: str,
    reason: str,
    restock: bool,
    refund: bool | None = None,
    refundMethod: dict[str, Any] | None = None,
    staffNote: str | None = None,
    **_: Any,
) -> View:
    ctx = context_of(info)
    store = ctx.store

    def refused(field: str, message: str) -> View:
        return {
            "job": None,
            "orderCancelUserErrors": [{"field": [field], "message": message, "code": "INVALID"}],
            "userErrors": [{"field": [field], "message": message}],
        }

    if refund is not None and refundMethod is not None:
        return refused("refund", "Only one of the arguments `refund` or `refund_method` is allowed.")
    if staffNote is not None and len(staffNote) > 255:
        return refused("staffNote", "Staff note is too long. Maximum length is 255 characters.")
    target = store.orders.get(parse_gid(orderId, "Order") or -1)
    if target is None:
        return {
            "job": None,
            "orderCancelUserErrors": [{"field": ["orderId"], "message": "Order does not exist", "code": "NOT_FOUND"}],
            "userErrors": [{"field": ["orderId"], "message": "Order does not exist"}],
        }
    if target.cancelled_at is not None:
        return refused("orderId", "Cannot cancel an order that has already been canceled")
    orders.cancel(store, target, reason, restock=restock)
    ctx.emulator.order_changed(store, target, "orders/cancelled")
    job = {"__typename": "Job", "id": f"gid://shopify/Job/{store.new_id()}", "done": True, "query": None}
    return {"job": job, "orderCancelUserErrors": [], "userErrors": []}


def resolve_node(ctx: RequestContext, kind: str, number: int) -> View | None:
    store: Store = ctx.store
    if kind == "Order" and number in store.orders:
        return order_view(ctx, store.orders[number])
    if kind == "Customer" and number in store.customers:
        return customer_view(store.customers[number])
    return None


# ---- webhookSubscriptionCreate -----------------------------------------------------------------------


def webhook_subscription_create(
    info: GraphQLResolveInfo, topic: str, webhookSubscription: dict[str, Any], **_: Any
) -> View:
    """HTTP subscriptions to loopback URIs for the order topics, signed with the store's webhook secret."""
    ctx = context_of(info)
    uri = webhookSubscription.get("uri") or webhookSubscription.get("callbackUrl")
    field = ["webhookSubscription", "uri" if webhookSubscription.get("uri") else "callbackUrl"]
    try:
        name = topic_name(topic)
    except ValueError as exc:
        return {"webhookSubscription": None, "userErrors": [{"field": ["topic"], "message": str(exc)}]}
    if not uri:
        return {"webhookSubscription": None, "userErrors": [{"field": field, "message": "Address can't be blank"}]}
    try:
        subscription_id = ctx.emulator.subscribe_webhook(ctx.store.shop_id, name, uri)
    except ValueError as exc:
        return {"webhookSubscription": None, "userErrors": [{"field": field, "message": str(exc)}]}
    subscription = ctx.store.webhooks.subscriptions[parse_gid(subscription_id) or -1]
    endpoint = {"__typename": "WebhookHttpEndpoint", "callbackUrl": subscription.uri}
    view: View = {
        "__typename": "WebhookSubscription",
        "id": subscription_id,
        "legacyResourceId": str(subscription.id),
        "topic": enum_topic(subscription.topic),
        "uri": subscription.uri,
        "callbackUrl": subscription.uri,
        "format": "JSON",
        "includeFields": [],
        "metafieldNamespaces": [],
        "filter": webhookSubscription.get("filter") or "",
        "name": webhookSubscription.get("name"),
        "createdAt": subscription.created_at,
        "updatedAt": subscription.created_at,
        "apiVersion": {"handle": subscription.api_version, "displayName": subscription.api_version, "supported": True},
        "endpoint": endpoint,
    }
    return {"webhookSubscription": view, "userErrors": []}

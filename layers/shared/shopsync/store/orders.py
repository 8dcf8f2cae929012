"""Imported orders, their versions, failed records and webhook deliveries.

Items (everything about one Shopify order lives in its partition, so GET /orders/{id} is one query):
- head          PK=ORDER#<shop>#<legacy id>  SK=HEAD     current version, Shopify updatedAt and content hash (the
                                                         dedupe key), status, whether any line holds PO units
- version       PK=ORDER#<shop>#<legacy id>  SK=V#<00001>  the order as imported (OrderVersion); superseded ones are
                                                         CANCELLED and tagged `Old Version`
- failed record PK=ORDER#<shop>#<legacy id>  SK=FAILED   every reason, the raw node, attempts; while open it has
                                                         GSI1PK=ORDERS-FAILED#<shop> GSI1SK=<last failed at>#<id>
                                                         (sparse: a resolved record leaves the index)
- allocation    PK=ORDER#<shop>#<legacy id>  SK=ALLOC#<line legacy id>   see store/allocations.py
- delivery      PK=WEBHOOK#<webhook id>      SK=DELIVERY one per Shopify delivery id, expires (TTL) after the
                                                         retry window; its INSERT on the stream is the hand-off
A new version, the old one's cancellation, the head and the failed record's resolution are one transaction that
holds only if the head is still at the version read: two importers of one order cannot both write a version. A
first version with no failed record to resolve skips the transaction (version, then head if absent): a backlog of
new orders is the bulk of the writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel

from shopsync.catalog.identifiers import legacy_id
from shopsync.models.orders import (
    OLD_VERSION_TAG,
    FailedOrder,
    FailureReason,
    OrderDetail,
    OrderStatus,
    OrderVersion,
    split_order_id,
)
from shopsync.store import table

HEAD = "HEAD"
FAILED = "FAILED"
FAILED_INDEX_PREFIX = "ORDERS-FAILED#"
_VERSION_PREFIX = "V#"


def order_pk(shop_id: str, order_legacy_id: str) -> str:
    return f"ORDER#{shop_id}#{order_legacy_id}"


def _version_sk(version: int) -> str:
    return f"{_VERSION_PREFIX}{version:05d}"


class OrderHead(BaseModel):
    order_id: str
    shop_id: str
    legacy_id: str
    shopify_order_id: str
    version: int
    status: OrderStatus
    shopify_updated_at: datetime
    content_hash: str
    holds_allocations: bool = False
    updated_at: datetime


@dataclass(frozen=True)
class StoredOrder:
    """What an import needs to know about an order before writing: its head and its open failed record."""

    head: OrderHead | None
    failure: FailedOrder | None


def _open_failure(item: table.Item | None) -> FailedOrder | None:
    failure = FailedOrder.model_validate(item) if item else None
    return failure if failure and failure.resolved_at is None else None


def stored_orders(shop_id: str, order_legacy_ids: Iterable[str]) -> dict[str, StoredOrder]:
    """Head and open failed record of each order, in one batch read."""
    ids = list(dict.fromkeys(order_legacy_ids))
    found = table.batch_get((order_pk(shop_id, i), sk) for i in ids for sk in (HEAD, FAILED))
    result = {}
    for i in ids:
        head = found.get((order_pk(shop_id, i), HEAD))
        result[i] = StoredOrder(
            head=OrderHead.model_validate(head) if head else None,
            failure=_open_failure(found.get((order_pk(shop_id, i), FAILED))),
        )
    return result


def _head_item(version: OrderVersion, holds_allocations: bool) -> table.Item:
    head = OrderHead(
        order_id=version.order_id,
        shop_id=version.shop_id,
        legacy_id=version.order.legacy_id,
        shopify_order_id=version.order.shopify_order_id,
        version=version.version,
        status=version.status,
        shopify_updated_at=version.order.updated_at,
        content_hash=version.content_hash,
        holds_allocations=holds_allocations,
        updated_at=version.imported_at,
    )
    return {
        "PK": order_pk(version.shop_id, head.legacy_id),
        "SK": HEAD,
        "type": "ORDER_HEAD",
        **head.model_dump(mode="json"),
    }


_RESOLVE_FAILURE = {
    "update": "SET resolved_at = :now REMOVE GSI1PK, GSI1SK, next_attempt_at",
    "condition": "attribute_exists(PK) AND attribute_not_exists(resolved_at)",
}


def _resolve_failure_update(pk: str, now: datetime) -> dict[str, Any]:
    return {
        "Update": {
            "Key": {"PK": pk, "SK": FAILED},
            "UpdateExpression": _RESOLVE_FAILURE["update"],
            "ConditionExpression": _RESOLVE_FAILURE["condition"],
            "ExpressionAttributeValues": {":now": now.isoformat()},
        }
    }


class VersionConflict(Exception):
    """Another import moved the order's head (or resolved its failure) first: re-read and decide again."""


def _version_item(pk: str, version: OrderVersion) -> table.Item:
    return {"PK": pk, "SK": _version_sk(version.version), "type": "ORDER_VERSION", **version.model_dump(mode="json")}


def save_version(
    version: OrderVersion, previous: OrderHead | None, *, holds_allocations: bool, resolve_failure: bool
) -> None:
    """Store `version` as the order's current one; raises VersionConflict when another import got there first."""
    pk = order_pk(version.shop_id, version.order.legacy_id)
    head = _head_item(version, holds_allocations)
    if previous is None and not resolve_failure:
        # The common case (a backlog of new orders) needs no transaction: the version first, then the head only if
        # there is none. A crash in between leaves a version without a head, which the next import overwrites; a
        # concurrent import of the same order loses on the head and re-reads.
        table.put_item(_version_item(pk, version))
        try:
            table.put_item(head, condition="attribute_not_exists(PK)")
        except table.ConditionFailed as lost:
            raise VersionConflict() from lost
        return
    _save_version_transaction(pk, version, head, previous, resolve_failure)


def _save_version_transaction(
    pk: str, version: OrderVersion, head: table.Item, previous: OrderHead | None, resolve_failure: bool
) -> None:
    """A new version, the old one's cancellation (`Old Version`), the head and the failure's resolution at once."""
    now = version.imported_at
    operations: list[dict[str, Any]] = [{"Put": {"Item": _version_item(pk, version)}}]
    head_put: dict[str, Any] = {"Item": head, "ConditionExpression": "attribute_not_exists(PK)"}
    if previous is not None:
        head_put["ConditionExpression"] = "version = :seen"
        head_put["ExpressionAttributeValues"] = {":seen": previous.version}
        operations.append(
            {
                "Update": {
                    "Key": {"PK": pk, "SK": _version_sk(previous.version)},
                    "UpdateExpression": "SET #status = :cancelled, superseded_at = :now, "
                    "tags = list_append(if_not_exists(tags, :none), :old)",
                    "ConditionExpression": "attribute_exists(PK)",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": {
                        ":cancelled": OrderStatus.CANCELLED.value,
                        ":now": now.isoformat(),
                        ":none": [],
                        ":old": [OLD_VERSION_TAG],
                    },
                }
            }
        )
    operations.append({"Put": head_put})
    if resolve_failure:
        operations.append(_resolve_failure_update(pk, now))
    try:
        table.transact_write(operations)
    except table.TransactionConflict as lost:
        raise VersionConflict() from lost


def resolve_failure(shop_id: str, order_legacy_id: str, now: datetime) -> None:
    """The order imports fine (with nothing new to write): close its failed record."""
    try:
        table.update_item(
            order_pk(shop_id, order_legacy_id),
            FAILED,
            update=_RESOLVE_FAILURE["update"],
            condition=_RESOLVE_FAILURE["condition"],
            values={":now": now.isoformat()},
        )
    except table.ConditionFailed:
        pass  # resolved meanwhile by another import


def save_failure(failure: FailedOrder) -> None:
    pk = order_pk(failure.shop_id, legacy_id(failure.shopify_order_id))
    item: table.Item = {"PK": pk, "SK": FAILED, "type": "ORDER_FAILED", **failure.model_dump(mode="json")}
    if failure.resolved_at is None:
        item |= {
            "GSI1PK": f"{FAILED_INDEX_PREFIX}{failure.shop_id}",
            "GSI1SK": f"{failure.last_failed_at.isoformat()}#{legacy_id(failure.shopify_order_id)}",
        }
    table.put_item(item)


def open_failures(
    shop_id: str, *, since: datetime | None = None, reason: FailureReason | None = None
) -> Iterator[FailedOrder]:
    """Open failed records of one store, most recent first."""
    key, values = "GSI1PK = :pk", {":pk": f"{FAILED_INDEX_PREFIX}{shop_id}"}
    if since is not None:
        key += " AND GSI1SK >= :since"
        values[":since"] = since.isoformat()
    for item in table.query(key, values, index="GSI1", forward=False):
        failure = FailedOrder.model_validate(item)
        if reason is None or reason in failure.reasons:
            yield failure


def due_failures(shop_id: str, now: datetime, limit: int) -> list[FailedOrder]:
    """Open failed records whose next automatic retry is due (records out of retries have none)."""
    items = table.query(
        "GSI1PK = :pk",
        {":pk": f"{FAILED_INDEX_PREFIX}{shop_id}", ":now": now.isoformat()},
        index="GSI1",
        filter_expression="next_attempt_at <= :now",
    )
    return [FailedOrder.model_validate(item) for _, item in zip(range(limit), items, strict=False)]


def get_order_detail(order_id: str) -> OrderDetail | None:
    shop_id, order_legacy_id = split_order_id(order_id)
    head: OrderHead | None = None
    versions: list[OrderVersion] = []
    failure: FailedOrder | None = None
    for item in table.query_partition(order_pk(shop_id, order_legacy_id)):
        if item["SK"] == HEAD:
            head = OrderHead.model_validate(item)
        elif item["SK"] == FAILED:
            failure = _open_failure(item)
        elif item["SK"].startswith(_VERSION_PREFIX):
            versions.append(OrderVersion.model_validate(item))
    if head is None and failure is None:
        return None
    versions.sort(key=lambda version: version.version, reverse=True)
    return OrderDetail(
        order_id=order_id, current_version=head.version if head else None, versions=versions, failure=failure
    )


# --- webhook deliveries -------------------------------------------------------------------------------------------


class WebhookDelivery(BaseModel):
    webhook_id: str
    shop_id: str
    topic: str
    shopify_order_id: str
    triggered_at: str | None = None
    received_at: datetime


DELIVERY_TYPE = "WEBHOOK_DELIVERY"


def record_delivery(delivery: WebhookDelivery, keep_for: timedelta) -> bool:
    """Store the delivery unless its webhook id was seen already; False for a duplicate. The item's INSERT on the
    table stream hands it to the order importer."""
    expires_at = int((delivery.received_at + keep_for).timestamp())
    item = {
        "PK": f"WEBHOOK#{delivery.webhook_id}",
        "SK": "DELIVERY",
        "type": DELIVERY_TYPE,
        "expires_at": expires_at,
        **delivery.model_dump(mode="json"),
    }
    try:
        table.put_item(item, condition="attribute_not_exists(PK)")
    except table.ConditionFailed:
        return False
    return True

"""Bulk exports: start, poll (resumable across Lambda runs), download the JSONL result and rebuild the tree.

A bulk query writes every node of a nested connection as its own JSONL line carrying `__parentId`; with
`groupObjects: false` lines come in no guaranteed order, so `assemble_bulk_objects` indexes everything first and
attaches children second.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from pydantic import AliasGenerator, BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from shopsync.observability import logger
from shopsync.shopify.client import ShopifyClient, raise_for_user_errors
from shopsync.shopify.documents import load_document
from shopsync.shopify.errors import (
    BulkAssemblyError,
    BulkOperationBusy,
    BulkOperationFailed,
    BulkOperationPending,
    BulkOrphanRecords,
    ShopifyGraphQLError,
    ShopifyUserErrors,
)

PARENT_ID_KEY = "__parentId"
# JSONL lines do not say which connection they came from, only their parent's id; the child's GID resource type
# decides the list it is attached under. Add a type here when an inner query selects a new nested connection.
CHILD_CONNECTION_BY_TYPE: Mapping[str, str] = MappingProxyType({"ProductVariant": "variants"})

_BUSY_CODES = frozenset({"OPERATION_IN_PROGRESS", "LIMIT_REACHED"})
# Room left for one more status call when deciding whether to sleep another poll interval.
_STATUS_CALL_BUDGET_S = 3.0
_GID = re.compile(r"gid://shopify/([A-Za-z0-9]+)/([^?/]+)")


class BulkOperationStatus(StrEnum):
    CREATED = "CREATED"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELING = "CANCELING"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"


_ENDED_WITHOUT_RESULT = frozenset(
    {BulkOperationStatus.FAILED, BulkOperationStatus.CANCELED, BulkOperationStatus.EXPIRED}
)


class BulkOperationResult(BaseModel):
    model_config = ConfigDict(
        alias_generator=AliasGenerator(validation_alias=to_camel), populate_by_name=True, frozen=True
    )

    id: str
    status: BulkOperationStatus
    error_code: str | None = None
    # UnsignedInt64 arrives as a string ("0"); pydantic turns it into an int.
    object_count: int = 0
    root_object_count: int = 0
    file_size: int | None = None
    # None when a COMPLETED export found nothing.
    url: str | None = None
    partial_data_url: str | None = None
    created_at: datetime | None = None
    completed_at: datetime | None = None


def start_bulk_query(client: ShopifyClient, inner_query: str) -> str:
    """Start a bulk export of `inner_query`; returns the operation id (save it: it is the job's cursor)."""
    # Not idempotent: a retried start after a timeout could leave two exports running.
    response = client.execute(load_document("BulkRunQuery"), {"query": inner_query})
    try:
        payload = raise_for_user_errors(response, ("bulkOperationRunQuery",))
    except ShopifyUserErrors as exc:
        if any(error.code in _BUSY_CODES for error in exc.errors):
            raise BulkOperationBusy(exc.errors, path=exc.path) from None
        raise
    operation = payload.get("bulkOperation") or {}
    operation_id = operation.get("id")
    if not operation_id:
        raise ShopifyGraphQLError(["bulkOperationRunQuery returned no operation"], data=response.data)
    logger.info("Bulk operation started", extra={"bulk_operation_id": operation_id})
    return str(operation_id)


def fetch_bulk_operation(client: ShopifyClient, operation_id: str) -> BulkOperationResult | None:
    """The operation's current state; None if Shopify does not know the id."""
    response = client.execute(load_document("BulkOperationStatus"), {"id": operation_id})
    operation = response.data_at(("bulkOperation",))
    return BulkOperationResult.model_validate(operation) if operation else None


def poll_bulk_operation(
    client: ShopifyClient,
    operation_id: str,
    *,
    time_remaining_s: Callable[[], float],
    poll_interval_s: float = 5.0,
) -> BulkOperationResult:
    """Poll until the operation is COMPLETED and return it. Raises BulkOperationFailed when it ended FAILED, CANCELED
    or EXPIRED (or is unknown), and BulkOperationPending when `time_remaining_s()` cannot fit another poll."""
    last_status = "UNKNOWN"
    while True:
        # Out of time before even asking: still a pending operation the next run can pick up, not a failure.
        if time_remaining_s() <= 0:
            raise BulkOperationPending(operation_id, status=last_status)
        result = fetch_bulk_operation(client, operation_id)
        if result is None:
            raise BulkOperationFailed(operation_id, status=None, error_code=None)
        if result.status is BulkOperationStatus.COMPLETED:
            logger.info(
                "Bulk operation completed",
                extra={"bulk_operation_id": operation_id, "object_count": result.object_count},
            )
            return result
        if result.status in _ENDED_WITHOUT_RESULT:
            raise BulkOperationFailed(
                operation_id,
                status=result.status.value,
                error_code=result.error_code,
                partial_data_url=result.partial_data_url,
            )
        last_status = result.status.value
        if time_remaining_s() < poll_interval_s + _STATUS_CALL_BUDGET_S:
            raise BulkOperationPending(operation_id, status=last_status)
        logger.debug("Bulk operation still running", extra={"bulk_operation_id": operation_id, "status": result.status})
        client.sleep(poll_interval_s)


def cancel_bulk_operation(client: ShopifyClient, operation_id: str) -> BulkOperationStatus | None:
    """Ask Shopify to cancel; returns the status it reports (usually CANCELING)."""
    response = client.execute(load_document("BulkOperationCancel"), {"id": operation_id})
    payload = raise_for_user_errors(response, ("bulkOperationCancel",))
    status = (payload.get("bulkOperation") or {}).get("status")
    return BulkOperationStatus(status) if status else None


def download_jsonl(client: ShopifyClient, url: str | None) -> Iterator[dict[str, Any]]:
    """The records of a bulk result file, streamed. `url` None (an export that found nothing) yields nothing."""
    if url is None:
        return
    for line_number, line in enumerate(client.stream_file_lines(url), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BulkAssemblyError(f"bulk result line {line_number} is not JSON: {exc}") from None
        if not isinstance(record, dict):
            raise BulkAssemblyError(f"bulk result line {line_number} is not an object")
        yield record


def assemble_bulk_objects(
    records: Iterable[Mapping[str, Any]],
    *,
    child_connections: Mapping[str, str] = CHILD_CONNECTION_BY_TYPE,
    orphans: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Rebuild the object tree from bulk JSONL records given in any order.

    Children go into a list under `child_connections[<child GID type>]` of their parent (without `__parentId`);
    roots and every child list are ordered by GID so the result does not depend on line order. Records whose parent
    is missing are appended to `orphans` when a list is given, otherwise BulkOrphanRecords is raised: they are never
    dropped silently. The input records are not modified."""
    nodes_by_id: dict[str, dict[str, Any]] = {}
    roots: list[dict[str, Any]] = []
    children: list[tuple[str, dict[str, Any], Mapping[str, Any]]] = []

    for record in records:
        node = {key: value for key, value in record.items() if key != PARENT_ID_KEY}
        node_id = node.get("id")
        if isinstance(node_id, str):
            if _seen_before(nodes_by_id, node_id, node):
                continue
            nodes_by_id[node_id] = node
        parent_id = record.get(PARENT_ID_KEY)
        if parent_id is None:
            roots.append(node)
        else:
            children.append((str(parent_id), node, record))

    missing_parent: list[dict[str, Any]] = []
    for parent_id, node, record in children:
        parent = nodes_by_id.get(parent_id)
        if parent is None:
            missing_parent.append(dict(record))
            continue
        parent.setdefault(_connection_for(node, child_connections), []).append(node)

    connection_names = set(child_connections.values())
    for node in nodes_by_id.values():
        for name in connection_names & node.keys():
            node[name].sort(key=_gid_order)
    roots.sort(key=_gid_order)
    _report_orphans(missing_parent, orphans)
    return roots


def gid_resource_type(gid: str) -> str | None:
    """ "ProductVariant" for "gid://shopify/ProductVariant/11"; None for anything that is not a Shopify GID."""
    match = _GID.match(gid)
    return match.group(1) if match else None


def _seen_before(nodes_by_id: dict[str, dict[str, Any]], node_id: str, node: dict[str, Any]) -> bool:
    known = nodes_by_id.get(node_id)
    if known is None:
        return False
    if known != node:
        raise BulkAssemblyError(f"bulk record {node_id} appears twice with different content")
    return True


def _connection_for(node: Mapping[str, Any], child_connections: Mapping[str, str]) -> str:
    node_id = node.get("id")
    resource_type = gid_resource_type(node_id) if isinstance(node_id, str) else None
    connection = child_connections.get(resource_type) if resource_type else None
    if connection is None:
        raise BulkAssemblyError(
            f"no connection known for child {node_id!r} (type {resource_type}); add it to CHILD_CONNECTION_BY_TYPE"
        )
    return connection


def _gid_order(node: Mapping[str, Any]) -> tuple[str, int, str]:
    node_id = node.get("id")
    if not isinstance(node_id, str):
        return ("", 0, json.dumps(node, sort_keys=True, default=str))
    match = _GID.match(node_id)
    if match and match.group(2).isdigit():
        return (match.group(1), int(match.group(2)), node_id)
    return (match.group(1) if match else "", 0, node_id)


def _report_orphans(missing_parent: list[dict[str, Any]], orphans: list[dict[str, Any]] | None) -> None:
    if not missing_parent:
        return
    logger.warning("Bulk records without their parent", extra={"orphan_count": len(missing_parent)})
    if orphans is None:
        raise BulkOrphanRecords(missing_parent)
    orphans.extend(missing_parent)

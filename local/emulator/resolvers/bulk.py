"""Bulk operations: run, poll (which advances the state machine), list, cancel."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from graphql import GraphQLResolveInfo

from local.emulator.bulk import BulkMutationProblem, validate_bulk_mutation, validate_bulk_query
from local.emulator.connections import connection
from local.emulator.context import RequestContext, context_of
from local.emulator.ids import gid, parse_gid
from local.emulator.resolvers.catalog import search
from local.emulator.resolvers.product_set import user_error
from local.emulator.schema import admin_schema
from local.emulator.search import SearchField
from local.emulator.state import BulkOperation, StagedUpload, Store, iso
from local.emulator.views import View, sortable_time

MAX_IN_PROGRESS = 5  # per shop and app since 2026-01
BULK_STATUSES = frozenset({"canceled", "canceling", "completed", "created", "failed", "running"})

BULK_SEARCH: dict[str, SearchField[BulkOperation]] = {
    "status": SearchField("keyword", lambda op: op.status, accepted=BULK_STATUSES),
    "operation_type": SearchField("keyword", lambda op: op.type, accepted=frozenset({"query", "mutation"})),
    "created_at": SearchField("time", lambda op: op.created_at),
    "id": SearchField("id", lambda op: op.id),
}


def bulk_operation_view(ctx: RequestContext, op: BulkOperation) -> View:
    has_file = op.status == "COMPLETED" and op.object_count > 0 and op.result is not None
    return {
        "__typename": "BulkOperation",
        "id": gid("BulkOperation", op.id),
        "status": op.status,
        "type": op.type,
        "errorCode": op.error_code,
        "createdAt": iso(op.created_at),
        "completedAt": iso(op.completed_at),
        "objectCount": str(op.object_count),
        "rootObjectCount": str(op.root_object_count),
        "fileSize": str(len(op.result)) if has_file and op.result is not None else None,
        "url": f"{ctx.base_url}/_emulator/bulk/{ctx.store.shop_id}/{op.id}.jsonl" if has_file else None,
        "partialDataUrl": None,
        "query": op.query,
    }


def advance(ctx: RequestContext, op: BulkOperation, *, poll: bool = True) -> None:
    """CREATED → RUNNING → COMPLETED, one step per status read (or by time, see ShopifyEmulator.bulk_*)."""
    if op.status == "CANCELING":
        if poll:
            op.status, op.completed_at = "CANCELED", None
        return
    if op.status not in ("CREATED", "RUNNING"):
        return
    op.polls += int(poll)
    delay = ctx.emulator.bulk_complete_after_s
    if delay is not None:
        due = ctx.store.now() - op.created_at >= timedelta(seconds=delay)
    else:
        due = op.polls >= ctx.emulator.bulk_polls_to_complete
    if due:
        ctx.emulator.complete_bulk_operation(ctx, op)
    elif poll:
        op.status = "RUNNING"


def bulk_operation(info: GraphQLResolveInfo, id: str, **_: Any) -> View | None:
    ctx = context_of(info)
    op = ctx.store.bulk_operations.get(parse_gid(id, "BulkOperation") or -1)
    if op is None:
        return None
    advance(ctx, op)
    return bulk_operation_view(ctx, op)


def bulk_operations(info: GraphQLResolveInfo, **args: Any) -> View:
    ctx = context_of(info)
    ops = list(ctx.store.bulk_operations.values())
    for op in ops:
        advance(ctx, op)
    matching = search(info, args.get("query"), BULK_SEARCH).filter(ops)
    by_completion = args.get("sortKey") == "COMPLETED_AT"
    return connection(
        matching,
        args,
        sort_value=lambda op: sortable_time(op.completed_at or op.created_at) if by_completion else op.id,
        item_id=lambda op: op.id,
        view=lambda op: bulk_operation_view(ctx, op),
        reverse_default=True,  # newest first
    )


def current_bulk_operation(info: GraphQLResolveInfo, type: str = "QUERY", **_: Any) -> View | None:
    ctx = context_of(info)
    ops = [op for op in ctx.store.bulk_operations.values() if op.type == type]
    if not ops:
        return None
    latest = max(ops, key=lambda op: op.id)
    advance(ctx, latest)
    return bulk_operation_view(ctx, latest)


def bulk_operation_run_query(info: GraphQLResolveInfo, query: str, groupObjects: bool = False, **_: Any) -> View:
    ctx = context_of(info)
    problems = validate_bulk_query(info.schema, query)[1]
    if problems:
        return {"bulkOperation": None, "userErrors": [user_error(["query"], p, "INVALID") for p in problems]}
    running = []
    for op in ctx.store.bulk_operations.values():
        advance(ctx, op, poll=False)
        if op.type == "QUERY" and op.in_progress:
            running.append(op)
    if len(running) >= MAX_IN_PROGRESS:
        ids = ", ".join(gid("BulkOperation", op.id) for op in running)
        message = f"A bulk query operation for this app and shop is already in progress: {ids}."
        return {"bulkOperation": None, "userErrors": [user_error(None, message, "OPERATION_IN_PROGRESS")]}
    op = BulkOperation(id=ctx.store.new_id(), query=query, created_at=ctx.store.now(), group_objects=groupObjects)
    ctx.store.bulk_operations[op.id] = op
    return {"bulkOperation": bulk_operation_view(ctx, op), "userErrors": []}


def bulk_operation_cancel(info: GraphQLResolveInfo, id: str, **_: Any) -> View:
    ctx = context_of(info)
    op = ctx.store.bulk_operations.get(parse_gid(id, "BulkOperation") or -1)
    if op is None:
        return {"bulkOperation": None, "userErrors": [user_error(["id"], "Bulk operation does not exist", "NOT_FOUND")]}
    if not op.in_progress:
        message = f"A bulk operation cannot be canceled when it is {op.status.lower()}"
        return {"bulkOperation": bulk_operation_view(ctx, op), "userErrors": [user_error(None, message, "INVALID")]}
    op.status = "CANCELING"
    return {"bulkOperation": bulk_operation_view(ctx, op), "userErrors": []}


def resolve_node(ctx: RequestContext, kind: str, number: int) -> View | None:
    op = ctx.store.bulk_operations.get(number) if kind == "BulkOperation" else None
    if op is None:
        return None
    advance(ctx, op)
    return bulk_operation_view(ctx, op)


# ---- bulk mutations ----------------------------------------------------------------------------------

MAX_UPLOAD_BYTES = 100 * 1024 * 1024
NO_SUCH_FILE = (
    "The JSONL file could not be found. Try uploading the file again, and check that you've entered the URL "
    "correctly for the stagedUploadPath mutation argument."
)


def staged_uploads_create(info: GraphQLResolveInfo, input: list[dict[str, Any]], **_: Any) -> View:
    """Upload targets on the emulator itself: POST the file (multipart form or raw body) to `url`."""
    ctx = context_of(info)
    store = ctx.store
    targets = []
    for spec in input:
        folder = "bulk" if spec["resource"] == "BULK_MUTATION_VARIABLES" else spec["resource"].lower()
        filename = spec["filename"].rsplit("/", 1)[-1] or "upload"
        key = f"tmp/{store.shop_number}/{folder}/{uuid.uuid4()}/{filename}"
        store.staged_uploads[key] = StagedUpload(key, filename, spec["mimeType"], spec["resource"], store.now())
        url = f"{ctx.base_url}/_emulator/uploads/{store.shop_id}/{key}"
        parameters = [
            {"name": "Content-Type", "value": spec["mimeType"]},
            {"name": "success_action_status", "value": "201"},
            {"name": "acl", "value": "private"},
            {"name": "key", "value": key},
        ]
        targets.append({"url": url, "resourceUrl": url, "parameters": parameters})
    return {"stagedTargets": targets, "userErrors": []}


def _mutation_error(problem: BulkMutationProblem) -> View:
    return {"field": problem.field, "message": problem.message, "code": problem.code}


def staged_file(store: Store, path: str) -> StagedUpload | None:
    """The uploaded file a stagedUploadPath names (the key, or any URL ending with it)."""
    upload = store.staged_uploads.get(path)
    if upload is None:
        upload = next((u for key, u in store.staged_uploads.items() if path.endswith(key)), None)
    return upload if upload is not None and upload.body is not None else None


def _file_errors(upload: StagedUpload | None) -> list[View]:
    if upload is None or upload.body is None:
        return [user_error(None, NO_SUCH_FILE, "NO_SUCH_FILE")]
    if not upload.body.strip():
        return [user_error(None, "The input file is empty.", "INVALID_STAGED_UPLOAD_FILE")]
    if len(upload.body) > MAX_UPLOAD_BYTES:
        message = "The input file size exceeds the maximum allowed size of 100 MB."
        return [user_error(None, message, "INVALID_STAGED_UPLOAD_FILE")]
    return []


def _run_mutation_errors(ctx: RequestContext, mutation: str, path: str, client_identifier: str | None) -> list[View]:
    """Checked in Shopify's order: the mutation, clientIdentifier, the file, then concurrency."""
    store = ctx.store
    problems = validate_bulk_mutation(admin_schema(), mutation)[1]
    if problems:
        return [_mutation_error(p) for p in problems]
    if client_identifier is not None and not 10 <= len(client_identifier) <= 255:
        message = (
            "is too short (minimum is 10 characters)"
            if len(client_identifier) < 10
            else "is too long (maximum is 255 characters)"
        )
        return [user_error(["clientIdentifier"], message, "INVALID_MUTATION")]
    file_errors = _file_errors(staged_file(store, path))
    if file_errors:
        return file_errors
    running = []
    for op in store.bulk_operations.values():
        advance(ctx, op, poll=False)
        if op.type == "MUTATION" and op.in_progress:
            running.append(op)
    if len(running) >= MAX_IN_PROGRESS:
        ids = ", ".join(gid("BulkOperation", op.id) for op in running)
        message = f"A bulk mutation operation for this app and shop is already in progress: {ids}."
        return [user_error(None, message, "OPERATION_IN_PROGRESS")]
    return []


def bulk_operation_run_mutation(
    info: GraphQLResolveInfo,
    mutation: str,
    stagedUploadPath: str,
    groupObjects: bool = True,
    clientIdentifier: str | None = None,
    **_: Any,
) -> View:
    ctx = context_of(info)
    store = ctx.store
    errors = _run_mutation_errors(ctx, mutation, stagedUploadPath, clientIdentifier)
    if errors:
        return {"bulkOperation": None, "userErrors": errors}
    upload = staged_file(store, stagedUploadPath)
    assert upload is not None
    op = BulkOperation(
        id=store.new_id(),
        query=mutation,
        created_at=store.now(),
        group_objects=groupObjects,
        type="MUTATION",
        staged_upload_path=upload.key,
        client_identifier=clientIdentifier,
    )
    store.bulk_operations[op.id] = op
    return {"bulkOperation": bulk_operation_view(ctx, op), "userErrors": []}

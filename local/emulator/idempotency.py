"""The `@idempotent(key:)` directive: required on inventory mutations since 2026-04, replayed per store."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from graphql import GraphQLError, GraphQLResolveInfo
from graphql.execution.values import get_directive_values

from local.emulator.state import IdempotencyRecord, Store

T = TypeVar("T")

MISSING_DIRECTIVE = "The @idempotent directive is required for this mutation but was not provided."
KEY_MISMATCH = "The same idempotency key cannot be used with different operation parameters."


def required_key(info: GraphQLResolveInfo) -> str:
    directive = info.schema.get_directive("idempotent")
    values = get_directive_values(directive, info.field_nodes[0], info.variable_values) if directive else None
    if not values:
        raise GraphQLError(MISSING_DIRECTIVE, nodes=info.field_nodes, extensions={"code": "BAD_REQUEST"})
    key = str(values.get("key") or "")
    if not key.strip():
        raise GraphQLError(
            "The idempotency key cannot be an empty string or whitespace only.",
            nodes=info.field_nodes,
            extensions={"code": "BAD_REQUEST"},
        )
    return key


def replay_or_run(
    store: Store,
    key: str,
    mutation: str,
    arguments: dict[str, Any],
    *,
    run: Callable[[], T],
    mismatch: Callable[[], T],
) -> T:
    """Same key and same arguments: the first outcome again, nothing re-applied. Different arguments: `mismatch`."""
    fingerprint = json.dumps({"mutation": mutation, "arguments": arguments}, sort_keys=True, default=str)
    record = store.idempotency.get(key)
    if record is not None:
        if record.fingerprint != fingerprint:
            return mismatch()
        outcome: T = record.outcome
        return outcome
    outcome = run()
    store.idempotency[key] = IdempotencyRecord(mutation, fingerprint, outcome)
    return outcome

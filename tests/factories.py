"""Builders shared by tests: events, Lambda contexts; the table and shop records come from local.sandbox."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from local.lambda_context import LambdaContext
from local.sandbox import create_table_from_template, register_shop_record

__all__ = ["api_event", "create_table_from_template", "lambda_context", "load_event", "register_shop_record"]

EVENTS_DIR = Path(__file__).resolve().parent.parent / "events"


def load_event(name: str) -> dict[str, Any]:
    """A sample event from events/ (the same files `sam local invoke -e` takes)."""
    return json.loads((EVENTS_DIR / name).read_text())


def api_event(method: str, path: str, body: Any = None, query: dict[str, str] | None = None) -> dict[str, Any]:
    """An API Gateway REST proxy event built on events/api_put_shop.json for another method, path and body."""
    event = load_event("api_put_shop.json")
    event.update(
        httpMethod=method,
        path=path,
        pathParameters={"proxy": path.lstrip("/")},
        body=None if body is None else (body if isinstance(body, str) else json.dumps(body)),
        queryStringParameters=query,
        multiValueQueryStringParameters={k: [v] for k, v in query.items()} if query else None,
    )
    event["requestContext"] = {**event.get("requestContext", {}), "httpMethod": method, "path": path}
    return event


def lambda_context(timeout_s: int = 600) -> LambdaContext:
    """The local stack's Lambda context: a real deadline `timeout_s` from now."""
    return LambdaContext(function_name="test-function", memory_limit_in_mb=512, timeout_seconds=timeout_s)

"""Builders shared by tests: the table from template.yaml, registered shops."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from local.lambda_context import LambdaContext
from local.resources import create_table
from local.template import SamTemplate
from shopsync.models.shop import IdentifierType, Shop, ShopRole
from shopsync.store import shops as shop_store


def create_table_from_template(table_name: str) -> str:
    """The table exactly as template.yaml declares it, under the current (moto) endpoint."""
    (properties,) = SamTemplate.load().tables().values()
    create_table(table_name, properties)
    return table_name


def register_shop_record(
    shop_id: str,
    *,
    role: ShopRole = ShopRole.PARENT,
    base_url: str = "http://127.0.0.1:9/stores/x",
    identifier_type: IdentifierType = IdentifierType.SKU,
    currency: str = "USD",
) -> Shop:
    """A registration written straight to the table (no store verification): for tests of what comes after."""
    now = datetime.now(UTC)
    shop = Shop(
        shop_id=shop_id,
        role=role,
        name=shop_id,
        admin_api_base_url=base_url,  # type: ignore[arg-type]
        api_version="2026-07",
        identifier_type=identifier_type,
        currency=currency,
        token_secret_name=f"shopsync/test/shopify/{shop_id}",
        created_at=now,
        updated_at=now,
    )
    shop_store.save_shop(shop, shop_store.get_shop(shop_id))
    return shop


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

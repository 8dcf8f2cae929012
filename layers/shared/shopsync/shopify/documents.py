"""The GraphQL documents the code sends. Each lives in `documents/<OperationName>.graphql` (one operation per file)
so the tests can validate all of them against the pinned schema; importlib.resources finds them in a Lambda layer too.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources

_PACKAGE = "shopsync.shopify"
_FOLDER = "documents"
_SUFFIX = ".graphql"
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")

BULK_PRODUCTS_EXPORT = "BulkProductsExport"
_BULK_PRODUCTS_HEADER = re.compile(r"query\s+BulkProductsExport\s*\(\s*\$productsQuery\s*:\s*String\s*\)\s*\{")
_BULK_PRODUCTS_ARGUMENT = "(query: $productsQuery)"


@lru_cache(maxsize=64)
def load_document(name: str) -> str:
    """The text of `documents/<name>.graphql`."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"not a document name: {name!r}")
    resource = resources.files(_PACKAGE).joinpath(_FOLDER, name + _SUFFIX)
    if not resource.is_file():
        raise LookupError(f"no GraphQL document named {name!r}")
    return resource.read_text(encoding="utf-8")


def document_names() -> list[str]:
    """Every document in the package, sorted (the schema test walks this list)."""
    return sorted(
        entry.name.removesuffix(_SUFFIX)
        for entry in resources.files(_PACKAGE).joinpath(_FOLDER).iterdir()
        if entry.is_file() and entry.name.endswith(_SUFFIX)
    )


def render_bulk_products_export(updated_after: datetime | None = None) -> str:
    """The inner query of a bulk product export, optionally limited to products updated after `updated_after`.

    Bulk inner queries cannot take variables, so the filter is written into the text: the timestamp is formatted by
    us (UTC, whole seconds, rounded down so nothing at the boundary is missed) and the whole search string is emitted
    as a JSON string literal, which is also a valid GraphQL string literal."""
    template = _strip_comments(load_document(BULK_PRODUCTS_EXPORT))
    text, headers = _BULK_PRODUCTS_HEADER.subn("{", template)
    if headers != 1 or template.count(_BULK_PRODUCTS_ARGUMENT) != 1:
        raise RuntimeError(f"{BULK_PRODUCTS_EXPORT}.graphql no longer matches render_bulk_products_export")
    if updated_after is None:
        return text.replace(_BULK_PRODUCTS_ARGUMENT, "")
    if updated_after.tzinfo is None:
        raise ValueError("updated_after must be timezone-aware")
    timestamp = updated_after.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    search = f"updated_at:>'{timestamp}'"
    return text.replace(_BULK_PRODUCTS_ARGUMENT, f"(query: {json.dumps(search)})")


def _strip_comments(document: str) -> str:
    return "\n".join(line for line in document.splitlines() if not line.lstrip().startswith("#")).strip() + "\n"

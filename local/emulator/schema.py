"""The pinned Admin GraphQL schema, built once per process."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from graphql import GraphQLSchema, build_schema

API_VERSION = "2026-07"
SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schema" / "shopify" / f"admin-{API_VERSION}" / "schema.graphql"


@lru_cache(maxsize=1)
def admin_schema() -> GraphQLSchema:
    # Building the 3.8 MB SDL takes ~2 s: every emulator in the process shares one copy.
    return build_schema(SCHEMA_PATH.read_text(encoding="utf-8"))

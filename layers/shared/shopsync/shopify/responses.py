"""Pydantic models of the Admin GraphQL response envelope: `{data, errors, extensions: {cost, search}}`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import AliasGenerator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

_CAMEL = ConfigDict(alias_generator=AliasGenerator(validation_alias=to_camel), populate_by_name=True, frozen=True)


class ThrottleStatus(BaseModel):
    model_config = _CAMEL

    maximum_available: float
    currently_available: float
    restore_rate: float


class QueryCost(BaseModel):
    model_config = _CAMEL

    requested_query_cost: float | None = None
    # null when the query was refused (THROTTLED) before it ran.
    actual_query_cost: float | None = None
    throttle_status: ThrottleStatus | None = None


class GraphQLErrorItem(BaseModel):
    model_config = ConfigDict(frozen=True)

    message: str = ""
    path: list[str | int] | None = None
    extensions: dict[str, Any] = Field(default_factory=dict)

    @property
    def code(self) -> str | None:
        code = self.extensions.get("code")
        return str(code) if code is not None else None


class SearchWarning(BaseModel):
    model_config = ConfigDict(frozen=True)

    field: str | None = None
    message: str = ""
    code: str | None = None


class SearchReport(BaseModel):
    """One `extensions.search[]` entry: how Shopify parsed a `query:` argument."""

    model_config = ConfigDict(frozen=True)

    path: list[str | int] = Field(default_factory=list)
    query: str = ""
    warnings: list[SearchWarning] = Field(default_factory=list)


class ResponseExtensions(BaseModel):
    model_config = ConfigDict(frozen=True)

    cost: QueryCost | None = None
    search: list[SearchReport] = Field(default_factory=list)


class RawGraphQLBody(BaseModel):
    """The HTTP body exactly as Shopify sends it; the client turns it into a `GraphQLResponse` or an error."""

    model_config = ConfigDict(frozen=True)

    data: dict[str, Any] | None = None
    errors: list[GraphQLErrorItem] = Field(default_factory=list)
    extensions: ResponseExtensions = Field(default_factory=ResponseExtensions)


class GraphQLResponse(BaseModel):
    """A successful operation: its data and what it cost."""

    model_config = ConfigDict(frozen=True)

    operation_name: str
    data: dict[str, Any]
    cost: QueryCost | None = None

    def data_at(self, path: Sequence[str]) -> Any:
        """The value at `path` under `data`, or None as soon as a step is missing or null."""
        value: Any = self.data
        for key in path:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return value

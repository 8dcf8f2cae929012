"""What resolvers get as `info.context`: the store, the request's base URL and collected extensions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError, GraphQLResolveInfo

if TYPE_CHECKING:
    from local.emulator.app import ShopifyEmulator
    from local.emulator.state import Store


@dataclass
class RequestContext:
    emulator: ShopifyEmulator
    store: Store
    base_url: str  # scheme://host of the incoming request: bulk result URLs must work in-process and on a port
    bulk: bool = False  # executing a bulk query: connections need no page size
    search_extensions: list[dict[str, Any]] = field(default_factory=list)


def context_of(info: GraphQLResolveInfo) -> RequestContext:
    ctx = info.context
    if not isinstance(ctx, RequestContext):
        raise GraphQLError("emulator misconfigured: missing request context")
    return ctx


def response_path(info: GraphQLResolveInfo) -> list[str]:
    return [str(key) for key in info.path.as_list() if isinstance(key, str)]

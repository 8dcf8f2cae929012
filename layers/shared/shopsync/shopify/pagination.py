"""Cursor pagination over a Relay connection, one page at a time, so a job can save `end_cursor` after each page and
resume from it in the next run (`start_cursor`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shopsync.shopify.client import ShopifyClient
from shopsync.shopify.errors import ShopifyError, ShopifyNotFound


@dataclass(frozen=True)
class Page:
    nodes: list[dict[str, Any]]
    # The cursor to pass as `after` for the next page (save it to resume); None for an empty connection.
    end_cursor: str | None
    has_next_page: bool


def iter_pages(
    client: ShopifyClient,
    document: str,
    variables: Mapping[str, Any] | None,
    connection_path: Sequence[str],
    *,
    start_cursor: str | None = None,
    cursor_variable: str = "after",
) -> Iterator[Page]:
    """Pages of the connection at `connection_path` in the data (e.g. `("products",)` or `("product", "variants")`).

    The document must select `pageInfo { hasNextPage endCursor }` and `nodes` (or `edges { node }`), and take the
    cursor as `$after` (or `cursor_variable`). A null object on the path (a deleted product) raises ShopifyNotFound.
    """
    cursor = start_cursor
    while True:
        response = client.execute(document, {**(variables or {}), cursor_variable: cursor})
        connection = response.data_at(connection_path)
        if not isinstance(connection, dict):
            raise ShopifyNotFound(f"{response.operation_name}: nothing at {'.'.join(connection_path)}")
        page = _page_of(connection)
        yield page
        if not page.has_next_page:
            return
        if not page.end_cursor or page.end_cursor == cursor:
            # Asking again with the same cursor would loop forever.
            raise ShopifyError(f"{response.operation_name}: hasNextPage without a new endCursor")
        cursor = page.end_cursor


def _page_of(connection: dict[str, Any]) -> Page:
    page_info = connection.get("pageInfo") or {}
    if "nodes" in connection:
        nodes = list(connection["nodes"] or [])
    else:
        nodes = [edge["node"] for edge in connection.get("edges") or []]
    return Page(
        nodes=nodes,
        end_cursor=page_info.get("endCursor"),
        has_next_page=bool(page_info.get("hasNextPage")),
    )

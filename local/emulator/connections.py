"""Relay connections: sorting, opaque cursors, windows and exact pageInfo, like Shopify's Admin API."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from graphql import GraphQLError

from local.emulator.ids import decode_cursor, encode_cursor

T = TypeVar("T")
MAX_PAGE_SIZE = 250


def bad_request(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "BAD_REQUEST"})


def page_window(args: Mapping[str, Any], *, unbounded: bool = False) -> tuple[int | None, int | None]:
    """Validated (first, last). Bulk queries (`unbounded`) read whole connections without page sizes."""
    first, last = args.get("first"), args.get("last")
    if unbounded and first is None and last is None:
        return None, None
    if first is None and last is None:
        raise bad_request("you must provide one of first or last")
    if first is not None and last is not None:
        raise bad_request("providing both first and last is not supported")
    for name, value in (("first", first), ("last", last)):
        if value is not None and not 0 <= value <= MAX_PAGE_SIZE and not unbounded:
            raise bad_request(f"The value of `{name}` must be between 0 and {MAX_PAGE_SIZE} (got {value}).")
    return first, last


def connection(
    items: Sequence[T],
    args: Mapping[str, Any],
    *,
    sort_value: Callable[[T], Any],
    item_id: Callable[[T], int],
    view: Callable[[T], dict[str, Any]],
    unbounded: bool = False,
    reverse_default: bool = False,
) -> dict[str, Any]:
    first, last = page_window(args, unbounded=unbounded)
    reverse = bool(args.get("reverse")) != reverse_default
    keyed = sorted(((sort_value(item), item_id(item)), item) for item in items)  # ties broken by id
    if reverse:
        keyed.reverse()
    start, end = 0, len(keyed)
    if args.get("after"):
        start = _boundary(keyed, args["after"], reverse, after=True)
    if args.get("before"):
        end = max(start, _boundary(keyed, args["before"], reverse, after=False))
    window = keyed[start:end]
    if first is not None:
        page = window[:first]
        has_next, has_previous = len(window) > first or end < len(keyed), start > 0
    elif last is not None:
        page = window[len(window) - last :] if last else []
        has_next, has_previous = end < len(keyed), len(window) > last or start > 0
    else:
        page, has_next, has_previous = window, False, False
    edges = [{"cursor": encode_cursor(key[1], key[0]), "node": view(item)} for key, item in page]
    return {
        "edges": edges,
        "nodes": [edge["node"] for edge in edges],
        "pageInfo": {
            "hasNextPage": has_next,
            "hasPreviousPage": has_previous,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


def _boundary(keyed: list[tuple[tuple[Any, int], Any]], cursor: str, reverse: bool, *, after: bool) -> int:
    """Index of the first item past `cursor` (after) or of the first item at/after it (before)."""
    decoded = decode_cursor(cursor)
    if decoded is None:
        raise bad_request(f"Invalid cursor provided: {cursor}")
    cursor_key = (decoded[1], decoded[0])
    for index, (key, _) in enumerate(keyed):
        try:
            beyond = key < cursor_key if reverse else key > cursor_key
            same = key == cursor_key
        except TypeError as exc:  # a cursor minted under another sort key
            raise bad_request(f"Invalid cursor provided: {cursor}") from exc
        if beyond or (same and not after):
            return index
    return len(keyed)

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TypeVar

T = TypeVar("T")


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of at most `size` items (API batch limits: 25 metafields, 250 quantities, …)."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk

"""Shopify search syntax: terms, connectives, comparators, lists, tags, warnings."""

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from local.emulator.search import SearchField, SearchSyntaxError, compile_search

NOW = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)


@dataclass
class Item:
    id: int
    title: str
    sku: str
    status: str
    tags: list[str]
    updated_at: datetime


FIELDS = {
    "default": SearchField("text", lambda i: [i.title, i.sku]),
    "id": SearchField("id", lambda i: i.id),
    "title": SearchField("text", lambda i: i.title),
    "sku": SearchField("keyword", lambda i: i.sku),
    "status": SearchField("keyword", lambda i: i.status, accepted=frozenset({"active", "draft", "archived"})),
    "tag": SearchField("tag", lambda i: i.tags),
    "tag_not": SearchField("tag_not", lambda i: i.tags),
    "updated_at": SearchField("time", lambda i: i.updated_at),
}
ITEMS = [
    Item(1, "Black Classic Tee", "SS-TEE-BLK-M", "ACTIVE", ["sale", "HC:Pre-Order"], datetime(2026, 1, 1, tzinfo=UTC)),
    Item(2, "Green Hoodie", "SS-HOOD-GRN-L", "DRAFT", ["winter"], datetime(2026, 3, 15, 8, 30, tzinfo=UTC)),
    Item(3, "Navy Cap", "SS-CAP-NVY-OS", "ARCHIVED", [], datetime(2026, 6, 30, 23, 59, 59, tzinfo=UTC)),
]


def ids(query: str) -> list[int]:
    return [i.id for i in compile_search(query, FIELDS, NOW).filter(ITEMS)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", [1, 2, 3]),
        ("sku:ss-tee-blk-m", [1]),
        ("sku:'SS-HOOD-GRN-L'", [2]),
        ("sku:SS-*", [1, 2, 3]),
        ("status:ACTIVE,DRAFT", [1, 2]),
        ("status:active tag:sale", [1]),
        ("status:active AND tag:winter", []),
        ("tag:winter OR sku:SS-CAP-NVY-OS", [2, 3]),
        ("-tag:sale", [2, 3]),
        ("NOT tag:sale", [2, 3]),
        ("tag_not:sale", [2, 3]),
        ("tag:'HC:Pre-Order'", [1]),
        ("tag:HC:Pre-Order", [1]),
        ("id:>=2", [2, 3]),
        ("id:<2", [1]),
        ("id:gid://shopify/Product/3", [3]),
        ("title:'green hoodie'", [2]),
        ("hoodie", [2]),
        ("(tag:sale OR tag:winter) -status:draft", [1]),
    ],
)
def test_filters(query, expected):
    assert ids(query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("updated_at:>'2026-03-15T08:30:00Z'", [3]),
        ("updated_at:>='2026-03-15T08:30:00Z'", [2, 3]),
        ("updated_at:<'2026-03-15T08:30:00Z'", [1]),
        ("updated_at:<=2026-03-15T08:30:00Z", [1, 2]),
        ("updated_at:2026-06-30", [3]),
        ("updated_at:>2026-03-15", [3]),
        ("updated_at:<=2026", [1, 2, 3]),
        ("updated_at:<now", [1, 2, 3]),
    ],
)
def test_time_comparators_accept_quoted_iso_dates_days_and_years(query, expected):
    assert ids(query) == expected


def test_unknown_fields_are_dropped_and_reported_like_shopify():
    compiled = compile_search("made_up:value sku:SS-TEE-BLK-M", FIELDS, NOW)
    assert [i.id for i in compiled.filter(ITEMS)] == [1]
    assert compiled.extension(["products"]) == {
        "path": ["products"],
        "query": "made_up:value sku:SS-TEE-BLK-M",
        "parsed": {"and": [{"field": "made_up", "match_all": "value"}, {"field": "sku", "match_all": "SS-TEE-BLK-M"}]},
        "warnings": [{"field": "made_up", "message": "Invalid search field for this query.", "code": "invalid_field"}],
    }


def test_values_outside_an_enum_warn_and_match_nothing():
    compiled = compile_search("status:EXPIRED", FIELDS, NOW)
    assert compiled.filter(ITEMS) == []
    assert compiled.warnings == [
        {"field": "status", "message": "Input `EXPIRED` is not an accepted value.", "code": "invalid_value"}
    ]


def test_an_unparseable_timestamp_is_a_hard_error():
    with pytest.raises(SearchSyntaxError, match="Invalid timestamp for query filter `updated_at`"):
        compile_search("updated_at:>not-a-date", FIELDS, NOW)

"""The sync benchmark's shortcuts: seeded products are what the jobs would have stored (the refresh keeps their
membership, the sync lists them everywhere), and moto's partition-only query answers as moto's own."""

from __future__ import annotations

from typing import Any

from bench.moto_queries import partition_queries
from bench.seeding import seed_preorder_products
from local.sandbox import sandbox
from shopsync.catalog.presell import Action, decide
from shopsync.jobs.clock import utc_now
from shopsync.preorder.sync import sync_products
from shopsync.settings import get_settings
from shopsync.store import presell as presell_store
from shopsync.store import table
from shopsync.store.aws import dynamodb_client

CHILDREN = ("eu-child", "uk-child")


def test_seeded_products_are_members_the_refresh_keeps_and_the_sync_lists_everywhere():
    now = utc_now()
    with sandbox() as box:
        product_ids = seed_preorder_products(box.shopify.emulator, "us-parent", CHILDREN, 5, quantity=30, now=now)
        for product_id in product_ids:
            state = presell_store.product_state(product_id)
            decision = decide(product_id, state.membership, state.po_items, inventory=None, today=now.date(), now=now)
            assert (decision.action, decision.membership) == (Action.KEEP, state.membership)
            assert state.membership is not None and state.membership.po_atp == 30
        report = sync_products(product_ids, now=now, time_left_s=lambda: 60.0)
    assert report.failed == {}
    assert len(report.pushed) == 15


def test_partition_queries_answer_as_moto_does():
    with sandbox() as box:
        product_ids = seed_preorder_products(box.shopify.emulator, "us-parent", CHILDREN, 3, quantity=30, now=utc_now())
        queries = [
            ("PK = :pk", {":pk": f"PRODUCT#{product_ids[1]}"}, None, None),
            ("PK = :pk AND begins_with(SK, :sk)", {":pk": f"PRODUCT#{product_ids[1]}", ":sk": "SHOP#"}, None, 2),
            ("PK = :pk", {":pk": "PRODUCT#absent"}, None, None),
            ("GSI1PK = :pk", {":pk": presell_store.MEMBERS_INDEX_PK}, "GSI1", None),
        ]
        expected = [list(table.query(c, v, index=i, limit=n)) for c, v, i, n in queries] + [_pages(product_ids[2])]
        with partition_queries():
            answers = [list(table.query(c, v, index=i, limit=n)) for c, v, i, n in queries] + [_pages(product_ids[2])]
    assert answers == expected
    assert len(expected[0]) == 6 and len(expected[1]) == 2 and expected[2] == [] and len(expected[4]) == 3


def _pages(product_id: str) -> list[dict[str, Any]]:
    """moto's own paging: pages of 2, backwards, each from the last key."""
    kwargs: dict[str, Any] = {
        "TableName": get_settings().table_name,
        "KeyConditionExpression": "PK = :pk",
        "ExpressionAttributeValues": {":pk": {"S": f"PRODUCT#{product_id}"}},
        "ScanIndexForward": False,
        "Limit": 2,
    }
    pages = [dynamodb_client().query(**kwargs)]
    while "LastEvaluatedKey" in pages[-1]:
        pages.append(dynamodb_client().query(**kwargs, ExclusiveStartKey=pages[-1]["LastEvaluatedKey"]))
    return [{key: page.get(key) for key in ("Items", "LastEvaluatedKey")} for page in pages]

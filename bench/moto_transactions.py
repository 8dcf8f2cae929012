"""moto's TransactWriteItems deep-copies the whole table (once per item of the transaction) to roll back on a failure,
so each transaction costs O(table) and a benchmark that writes thousands of orders measures moto's copying, not
shopsync (real DynamoDB's cost is per item). This keeps moto's semantics with a per-item snapshot instead: only the
items the transaction names are copied, and put back if it fails."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any
from unittest import mock

from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table

Snapshot = tuple[Table, DynamoType, DynamoType | None, Any]


def _table_left_as_is(value: Any, memo: dict[int, Any] | None = None) -> Any:
    """moto's whole-table snapshot becomes the table itself; the items are snapshotted by `_snapshot`."""
    return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def _snapshot(backend: Any, transact_items: list[dict[str, Any]]) -> list[Snapshot]:
    snapshots: list[Snapshot] = []
    for item in transact_items:
        ((_, operation),) = item.items()
        table = backend.tables.get(operation.get("TableName"))
        if table is None:
            continue  # moto reports the unknown table itself
        key = operation.get("Key") or operation.get("Item") or {}
        if table.hash_key_attr not in key:
            continue
        hash_value = DynamoType(key[table.hash_key_attr])
        range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
        snapshots.append((table, hash_value, range_value, copy.deepcopy(table.get_item(hash_value, range_value))))
    return snapshots


def _restore(snapshots: list[Snapshot]) -> None:
    for table, hash_value, range_value, before in reversed(snapshots):
        if before is None:
            if table.get_item(hash_value, range_value) is not None:
                table.delete_item(hash_value, range_value)
        elif table.range_key_attr:
            table.items[hash_value][range_value] = before
        else:
            table.items[hash_value] = before


@contextmanager
def per_item_transaction_snapshots() -> Iterator[None]:
    original = dynamodb_models.DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        snapshots = _snapshot(self, transact_items)
        try:
            original(self, transact_items)
        except BaseException:
            _restore(snapshots)
            raise

    shim = SimpleNamespace(deepcopy=_table_left_as_is, copy=copy.copy)
    with (
        mock.patch.object(dynamodb_models, "copy", shim),
        mock.patch.object(dynamodb_models.DynamoDBBackend, "transact_write_items", transact_write_items),
    ):
        yield

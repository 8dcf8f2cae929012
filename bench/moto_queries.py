"""moto answers a Query on the table by sorting every item of the table and keeping the queried partition, so each
query costs O(table log table): at 10k products a sync's one query per product measured moto's sorting, not
shopsync (real DynamoDB reads the partition only). This hands moto's query that partition alone; what it returns is
the same, as it keeps only the partition's items anyway. Index queries are left as they are."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table


@contextmanager
def partition_queries() -> Iterator[None]:
    original = Table.query

    def query(self: Table, hash_key: DynamoType | None, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        if index_name or hash_key is None or not self.range_key_attr:
            return original(self, hash_key, *args, **kwargs)
        partition = list(self.items[hash_key].values()) if hash_key in self.items else []
        with mock.patch.object(self, "all_items", lambda: partition):
            return original(self, hash_key, *args, **kwargs)

    with mock.patch.object(Table, "query", query):
        yield

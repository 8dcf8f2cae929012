"""The single table: typed helpers over the DynamoDB client, python values in and out."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from shopsync.settings import get_settings
from shopsync.store.aws import dynamodb_client

Item = dict[str, Any]
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()
BATCH_WRITE_LIMIT = 25  # DynamoDB's limit; moto accepts more, so we enforce it here
TRANSACTION_LIMIT = 100


class ConditionFailed(Exception):
    """A conditional write lost; `item` is the current item when DynamoDB returned it."""

    def __init__(self, item: Item | None = None) -> None:
        super().__init__("conditional check failed")
        self.item = item


class TransactionConflict(Exception):
    def __init__(self, reasons: list[str]) -> None:
        super().__init__(f"transaction cancelled: {reasons}")
        self.reasons = reasons


def _to_dynamo_value(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, Mapping):
        return {k: _to_dynamo_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_dynamo_value(v) for v in value]
    return value


def _from_dynamo_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_dynamo_value(v) for v in value]
    if isinstance(value, set):
        return {_from_dynamo_value(v) for v in value}
    return value


def serialize(item: Mapping[str, Any]) -> dict[str, Any]:
    """Top-level None attributes are left out (an index key must never be NULL); nested ones are kept."""
    return {k: _serializer.serialize(_to_dynamo_value(v)) for k, v in item.items() if v is not None}


def deserialize(raw: Mapping[str, Any]) -> Item:
    return {k: _from_dynamo_value(_deserializer.deserialize(v)) for k, v in raw.items()}


def _values(values: Mapping[str, Any] | None) -> dict[str, Any]:
    return {} if not values else {k: _serializer.serialize(_to_dynamo_value(v)) for k, v in values.items()}


def _conditional_kwargs(
    condition: str | None, names: Mapping[str, str] | None, values: Mapping[str, Any] | None
) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    if condition:
        kwargs["ConditionExpression"] = condition
    if names:
        kwargs["ExpressionAttributeNames"] = dict(names)
    if values:
        kwargs["ExpressionAttributeValues"] = _values(values)
    return kwargs


def _item_on_failure(error: ClientError) -> Item | None:
    raw: Any = error.response.get("Item")
    return deserialize(raw) if raw else None


def _table() -> str:
    return get_settings().table_name


def _is_condition_failure(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def get_item(pk: str, sk: str, *, consistent: bool = True) -> Item | None:
    response = dynamodb_client().get_item(
        TableName=_table(), Key=serialize({"PK": pk, "SK": sk}), ConsistentRead=consistent
    )
    raw = response.get("Item")
    return deserialize(raw) if raw else None


def put_item(
    item: Mapping[str, Any],
    *,
    condition: str | None = None,
    names: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
) -> Item | None:
    """Writes the item; returns the item it replaced, if any."""
    try:
        response = dynamodb_client().put_item(
            TableName=_table(),
            Item=serialize(item),
            ReturnValues="ALL_OLD",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
            **_conditional_kwargs(condition, names, values),
        )
    except ClientError as error:
        if _is_condition_failure(error):
            raise ConditionFailed(_item_on_failure(error)) from error
        raise
    old = response.get("Attributes")
    return deserialize(old) if old else None


def update_item(
    pk: str,
    sk: str,
    *,
    update: str,
    names: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
    condition: str | None = None,
) -> Item:
    try:
        response = dynamodb_client().update_item(
            TableName=_table(),
            Key=serialize({"PK": pk, "SK": sk}),
            UpdateExpression=update,
            ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
            **_conditional_kwargs(condition, names, values),
        )
    except ClientError as error:
        if _is_condition_failure(error):
            raise ConditionFailed(_item_on_failure(error)) from error
        raise
    return deserialize(response.get("Attributes", {}))


def delete_item(pk: str, sk: str, *, condition: str | None = None, values: Mapping[str, Any] | None = None) -> None:
    try:
        dynamodb_client().delete_item(
            TableName=_table(), Key=serialize({"PK": pk, "SK": sk}), **_conditional_kwargs(condition, None, values)
        )
    except ClientError as error:
        if _is_condition_failure(error):
            raise ConditionFailed() from error
        raise


def query(
    key_condition: str,
    values: Mapping[str, Any],
    *,
    index: str | None = None,
    names: Mapping[str, str] | None = None,
    filter_expression: str | None = None,
    forward: bool = True,
    limit: int | None = None,
) -> Iterator[Item]:
    """Every matching item, following LastEvaluatedKey; stops after `limit` items when given."""
    kwargs: dict[str, Any] = {
        "TableName": _table(),
        "KeyConditionExpression": key_condition,
        "ExpressionAttributeValues": _values(values),
        "ScanIndexForward": forward,
    }
    if index:
        kwargs["IndexName"] = index
    if names:
        kwargs["ExpressionAttributeNames"] = dict(names)
    if filter_expression:
        kwargs["FilterExpression"] = filter_expression
    yielded = 0
    while True:
        response = dynamodb_client().query(**kwargs)
        for raw in response.get("Items", []):
            yield deserialize(raw)
            yielded += 1
            if limit is not None and yielded >= limit:
                return
        last_key = response.get("LastEvaluatedKey")
        if not last_key:
            return
        kwargs["ExclusiveStartKey"] = last_key


def query_partition(pk: str, sk_prefix: str | None = None) -> list[Item]:
    if sk_prefix is None:
        return list(query("PK = :pk", {":pk": pk}))
    return list(query("PK = :pk AND begins_with(SK, :prefix)", {":pk": pk, ":prefix": sk_prefix}))


def batch_get(keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Item]:
    """Items by (PK, SK), read consistently (callers read-modify-write them); missing keys are absent from the
    result. Retries unprocessed keys."""
    wanted = list(dict.fromkeys(keys))
    found: dict[tuple[str, str], Item] = {}
    for start in range(0, len(wanted), 100):
        request: dict[str, Any] = {
            _table(): {
                "Keys": [serialize({"PK": pk, "SK": sk}) for pk, sk in wanted[start : start + 100]],
                "ConsistentRead": True,
            }
        }
        while request:
            response = dynamodb_client().batch_get_item(RequestItems=request)
            for raw in response.get("Responses", {}).get(_table(), []):
                item = deserialize(raw)
                found[(item["PK"], item["SK"])] = item
            request = dict(response.get("UnprocessedKeys") or {})
    return found


def batch_write(puts: Iterable[Mapping[str, Any]] = (), deletes: Iterable[tuple[str, str]] = ()) -> int:
    """Unconditional puts and deletes in chunks of 25, retrying unprocessed items. Returns the request count."""
    requests: list[dict[str, Any]] = [{"PutRequest": {"Item": serialize(item)}} for item in puts]
    requests += [{"DeleteRequest": {"Key": serialize({"PK": pk, "SK": sk})}} for pk, sk in deletes]
    calls = 0
    for start in range(0, len(requests), BATCH_WRITE_LIMIT):
        pending: dict[str, Any] = {_table(): requests[start : start + BATCH_WRITE_LIMIT]}
        while pending:
            calls += 1
            response = dynamodb_client().batch_write_item(RequestItems=pending)
            pending = dict(response.get("UnprocessedItems") or {})
    return calls


def transact_write(operations: list[dict[str, Any]]) -> None:
    """Operations in TransactWriteItems shape with python values: {"Put": {"Item": {...}, "ConditionExpression"...}}."""
    if len(operations) > TRANSACTION_LIMIT:
        raise ValueError(f"a transaction holds at most {TRANSACTION_LIMIT} operations")
    wire: list[dict[str, Any]] = []
    for operation in operations:
        ((kind, spec),) = operation.items()
        body = dict(spec)
        body["TableName"] = _table()
        if "Item" in body:
            body["Item"] = serialize(body["Item"])
        if "Key" in body:
            body["Key"] = serialize(body["Key"])
        if "ExpressionAttributeValues" in body:
            body["ExpressionAttributeValues"] = _values(body["ExpressionAttributeValues"])
        wire.append({kind: body})
    try:
        dynamodb_client().transact_write_items(TransactItems=wire)  # type: ignore[arg-type]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "TransactionCanceledException":
            cancellations: Any = error.response.get("CancellationReasons", [])
            reasons = [r.get("Code", "") for r in cancellations]
            raise TransactionConflict(reasons) from error
        raise

"""The template's tables, queues and topics, created in moto, and the names !Ref / !GetAtt give them locally.

Physical names follow CloudFormation's pattern without the random suffix: <stack>-<LogicalId>, the stack
being shopsync-<Environment>. Functions keep their logical id as name (the Lambda invoke shim knows them so).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import boto3

from local.template import LOCAL_ACCOUNT_ID, LOCAL_REGION, SamTemplate, TemplateError, function_arn, local_stack_name

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import CreateTableInputTypeDef, TableDescriptionTypeDef

# Queue properties with a local meaning (encryption, tags and policies have none in moto).
_QUEUE_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "FifoQueue",
    "ContentBasedDeduplication",
)


class LocalResources:
    """Implements `ResourceNames` for the local stack once `create()` has run."""

    def __init__(self, template: SamTemplate) -> None:
        self._template = template
        self._stack_name = local_stack_name(template)
        self._attributes: dict[str, dict[str, str]] = {}  # logical id → Ref and attribute values

    def physical_name(self, logical_id: str) -> str:
        return f"{self._stack_name}-{logical_id}"

    def create(self) -> None:
        for logical_id, properties in self._template.tables().items():
            self._create_table(logical_id, properties)
        for logical_id, properties in self._template.queues().items():
            self._create_queue(logical_id, properties)
        for logical_id in self._template.topics():
            arn = boto3.client("sns").create_topic(Name=self.physical_name(logical_id))["TopicArn"]
            self._attributes[logical_id] = {"Ref": arn, "TopicArn": arn, "TopicName": self.physical_name(logical_id)}
        for logical_id in self._template.functions():
            self._attributes[logical_id] = {"Ref": logical_id, "Arn": function_arn(logical_id)}
        create_schedules(self._template, scheduler_role_arn=self._scheduler_role_arn())

    def _scheduler_role_arn(self) -> str:
        return f"arn:aws:iam::{LOCAL_ACCOUNT_ID}:role/{self._stack_name}-scheduler"

    @property
    def stream_arns(self) -> dict[str, str]:
        """Table logical id → stream ARN, for tables with a stream."""
        return {
            logical_id: attributes["StreamArn"]
            for logical_id, attributes in self._attributes.items()
            if "StreamArn" in attributes
        }

    def ref(self, logical_id: str) -> str:
        return self._attribute(logical_id, "Ref")

    def get_att(self, logical_id: str, attribute: str) -> str:
        return self._attribute(logical_id, attribute)

    def _attribute(self, logical_id: str, attribute: str) -> str:
        try:
            return self._attributes[logical_id][attribute]
        except KeyError:
            kind = self._template.resource_type(logical_id)
            raise TemplateError(
                f"{logical_id} ({kind}) has no local {attribute}; only tables, queues, "
                "topics and functions are created locally"
            ) from None

    def _create_table(self, logical_id: str, properties: Mapping[str, Any]) -> None:
        name = self.physical_name(logical_id)
        description = create_table(name, properties)
        self._attributes[logical_id] = {"Ref": name, "Arn": description["TableArn"]}
        if "LatestStreamArn" in description:
            self._attributes[logical_id]["StreamArn"] = description["LatestStreamArn"]

    def _create_queue(self, logical_id: str, properties: Mapping[str, Any]) -> None:
        name = str(properties.get("QueueName") or self.physical_name(logical_id))
        if properties.get("FifoQueue") and not name.endswith(".fifo"):
            name += ".fifo"
        attributes = {key: _attribute_text(properties[key]) for key in _QUEUE_ATTRIBUTES if key in properties}
        url = boto3.client("sqs").create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]  # type: ignore[arg-type]
        arn = f"arn:aws:sqs:{LOCAL_REGION}:{LOCAL_ACCOUNT_ID}:{name}"
        self._attributes[logical_id] = {"Ref": url, "QueueUrl": url, "Arn": arn, "QueueName": name}


def create_table(table_name: str, properties: Mapping[str, Any]) -> TableDescriptionTypeDef:
    """A table from its template properties (keys, indexes, billing, stream, TTL) under the current endpoint."""
    client = boto3.client("dynamodb")
    request: CreateTableInputTypeDef = {
        "TableName": table_name,
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "KeySchema": properties["KeySchema"],
        "BillingMode": properties.get("BillingMode", "PROVISIONED"),
    }
    if request["BillingMode"] == "PROVISIONED":
        request["ProvisionedThroughput"] = properties["ProvisionedThroughput"]
    for index_kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if index_kind in properties:
            request[index_kind] = properties[index_kind]
    stream = properties.get("StreamSpecification")
    if stream:
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    description = client.create_table(**request)["TableDescription"]
    ttl = properties.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        # moto stores the setting but never expires items: TTL logic is tested in our own code.
        client.update_time_to_live(
            TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]}
        )
    return description


def create_schedules(template: SamTemplate, *, scheduler_role_arn: str) -> list[str]:
    """The named ScheduleV2 events as EventBridge Scheduler schedules under the current endpoint (what SAM deploys),
    so the API and the local scheduler read and change the same schedule. Returns their names."""
    client = boto3.client("scheduler")
    names = []
    for spec in template.functions().values():
        for event in spec.schedules:
            if event.schedule_name is None:
                continue
            target: dict[str, Any] = {"Arn": function_arn(spec.logical_id), "RoleArn": scheduler_role_arn}
            if event.input is not None:
                target["Input"] = event.input
            client.create_schedule(
                Name=event.schedule_name,
                ScheduleExpression=event.expression,
                ScheduleExpressionTimezone=event.timezone,
                State="ENABLED" if event.enabled else "DISABLED",
                FlexibleTimeWindow={"Mode": "OFF"},
                Target=target,  # type: ignore[arg-type]
            )
            names.append(event.schedule_name)
    return names


def _attribute_text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)

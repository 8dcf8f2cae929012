"""template.yaml guard rails: every function observable, every async path bounded and alarmed, IAM tight."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.template import TEMPLATE_PATH, SamTemplate, load_document

DOCUMENT = load_document()
RESOURCES: dict[str, Any] = DOCUMENT["Resources"]
TEMPLATE = SamTemplate(DOCUMENT)
FUNCTIONS = [logical_id for logical_id, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function"]
EVENTS_DIR = TEMPLATE_PATH.parent / "events"


def _of_type(resource_type: str) -> dict[str, dict[str, Any]]:
    return {lid: r.get("Properties", {}) for lid, r in RESOURCES.items() if r["Type"] == resource_type}


def _events(event_type: str) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (function, name, event["Properties"])
        for function in FUNCTIONS
        for name, event in RESOURCES[function]["Properties"].get("Events", {}).items()
        if event["Type"] == event_type
    ]


def _referenced_id(value: Any) -> str:
    if "Ref" in value:
        return str(value["Ref"])
    return str(value["Fn::GetAtt"][0])


def _alarms() -> dict[str, dict[str, Any]]:
    return _of_type("AWS::CloudWatch::Alarm")


def _alarmed(namespace: str, metric_name: str, dimension: dict[str, Any]) -> list[str]:
    return [
        alarm_id
        for alarm_id, alarm in _alarms().items()
        if (alarm.get("Namespace"), alarm.get("MetricName")) == (namespace, metric_name)
        and dimension in alarm["Dimensions"]
    ]


def _assert_queue_alarmed(queue_reference: Any) -> None:
    queue_id = _referenced_id(queue_reference)
    assert RESOURCES[queue_id]["Type"] == "AWS::SQS::Queue"
    dimension = {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}
    assert _alarmed("AWS/SQS", "ApproximateNumberOfMessagesVisible", dimension), f"no depth alarm on {queue_id}"


def _async_invoked_functions() -> set[str]:
    """Functions something invokes asynchronously: schedules, and other functions' lambda:InvokeFunction."""
    scheduled = {function for function, _, _ in _events("ScheduleV2") + _events("Schedule")}
    invoked = {
        _referenced_id(statement["Resource"])
        for statement in _policy_statements()
        if statement.get("Action") == "lambda:InvokeFunction"
    }
    return scheduled | invoked


def _policy_statements() -> Iterator[dict[str, Any]]:
    for function in FUNCTIONS:
        for policy in RESOURCES[function]["Properties"].get("Policies", []):
            if isinstance(policy, dict) and "Statement" in policy:
                yield from policy["Statement"]
    for properties in _of_type("AWS::IAM::Role").values():
        for policy in properties.get("Policies", []):
            yield from policy["PolicyDocument"]["Statement"]
    for properties in _of_type("AWS::IAM::Policy").values():
        yield from properties["PolicyDocument"]["Statement"]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_function_has_a_log_group_with_retention(function: str) -> None:
    # Given the template's log groups
    groups = _of_type("AWS::Logs::LogGroup").values()
    # Then the function's own group exists and expires
    matching = [g for g in groups if g["LogGroupName"] == {"Fn::Sub": f"/aws/lambda/${{{function}}}"}]
    assert len(matching) == 1
    assert matching[0]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_function_alarms_on_errors_and_throttles(function: str) -> None:
    dimension = {"Name": "FunctionName", "Value": {"Ref": function}}
    assert _alarmed("AWS/Lambda", "Errors", dimension)
    assert _alarmed("AWS/Lambda", "Throttles", dimension)


def test_every_alarm_notifies_the_alerts_topic() -> None:
    for alarm_id, alarm in _alarms().items():
        assert {"Ref": "AlertsTopic"} in alarm["AlarmActions"], alarm_id


@pytest.mark.parametrize(("function", "event", "properties"), _events("ScheduleV2") + _events("Schedule"))
def test_schedules_have_a_retry_cap_and_an_alarmed_dead_letter_queue(
    function: str, event: str, properties: dict[str, Any]
) -> None:
    assert 0 <= properties["RetryPolicy"]["MaximumRetryAttempts"] <= 5
    _assert_queue_alarmed(properties["DeadLetterConfig"]["Arn"])


@pytest.mark.parametrize("function", sorted(_async_invoked_functions()))
def test_async_invoked_functions_have_retry_cap_and_alarmed_on_failure(function: str) -> None:
    config = RESOURCES[function]["Properties"]["EventInvokeConfig"]
    assert config["MaximumRetryAttempts"] in {0, 1, 2}
    on_failure = config["DestinationConfig"]["OnFailure"]
    assert on_failure["Type"] == "SQS"
    _assert_queue_alarmed(on_failure["Destination"])


@pytest.mark.parametrize(("function", "event", "properties"), _events("DynamoDB"))
def test_stream_mappings_are_bounded_bisected_partial_and_alarmed(
    function: str, event: str, properties: dict[str, Any]
) -> None:
    assert 0 <= properties["MaximumRetryAttempts"] <= 10
    assert properties["BisectBatchOnFunctionError"] is True
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert properties["FilterCriteria"]["Filters"], "listing-state writes must not re-trigger the stream consumer"
    _assert_queue_alarmed(properties["DestinationConfig"]["OnFailure"]["Destination"])


def test_no_iam_statement_allows_every_action_or_every_resource() -> None:
    statements = list(_policy_statements())
    assert statements
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert "*" not in actions and not any(action.endswith(":*") for action in actions), statement
        assert statement["Resource"] != "*", statement


def test_api_is_iam_authorised_by_default() -> None:
    apis = _of_type("AWS::Serverless::Api")
    assert apis
    for properties in apis.values():
        assert properties["Auth"]["DefaultAuthorizer"] == "AWS_IAM"
    for _, _, properties in _events("Api"):
        assert _referenced_id(properties["RestApiId"]) in apis
        authorizer = properties.get("Auth", {}).get("Authorizer", "AWS_IAM")
        # Only Shopify's webhook route is open (it is authenticated by its HMAC signature instead).
        assert authorizer == "AWS_IAM" or properties["Path"].startswith("/webhooks/")


def test_table_matches_the_data_model() -> None:
    table = RESOURCES["Table"]["Properties"]
    assert table["KeySchema"] == [
        {"AttributeName": "PK", "KeyType": "HASH"},
        {"AttributeName": "SK", "KeyType": "RANGE"},
    ]
    (gsi,) = table["GlobalSecondaryIndexes"]
    assert gsi["IndexName"] == "GSI1" and gsi["Projection"] == {"ProjectionType": "ALL"}
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert table["SSESpecification"]["SSEEnabled"] is True
    assert RESOURCES["Table"]["DeletionPolicy"] == "Retain"


def test_every_function_gets_the_shared_environment() -> None:
    for spec in TEMPLATE.functions().values():
        assert spec.environment["TABLE_NAME"] == {"Ref": "Table"}
        expected = {"ENVIRONMENT", "SHOPIFY_API_VERSION", "POWERTOOLS_SERVICE_NAME", "LOG_LEVEL"}
        assert expected <= set(spec.environment)
    assert TEMPLATE.function("ApiFunction").environment["PRODUCT_IMPORT_FUNCTION"] == {"Ref": "ProductImportFunction"}


def test_handlers_point_at_modules_in_the_repository() -> None:
    for spec in TEMPLATE.functions().values():
        module_file = TEMPLATE_PATH.parent / Path(*spec.module.split(".")).with_suffix(".py")
        assert module_file.is_file(), f"{spec.logical_id}: {module_file} is missing"
        assert spec.attribute == "lambda_handler"


def test_local_loader_reads_schedules_and_async_settings_from_the_template() -> None:
    spec = TEMPLATE.function("ProductImportFunction")
    (schedule,) = spec.schedules
    assert schedule.expression == "rate(15 minutes)"
    assert json.loads(schedule.input or "") == {"source": "schedule"}
    assert spec.timeout_seconds == 900
    assert spec.async_config.on_failure_queue_logical_id == "OnFailureQueue"
    assert TEMPLATE.function("ApiFunction").api_routes[0].path == "/{proxy+}"


@pytest.mark.parametrize("event_file", sorted(EVENTS_DIR.glob("*.json")), ids=lambda path: path.name)
def test_sample_events_are_json(event_file: Path) -> None:
    assert isinstance(json.loads(event_file.read_text()), dict)

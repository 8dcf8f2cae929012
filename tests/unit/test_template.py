"""template.yaml guard rails: every function observable, every async path bounded and alarmed, IAM tight."""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.event_filter import compile_filters
from local.scheduler import ScheduledFunction
from local.template import TEMPLATE_PATH, SamTemplate, load_document
from shopsync.models.jobs import JobName

DOCUMENT = load_document()
RESOURCES: dict[str, Any] = DOCUMENT["Resources"]
TEMPLATE = SamTemplate(DOCUMENT)
FUNCTIONS = [logical_id for logical_id, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function"]
EVENTS_DIR = TEMPLATE_PATH.parent / "events"

# The job Lambdas (each run goes through shopsync.jobs.runner, which emits JobSucceeded / JobFailures).
JOB_FUNCTIONS = {
    "ProductImportFunction": JobName.PRODUCT_IMPORT,
    "AssociationFunction": JobName.ASSOCIATION,
    "CatalogRefreshFunction": JobName.CATALOG_REFRESH,
    "PreorderSweepFunction": JobName.PREORDER_SWEEP,
    "OrderImportFunction": JobName.ORDER_IMPORT,
}
# What the runner's Powertools Metrics emit: namespace and the default `service` dimension.
METRICS_NAMESPACE = "ShopSync"
SERVICE = "shopsync"


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
        _referenced_id(resource)
        for statement in _policy_statements()
        if statement.get("Action") == "lambda:InvokeFunction"
        for resource in (statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]])
    }
    return scheduled | invoked


def _job_alarms(job: JobName, metric_name: str) -> list[dict[str, Any]]:
    dimensions = [{"Name": "job", "Value": job.value}, {"Name": "service", "Value": SERVICE}]
    return [
        alarm
        for alarm in _alarms().values()
        if (alarm.get("Namespace"), alarm.get("MetricName")) == (METRICS_NAMESPACE, metric_name)
        and sorted(alarm["Dimensions"], key=lambda d: d["Name"]) == dimensions
    ]


def _shortest_schedule_seconds(function: str) -> int:
    rates = [
        parsed.rate_seconds
        for schedule in TEMPLATE.function(function).schedules
        if (parsed := ScheduledFunction.parse(function, schedule)).rate_seconds is not None
    ]
    assert rates, f"{function} has no rate schedule"
    return min(rates)


def _stream_record(event_name: str, pk: str, sk: str) -> dict[str, Any]:
    """A stream record as Lambda's filter sees it (keys in DynamoDB JSON)."""
    keys = {"PK": {"S": pk}, "SK": {"S": sk}}
    images: dict[str, Any] = {}
    if event_name != "REMOVE":
        images["NewImage"] = {**keys, "type": {"S": "X"}}
    if event_name != "INSERT":
        images["OldImage"] = {**keys, "type": {"S": "X"}}
    return {
        "eventName": event_name,
        "eventSource": "aws:dynamodb",
        "dynamodb": {"Keys": keys, **images, "SequenceNumber": "1", "StreamViewType": "NEW_AND_OLD_IMAGES"},
    }


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
    # And a stream that falls behind (a poison batch being retried) alarms within minutes
    dimension = {"Name": "FunctionName", "Value": {"Ref": function}}
    (alarm_id,) = _alarmed("AWS/Lambda", "IteratorAge", dimension)
    alarm = _alarms()[alarm_id]
    assert alarm["Statistic"] == "Maximum" and alarm["Threshold"] <= 60_000  # milliseconds


def _preorder_filter() -> Any:
    (stream,) = TEMPLATE.function("PreorderSyncFunction").streams
    return compile_filters(stream.filter_patterns)


@pytest.mark.parametrize(
    ("event_name", "pk", "sk"),
    [
        ("INSERT", "PRODUCT#10001", "SHOP#eu-child"),  # association created: list the product there
        ("REMOVE", "PRODUCT#10001", "SHOP#eu-child"),  # association deleted: delist it there
        ("MODIFY", "PRODUCT#10001", "SHOP#uk-child"),
        ("INSERT", "PRODUCT#10001", "MEMBERSHIP"),  # joins the pre-sell catalog
        ("MODIFY", "PRODUCT#10001", "MEMBERSHIP"),  # promise date / type changed
        ("REMOVE", "PRODUCT#10001", "MEMBERSHIP"),
        ("MODIFY", "PRODUCT#10001", "POITEM#PO-1#1"),  # PO quantity or arrival date changed
        ("INSERT", "PRODUCT#10001", "POITEM#PO-2#7"),
    ],
)
def test_preorder_stream_filter_passes_what_changes_a_listing(event_name: str, pk: str, sk: str) -> None:
    assert _preorder_filter()(_stream_record(event_name, pk, sk))


@pytest.mark.parametrize(
    ("event_name", "pk", "sk"),
    [
        ("MODIFY", "PRODUCT#10001", "LISTING#eu-child"),  # preorder-sync's own listing state
        ("INSERT", "PRODUCT#10001", "LISTING#eu-child"),
        ("MODIFY", "TAGS#eu-child#gid://shopify/Product/7001", "TAGS"),  # its tag ledger
        ("INSERT", "TAGS#uk-child#gid://shopify/Product/7002", "TAGS"),
        ("MODIFY", "PRODUCT#10001", "DETAIL"),  # product import
        ("MODIFY", "RUN#association#20261204T050000Z#ab12", "RUN"),  # job run records
        ("INSERT", "JOB#association#eu-child", "LEASE"),
        ("MODIFY", "JOB#association#eu-child", "WATERMARK"),
        ("INSERT", "SHOP#eu-child", "CONFIG"),  # a shop config: the SK-only match must not pass
        ("INSERT", "IDENT#SKU#ABC-1", "PRODUCT#10001"),
        ("INSERT", "REFRESH#3", "PRODUCT#10001"),
        ("MODIFY", "PO#PO-1", "ITEM#1"),  # PO line lookup (the PRODUCT# PO item is what counts)
    ],
)
def test_preorder_stream_filter_drops_its_own_writes_and_unrelated_items(event_name: str, pk: str, sk: str) -> None:
    assert not _preorder_filter()(_stream_record(event_name, pk, sk))


def test_preorder_stream_sample_event_passes_the_filter() -> None:
    (record,) = json.loads((EVENTS_DIR / "preorder_sync_stream.json").read_text())["Records"]
    assert record["eventName"] == "INSERT" and record["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert _preorder_filter()(record)


def test_job_functions_cover_every_job_the_runner_knows() -> None:
    assert set(JOB_FUNCTIONS.values()) == set(JobName)
    assert set(JOB_FUNCTIONS) <= set(FUNCTIONS)
    variables = DOCUMENT["Globals"]["Function"]["Environment"]["Variables"]
    assert (variables["POWERTOOLS_METRICS_NAMESPACE"], variables["POWERTOOLS_SERVICE_NAME"]) == (
        METRICS_NAMESPACE,
        SERVICE,
    )


@pytest.mark.parametrize(("function", "job"), JOB_FUNCTIONS.items())
def test_every_job_alarms_when_it_has_not_succeeded_within_twice_its_period(function: str, job: JobName) -> None:
    # Given the job's shortest schedule period
    window = 2 * _shortest_schedule_seconds(function)
    # Then an alarm fires when no run succeeded in every period of that window, a silent job included
    (alarm,) = _job_alarms(job, "JobSucceeded")
    assert (alarm["Statistic"], alarm["ComparisonOperator"], alarm["Threshold"]) == ("Sum", "LessThanThreshold", 1)
    assert alarm["TreatMissingData"] == "breaching"
    assert alarm["EvaluationPeriods"] == alarm.get("DatapointsToAlarm", alarm["EvaluationPeriods"])
    assert alarm["Period"] * alarm["EvaluationPeriods"] == window
    assert alarm["Period"] <= _shortest_schedule_seconds(function)


@pytest.mark.parametrize(("function", "job"), JOB_FUNCTIONS.items())
def test_every_job_alarms_on_a_failed_run(function: str, job: JobName) -> None:
    (alarm,) = _job_alarms(job, "JobFailures")
    assert (alarm["Statistic"], alarm["ComparisonOperator"], alarm["Threshold"]) == ("Sum", "GreaterThanThreshold", 0)
    assert alarm["TreatMissingData"] == "notBreaching"


def test_dashboard_shows_jobs_errors_stream_lag_and_the_on_failure_queue() -> None:
    (dashboard,) = _of_type("AWS::CloudWatch::Dashboard").values()
    body = dashboard["DashboardBody"]["Fn::Sub"]
    for function in FUNCTIONS:
        assert f'"Errors", "FunctionName", "${{{function}}}"' in body, function
    for job in JOB_FUNCTIONS.values():
        assert f'"JobSucceeded", "job", "{job.value}"' in body and f'"JobFailures", "job", "{job.value}"' in body
    for function, _, _ in _events("DynamoDB"):
        assert f'"IteratorAge", "FunctionName", "${{{function}}}"' in body
    assert '"ApproximateNumberOfMessagesVisible", "QueueName", "${OnFailureQueue.QueueName}"' in body
    # And the body is valid JSON once CloudFormation has substituted the names
    resolved = TEMPLATE.resolve(dashboard["DashboardBody"], _StubNames())
    assert json.loads(resolved)["widgets"]


class _StubNames:
    def ref(self, logical_id: str) -> str:
        return f"{logical_id}-physical"

    def get_att(self, logical_id: str, attribute: str) -> str:
        return f"{logical_id}-{attribute}"


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


def test_handlers_point_at_functions_defined_in_the_repository() -> None:
    for spec in TEMPLATE.functions().values():
        module_file = TEMPLATE_PATH.parent / Path(*spec.module.split(".")).with_suffix(".py")
        assert module_file.is_file(), f"{spec.logical_id}: {module_file} is missing"
        defined = {node.name for node in ast.parse(module_file.read_text()).body if isinstance(node, ast.FunctionDef)}
        assert spec.attribute in defined, f"{spec.logical_id}: {spec.module} defines no {spec.attribute}"


def test_api_can_run_every_job_now() -> None:
    # Given the API's environment and its invoke permission
    api = RESOURCES["ApiFunction"]["Properties"]
    variables = api["Environment"]["Variables"]
    (statement,) = [s for s in _policy_statements() if s.get("Action") == "lambda:InvokeFunction"]
    # Then every job Lambda is named to it (shopsync.settings) and invocable by it, and nothing else is
    for function, job in JOB_FUNCTIONS.items():
        variable = job.value.upper().replace("-", "_") + "_FUNCTION"
        assert variables[variable] == {"Ref": function}
    assert {_referenced_id(resource) for resource in statement["Resource"]} == set(JOB_FUNCTIONS)


def test_local_loader_reads_schedules_and_async_settings_from_the_template() -> None:
    spec = TEMPLATE.function("ProductImportFunction")
    (schedule,) = spec.schedules
    assert schedule.expression == "rate(15 minutes)"
    assert json.loads(schedule.input or "") == {"source": "schedule"}
    assert spec.timeout_seconds == 900
    assert spec.async_config.on_failure_queue_logical_id == "OnFailureQueue"
    assert TEMPLATE.function("ApiFunction").api_routes[0].path == "/{proxy+}"


def test_local_loader_reads_the_new_jobs_and_the_stream_consumer() -> None:
    refresh = {s.expression: json.loads(s.input or "") for s in TEMPLATE.function("CatalogRefreshFunction").schedules}
    assert refresh == {
        "rate(15 minutes)": {"source": "schedule", "params": {"mode": "incremental"}},
        "cron(7 3 * * ? *)": {"source": "schedule", "params": {"mode": "full"}},
    }
    sweep = TEMPLATE.function("PreorderSweepFunction")
    assert (sweep.module, sweep.attribute) == ("functions.preorder_sync.app", "sweep_handler")
    (stream,) = TEMPLATE.function("PreorderSyncFunction").streams
    assert (stream.table_logical_id, stream.starting_position, stream.batch_size) == ("Table", "TRIM_HORIZON", 100)
    assert (stream.maximum_retry_attempts, stream.bisect_on_error, stream.report_batch_item_failures) == (5, True, True)
    assert stream.on_failure_queue_logical_id == "OnFailureQueue"


# events/ samples of the scheduled triggers are exactly what the schedule sends.
SCHEDULE_SAMPLES = {
    "product_import_schedule.json": ("ProductImportFunction", "rate(15 minutes)"),
    "association_schedule.json": ("AssociationFunction", "rate(60 minutes)"),
    "catalog_refresh_schedule.json": ("CatalogRefreshFunction", "rate(15 minutes)"),
    "catalog_refresh_nightly_full.json": ("CatalogRefreshFunction", "cron(7 3 * * ? *)"),
    "preorder_sweep_schedule.json": ("PreorderSweepFunction", "rate(5 minutes)"),
}


@pytest.mark.parametrize(("event_file", "schedule"), SCHEDULE_SAMPLES.items())
def test_schedule_samples_match_the_template_input(event_file: str, schedule: tuple[str, str]) -> None:
    function, expression = schedule
    (event,) = [s for s in TEMPLATE.function(function).schedules if s.expression == expression]
    assert json.loads((EVENTS_DIR / event_file).read_text()) == json.loads(event.input or "")


@pytest.mark.parametrize("event_file", sorted(EVENTS_DIR.glob("*.json")), ids=lambda path: path.name)
def test_sample_events_are_json(event_file: Path) -> None:
    assert isinstance(json.loads(event_file.read_text()), dict)


def test_every_schedule_is_named_so_the_api_and_the_local_scheduler_can_follow_it() -> None:
    names = [properties.get("Name") for _, _, properties in _events("ScheduleV2")]
    assert all(names), "a ScheduleV2 event without Name cannot be read or changed by PATCH /jobs"
    resolved = [TEMPLATE.resolve(name, None) for name in names]
    assert len(set(resolved)) == len(resolved)
    assert all(name.startswith("shopsync-dev-") for name in resolved)


def test_api_controls_exactly_the_job_schedules_it_is_told_about() -> None:
    # Given the schedule names the API gets and the schedules of the job functions
    variables = RESOURCES["ApiFunction"]["Properties"]["Environment"]["Variables"]
    told = {key: value for key, value in variables.items() if key.endswith("_SCHEDULE")}
    schedules = {
        TEMPLATE.resolve(properties["Name"], None): f"{function}{event}Role"
        for function, event, properties in _events("ScheduleV2")
    }
    # Then each names an existing schedule (one per job, shopsync.settings reads <JOB>_SCHEDULE)
    for job in {job for function, job in JOB_FUNCTIONS.items() if function in FUNCTIONS}:
        assert job.value.upper().replace("-", "_") + "_SCHEDULE" in told
    controlled = {TEMPLATE.resolve(value, None) for value in told.values()}
    assert controlled <= set(schedules)
    # And the API may read and update those schedules only, re-passing only their SAM-generated roles
    statements = list(_policy_statements())
    (control,) = [s for s in statements if s.get("Action") == ["scheduler:GetSchedule", "scheduler:UpdateSchedule"]]
    arns = {TEMPLATE.resolve(resource, _StubNames()).rsplit("/", 1)[-1] for resource in control["Resource"]}
    assert arns == controlled
    (pass_role,) = [s for s in statements if s.get("Action") == "iam:PassRole"]
    assert {_referenced_id(resource) for resource in pass_role["Resource"]} == {schedules[n] for n in controlled}
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}}


def test_dashboard_shows_throttles_sync_lag_and_oversells_prevented() -> None:
    (dashboard,) = _of_type("AWS::CloudWatch::Dashboard").values()
    body = dashboard["DashboardBody"]["Fn::Sub"]
    for metric in ("ShopifyThrottled", "SyncLag", "OversellPrevented"):
        assert f'"ShopSync", "{metric}"' in body, metric
    for function, job in JOB_FUNCTIONS.items():
        if function in ("ProductImportFunction", "AssociationFunction", "PreorderSweepFunction"):  # call Shopify
            assert f'"ShopifyThrottled", "job", "{job.value}"' in body

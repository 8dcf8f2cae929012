"""The local stack's AWS stand-ins against moto, with stand-in handlers and a small test template.

The test template has what template.yaml will have in later issues (a stream consumer with FilterCriteria,
partial batch responses, bisect and an on-failure queue), so the poller is tested before a real consumer exists.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.exceptions import ClientError

from local.lambda_runtime import FailureDestinations, LocalLambdaRuntime
from local.scheduler import LocalScheduler
from local.stack import LocalStack, Ports
from local.stream_poller import StreamConsumer, StreamPoller

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events"

TEST_TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Parameters:
  Environment: {Type: String, AllowedValues: [dev, prod], Default: dev}
Globals:
  Function:
    Runtime: python3.13
    Timeout: 5
    Environment:
      Variables:
        TABLE_NAME: !Ref Table
        JOB_FUNCTION: !Ref JobFunction
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: PK, AttributeType: S}, {AttributeName: SK, AttributeType: S}]
      KeySchema: [{AttributeName: PK, KeyType: HASH}, {AttributeName: SK, KeyType: RANGE}]
      StreamSpecification: {StreamViewType: NEW_AND_OLD_IMAGES}
  OnFailureQueue:
    Type: AWS::SQS::Queue
    Properties: {MessageRetentionPeriod: 1209600}
  StreamFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: tests/stand_ins/
      Handler: app.stream_handler
      Events:
        Changes:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt Table.StreamArn
            StartingPosition: TRIM_HORIZON
            BatchSize: 3
            MaximumRetryAttempts: 1
            BisectBatchOnFunctionError: true
            FunctionResponseTypes: [ReportBatchItemFailures]
            FilterCriteria:
              Filters:
                - Pattern: >-
                    {"eventName": ["INSERT", "MODIFY"],
                     "dynamodb": {"NewImage": {"type": {"S": [{"anything-but": ["listing"]}]}}}}
            DestinationConfig:
              OnFailure: {Type: SQS, Destination: !GetAtt OnFailureQueue.Arn}
  JobFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: tests/stand_ins/
      Handler: app.job_handler
      Timeout: 60
      EventInvokeConfig:
        MaximumRetryAttempts: 1
        DestinationConfig:
          OnFailure: {Type: SQS, Destination: !GetAtt OnFailureQueue.Arn}
      Events:
        Hourly:
          Type: ScheduleV2
          Properties:
            ScheduleExpression: rate(1 hour)
            Input: '{"source":"schedule"}'
  ApiFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: tests/stand_ins/
      Handler: app.api_handler
      Events:
        Proxy:
          Type: Api
          Properties: {Path: "/{proxy+}", Method: ANY}
"""


class StandIns:
    """Handlers whose behaviour each test sets; they record what they were called with."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.stream_batches: list[list[dict[str, Any]]] = []
        self.job_events: list[Any] = []
        self.api_events: list[dict[str, Any]] = []
        self.failing_once: set[str] = set()  # stream record SKs that fail on their first delivery only
        self.job_fails = False

    def stream_handler(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.stream_batches.append(event["Records"])
        failures = []
        for record in event["Records"]:
            sort_key = record["dynamodb"]["Keys"]["SK"]["S"]
            if sort_key.startswith("poison") or sort_key in self.failing_once:
                self.failing_once.discard(sort_key)
                failures.append({"itemIdentifier": record["dynamodb"]["SequenceNumber"]})
        return {"batchItemFailures": failures}

    def job_handler(self, event: Any, context: Any) -> dict[str, Any]:
        with self.lock:
            self.job_events.append(event)
        if self.job_fails:
            raise RuntimeError("job failed")
        return {"ok": True, "remaining_ms": context.get_remaining_time_in_millis()}

    def api_handler(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.api_events.append(event)
        if event["path"] == "/boom":
            raise RuntimeError("handler bug")
        return {
            "statusCode": 201,
            "headers": {"Content-Type": "application/json", "X-Function": context.function_name},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
            "body": event["body"] if event["isBase64Encoded"] else json.dumps({"echo": event["body"]}),
            "isBase64Encoded": event["isBase64Encoded"],
        }


@pytest.fixture(scope="module")
def stand_ins() -> StandIns:
    return StandIns()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, stand_ins: StandIns) -> Iterator[LocalStack]:
    template = tmp_path_factory.mktemp("template") / "template.yaml"
    template.write_text(TEST_TEMPLATE)
    handlers = {
        "StreamFunction": stand_ins.stream_handler,
        "JobFunction": stand_ins.job_handler,
        "ApiFunction": stand_ins.api_handler,
    }
    with LocalStack(
        ports=Ports.ephemeral(),
        template_path=template,
        start_scheduler=False,
        start_stream_poller=False,
        with_emulator=False,
        async_retry_delay_seconds=0,
        handlers=handlers,
    ) as running:
        yield running


@pytest.fixture
def empty_failure_queue(stack: LocalStack) -> None:
    # Not PurgeQueue: SQS (and moto) allow one purge per queue per minute.
    sqs = boto3.client("sqs")
    while messages := sqs.receive_message(QueueUrl=stack.on_failure_queue_url, MaxNumberOfMessages=10).get("Messages"):
        for message in messages:
            sqs.delete_message(QueueUrl=stack.on_failure_queue_url, ReceiptHandle=message["ReceiptHandle"])


def receive_failures(stack: LocalStack) -> list[dict[str, Any]]:
    response = boto3.client("sqs").receive_message(QueueUrl=stack.on_failure_queue_url, MaxNumberOfMessages=10)
    return [json.loads(message["Body"]) for message in response.get("Messages", [])]


def put(stack: LocalStack, sort_key: str, item_type: str) -> None:
    boto3.client("dynamodb").put_item(
        TableName=stack.table_name, Item={"PK": {"S": "P#1"}, "SK": {"S": sort_key}, "type": {"S": item_type}}
    )


def sort_keys(batch: list[dict[str, Any]]) -> list[str]:
    return [record["dynamodb"]["Keys"]["SK"]["S"] for record in batch]


# ------------------------------------------------------------------------------------------------ stream poller


def test_stack_starts_a_consumer_per_stream_event_of_the_template(stack: LocalStack) -> None:
    (consumer,) = stack.poller.consumers
    assert consumer.function_name == "StreamFunction"
    assert consumer.event.batch_size == 3
    assert consumer.stream_arn.startswith("arn:aws:dynamodb:us-east-1:123456789012:table/shopsync-dev-Table/stream/")


def test_stream_records_are_filtered_batched_and_shaped_like_lambda_events(
    stack: LocalStack, stand_ins: StandIns
) -> None:
    # Given four writes, one of them a listing the FilterCriteria excludes, and a delete (not INSERT/MODIFY)
    stand_ins.stream_batches.clear()
    for sort_key, item_type in [("a", "product"), ("b", "listing"), ("c", "association"), ("d", "product")]:
        put(stack, sort_key, item_type)
    boto3.client("dynamodb").delete_item(TableName=stack.table_name, Key={"PK": {"S": "P#1"}, "SK": {"S": "a"}})

    # When the poller drains the stream
    stack.poller.drain()

    # Then only matching records arrive, in batches of at most BatchSize, in the Lambda event shape
    assert [sort_keys(batch) for batch in stand_ins.stream_batches] == [["a", "c", "d"]]
    record = stand_ins.stream_batches[0][0]
    assert record["eventName"] == "INSERT"
    assert record["eventSource"] == "aws:dynamodb"
    assert record["eventSourceARN"] == stack.poller.consumers[0].stream_arn
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int)
    assert record["dynamodb"]["NewImage"]["type"] == {"S": "product"}


@pytest.mark.usefixtures("empty_failure_queue")
def test_partial_batch_failure_is_retried_from_the_lowest_failed_record(stack: LocalStack, stand_ins: StandIns) -> None:
    # Given a batch whose second record fails once
    stand_ins.stream_batches.clear()
    stand_ins.failing_once.add("f2")
    for sort_key in ("f1", "f2", "f3"):
        put(stack, sort_key, "product")

    # When the poller drains the stream
    stack.poller.drain()

    # Then the retry starts at the failed record, and nothing is given up on
    assert [sort_keys(batch) for batch in stand_ins.stream_batches] == [["f1", "f2", "f3"], ["f2", "f3"]]
    assert receive_failures(stack) == []


@pytest.mark.usefixtures("empty_failure_queue")
def test_poison_record_is_bisected_out_and_sent_to_the_on_failure_queue(stack: LocalStack, stand_ins: StandIns) -> None:
    # Given a batch with a record that always fails
    stand_ins.stream_batches.clear()
    for sort_key in ("g1", "poison", "g3"):
        put(stack, sort_key, "product")

    # When the poller drains the stream
    stack.poller.drain()

    # Then: first try, one retry from the poison record, bisect, poison alone twice, then the rest goes on
    assert [sort_keys(batch) for batch in stand_ins.stream_batches] == [
        ["g1", "poison", "g3"],
        ["poison", "g3"],
        ["poison"],
        ["poison"],
        ["g3"],
    ]
    (failure,) = receive_failures(stack)
    poison_sequence_number = stand_ins.stream_batches[2][0]["dynamodb"]["SequenceNumber"]
    batch_info = failure["DDBStreamBatchInfo"]
    assert batch_info["startSequenceNumber"] == batch_info["endSequenceNumber"] == poison_sequence_number
    assert batch_info["batchSize"] == 1
    assert batch_info["streamArn"] == stack.poller.consumers[0].stream_arn
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"


def test_a_stopped_poller_abandons_the_batch_it_was_retrying(stack: LocalStack, empty_failure_queue: None) -> None:
    # Given a consumer of its own (fresh iterators from TRIM_HORIZON) whose handler fails, and the stack stops
    # while the first delivery is running
    calls: list[list[str]] = []
    poller: StreamPoller

    def failing_while_stopping(event: dict[str, Any], context: Any) -> dict[str, Any]:
        calls.append(sort_keys(event["Records"]))
        poller.stop()
        raise RuntimeError("emulator gone")

    runtime = LocalLambdaRuntime(
        stack.template.functions(),
        FailureDestinations(stack.resources),
        handlers={"StreamFunction": failing_while_stopping},
    )
    (event,) = stack.template.function("StreamFunction").streams
    consumer = StreamConsumer(
        runtime, "StreamFunction", event, stack.resources.stream_arns["Table"], FailureDestinations(stack.resources)
    )
    poller = StreamPoller([consumer])
    put(stack, "stopping", "product")

    # When it polls
    poller.poll_once()

    # Then the delivery in flight was the last one: no retry, no bisect, nothing reported as failed
    assert len(calls) == 1
    assert receive_failures(stack) == []
    assert consumer.poll() == 0


def test_handlers_are_imported_on_first_invocation_so_a_missing_module_does_not_stop_the_stack(
    stack: LocalStack,
) -> None:
    # Given a function whose code is not written yet
    spec = stack.template.function("JobFunction")
    missing = {"NotYetWritten": replace(spec, logical_id="NotYetWritten", module="functions.not_yet.app")}

    # When a runtime is built with it, nothing is imported; invoking it is a function error, as in Lambda
    runtime = LocalLambdaRuntime(missing, FailureDestinations(stack.resources))
    result = runtime.invoke("NotYetWritten", {})

    assert result.error is not None and result.error["errorType"] == "Runtime.ImportModuleError"


# ------------------------------------------------------------------------------------------------ Lambda invoke API


def test_environment_comes_from_the_template_with_local_names(stack: LocalStack) -> None:
    assert os.environ["TABLE_NAME"] == stack.table_name == "shopsync-dev-Table"
    assert os.environ["JOB_FUNCTION"] == "JobFunction"
    assert os.environ["AWS_ENDPOINT_URL_LAMBDA"] == stack.lambda_url


def test_request_response_invoke_runs_the_handler_and_returns_its_payload(
    stack: LocalStack, stand_ins: StandIns
) -> None:
    # When application code invokes the function the ordinary boto3 way
    response = boto3.client("lambda").invoke(FunctionName="JobFunction", Payload=json.dumps({"n": 1}).encode())

    # Then the handler ran in-process, with the template's timeout behind its context
    assert response["StatusCode"] == 200
    payload = json.loads(response["Payload"].read())
    assert payload["ok"] is True
    assert 55_000 < payload["remaining_ms"] <= 60_000
    assert stand_ins.job_events[-1] == {"n": 1}


def test_event_invoke_returns_202_and_runs_in_the_background(stack: LocalStack, stand_ins: StandIns) -> None:
    arn = "arn:aws:lambda:us-east-1:123456789012:function:JobFunction"
    response = boto3.client("lambda").invoke(FunctionName=arn, InvocationType="Event", Payload=b'{"run": "async"}')

    assert response["StatusCode"] == 202
    assert stack.runtime.wait_until_idle(timeout_seconds=5)
    assert stand_ins.job_events[-1] == {"run": "async"}


@pytest.mark.usefixtures("empty_failure_queue")
def test_failed_event_invoke_is_retried_then_recorded_on_the_failure_queue(
    stack: LocalStack, stand_ins: StandIns
) -> None:
    # Given a job that fails
    stand_ins.job_fails = True
    calls_before = len(stand_ins.job_events)
    try:
        # When it is invoked asynchronously
        boto3.client("lambda").invoke(FunctionName="JobFunction", InvocationType="Event", Payload=b'{"run": "bad"}')
        assert stack.runtime.wait_until_idle(timeout_seconds=5)
    finally:
        stand_ins.job_fails = False

    # Then it ran 1 + MaximumRetryAttempts times and the invocation record reached the on-failure queue
    assert len(stand_ins.job_events) - calls_before == 2
    (record,) = receive_failures(stack)
    assert record["requestPayload"] == {"run": "bad"}
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["responsePayload"]["errorMessage"] == "job failed"


def test_unknown_function_is_resource_not_found(stack: LocalStack) -> None:
    with pytest.raises(ClientError) as raised:
        boto3.client("lambda").invoke(FunctionName="NoSuchFunction", Payload=b"{}")
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"


# ------------------------------------------------------------------------------------------------ API Gateway shim


def test_api_request_becomes_a_rest_proxy_event_and_the_response_maps_back(
    stack: LocalStack, stand_ins: StandIns
) -> None:
    # Given the canonical sample event for the same request
    sample = json.loads((EVENTS_DIR / "api_put_shop.json").read_text())

    # When the same request is sent over HTTP
    response = httpx.put(
        f"{stack.api_url}/shops/us-parent?x=1&x=2",
        content=sample["body"],
        headers={"Content-Type": "application/json"},
    )

    # Then the handler saw an event shaped like API Gateway's, and its answer came back as HTTP
    event = stand_ins.api_events[-1]
    assert set(event) == set(sample)
    assert set(event["requestContext"]) == set(sample["requestContext"])
    assert set(event["requestContext"]["identity"]) == set(sample["requestContext"]["identity"])
    assert (event["resource"], event["path"], event["httpMethod"]) == ("/{proxy+}", "/shops/us-parent", "PUT")
    assert event["pathParameters"] == {"proxy": "shops/us-parent"}
    assert event["queryStringParameters"] == {"x": "2"}
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"]}
    assert event["headers"]["Content-Type"] == "application/json"
    assert (event["body"], event["isBase64Encoded"]) == (sample["body"], False)
    assert event["requestContext"]["identity"]["userArn"].endswith(":user/local-developer")
    assert event["requestContext"]["stage"] == "dev"
    assert response.status_code == 201
    assert response.json() == {"echo": sample["body"]}
    assert response.headers["X-Function"] == "ApiFunction"
    assert response.headers.get_list("Set-Cookie") == ["a=1", "b=2"]


def test_binary_bodies_travel_base64_encoded(stack: LocalStack, stand_ins: StandIns) -> None:
    payload = bytes(range(256))
    response = httpx.post(f"{stack.api_url}/files", content=payload)

    assert stand_ins.api_events[-1]["isBase64Encoded"] is True
    assert base64.b64decode(stand_ins.api_events[-1]["body"]) == payload
    assert response.content == payload


def test_gateway_errors_look_like_api_gateway(stack: LocalStack) -> None:
    assert httpx.get(f"{stack.api_url}/boom").status_code == 502
    not_routed = httpx.get(f"{stack.api_url}/")
    assert (not_routed.status_code, not_routed.json()) == (403, {"message": "Missing Authentication Token"})


def test_health_is_answered_by_the_shim_once_ready(stack: LocalStack) -> None:
    response = httpx.get(f"{stack.api_url}/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


# ------------------------------------------------------------------------------------------------ scheduler


def test_run_now_invokes_the_scheduled_function_with_the_schedule_input(stack: LocalStack, stand_ins: StandIns) -> None:
    result = stack.scheduler.run_now("JobFunction")

    assert not result.failed
    assert stand_ins.job_events[-1] == {"source": "schedule"}


def test_due_schedules_fire_asynchronously_on_the_scaled_clock(stack: LocalStack, stand_ins: StandIns) -> None:
    # Given a scheduler whose clock the test moves, at 60x (an hourly rate fires every minute)
    now = [1000.0]
    scheduler = LocalScheduler(stack.runtime, time_scale=60, first_run_delay_seconds=1, clock=lambda: now[0])
    scheduler.arm()
    calls_before = len(stand_ins.job_events)

    # When the clock passes the first run, then a full (scaled) period, then half a period
    fired = []
    for seconds in (2, 60, 30):
        now[0] += seconds
        fired.append(scheduler.fire_due())
    assert stack.runtime.wait_until_idle(timeout_seconds=5)

    # Then the schedule fired after start and once per period, never early
    assert fired == [1, 1, 0]
    assert stand_ins.job_events[calls_before:] == [{"source": "schedule"}] * 2

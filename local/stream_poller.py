"""DynamoDB stream → Lambda handler, in place of the event source mapping moto cannot run without Docker.

Per stream event of the template: read the shard(s), turn records into the Lambda event shape, drop what the
FilterCriteria rejects, batch by BatchSize, invoke the handler in-process and honour ReportBatchItemFailures:
a batch is retried from its lowest failed sequence number (a raised error fails the whole batch) up to
MaximumRetryAttempts times. Then, with BisectBatchOnFunctionError, the remaining records are split in two and
each half gets the retry budget again; whatever still fails is reported to the OnFailure queue as
{"DDBStreamBatchInfo": ...} and skipped, so one poison record cannot block the shard.

`drain()` processes until no new records arrive (deterministic, for tests); `start()` polls in the background.
`stop()` lets the delivery in flight finish (a handler cannot be interrupted) but starts no further batch or
retry, so no consumer thread outlives the stack and writes through endpoints that are gone or reassigned.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3

from local.event_filter import compile_filters
from local.lambda_runtime import FailureDestinations, InvocationResult, LocalLambdaRuntime
from local.template import StreamEvent, function_arn

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient

Record = dict[str, Any]

log = logging.getLogger("local.stream")


class StreamConsumer:
    """One DynamoDB event of one function (what an event source mapping is in AWS)."""

    def __init__(
        self,
        runtime: LocalLambdaRuntime,
        function_name: str,
        event: StreamEvent,
        stream_arn: str,
        destinations: FailureDestinations,
        *,
        retry_delay_seconds: float = 0.0,
    ) -> None:
        self.function_name = function_name
        self.event = event
        self.stream_arn = stream_arn
        self._runtime = runtime
        self._destinations = destinations
        self._accepts = compile_filters(event.filter_patterns)
        self._retry_delay_seconds = retry_delay_seconds
        self._streams: DynamoDBStreamsClient = boto3.client("dynamodbstreams")
        self._iterators: dict[str, str] = {}
        self._cancelled = threading.Event()
        # LATEST means "from when the mapping was created", so take the iterators now.
        self._open_new_shards()

    def cancel(self) -> None:
        """Stop delivering: what is unread or being retried is abandoned (the stack is stopping)."""
        self._cancelled.set()

    def poll(self) -> int:
        """Deliver everything currently in the stream; returns how many stream records were read."""
        self._open_new_shards()
        return sum(self._poll_shard(shard_id) for shard_id in list(self._iterators))

    def _open_new_shards(self) -> None:
        shards = self._streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"].get("Shards", [])
        for shard in shards:
            if shard["ShardId"] not in self._iterators:
                self._iterators[shard["ShardId"]] = self._streams.get_shard_iterator(
                    StreamArn=self.stream_arn,
                    ShardId=shard["ShardId"],
                    ShardIteratorType=self.event.starting_position,  # type: ignore[arg-type]
                )["ShardIterator"]

    def _poll_shard(self, shard_id: str) -> int:
        read = 0
        pending: list[Record] = []
        while not self._cancelled.is_set():
            page = self._read_page(shard_id)
            read += len(page)
            # Lambda filters before it batches, so a batch holds up to BatchSize *matching* records.
            pending.extend(record for record in page if self._accepts(record))
            while len(pending) >= self.event.batch_size:
                self._deliver(shard_id, pending[: self.event.batch_size])
                pending = pending[self.event.batch_size :]
            if not page:
                break
        if pending and not self._cancelled.is_set():
            self._deliver(shard_id, pending)
        return read

    def _read_page(self, shard_id: str) -> list[Record]:
        iterator = self._iterators.get(shard_id)
        if iterator is None:  # a closed shard
            return []
        response = self._streams.get_records(ShardIterator=iterator, Limit=self.event.batch_size)
        next_iterator = response.get("NextShardIterator")
        if next_iterator:
            self._iterators[shard_id] = next_iterator
        else:
            self._iterators.pop(shard_id)
        return [self._lambda_record(record) for record in response["Records"]]

    def _lambda_record(self, record: Mapping[str, Any]) -> Record:
        """GetRecords output → the record shape Lambda delivers (epoch times, base64 binaries, eventSourceARN)."""
        converted: Record = _jsonable(record)
        converted["eventSourceARN"] = self.stream_arn
        return converted

    def _deliver(self, shard_id: str, batch: list[Record]) -> None:
        retries = 0
        while True:
            if self._cancelled.is_set():
                return
            result = self._runtime.invoke(self.function_name, {"Records": batch})
            failed_from = self._first_failed_index(batch, result)
            if failed_from is None:
                return
            batch = batch[failed_from:]
            if retries == self.event.maximum_retry_attempts:  # -1 never matches: retry until it succeeds
                break
            retries += 1
            self._cancelled.wait(self._retry_delay_seconds)
        if self.event.bisect_on_error and len(batch) > 1:
            middle = len(batch) // 2
            self._deliver(shard_id, batch[:middle])
            self._deliver(shard_id, batch[middle:])
            return
        if not self._cancelled.is_set():
            self._report_failure(shard_id, batch, result, retries + 1)

    def _first_failed_index(self, batch: Sequence[Record], result: InvocationResult) -> int | None:
        """None when the batch succeeded, else the index to retry from."""
        if result.failed:
            return 0
        if not self.event.report_batch_item_failures or not isinstance(result.payload, dict):
            return None
        failures = result.payload.get("batchItemFailures") or []
        if not failures:
            return None
        positions = {record["dynamodb"]["SequenceNumber"]: index for index, record in enumerate(batch)}
        identifiers = [failure.get("itemIdentifier") if isinstance(failure, dict) else None for failure in failures]
        if any(identifier not in positions for identifier in identifiers):
            log.warning("%s returned unknown itemIdentifiers; the whole batch is retried", self.function_name)
            return 0
        return min(positions[identifier] for identifier in identifiers)

    def _report_failure(self, shard_id: str, batch: Sequence[Record], result: InvocationResult, invokes: int) -> None:
        first, last = batch[0]["dynamodb"], batch[-1]["dynamodb"]
        log.error(
            "%s gave up on %d record(s) %s..%s",
            self.function_name,
            len(batch),
            first["SequenceNumber"],
            last["SequenceNumber"],
        )
        if self.event.on_failure_queue_logical_id is None:
            return
        self._destinations.send(
            self.event.on_failure_queue_logical_id,
            {
                "requestContext": {
                    "requestId": result.request_id,
                    "functionArn": function_arn(self.function_name),
                    "condition": "RetryAttemptsExhausted",
                    "approximateInvokeCount": invokes,
                },
                "responseContext": {
                    "statusCode": 200,
                    "executedVersion": "$LATEST",
                    "functionError": "Unhandled" if result.failed else "PartialBatchFailure",
                },
                "version": "1.0",
                "timestamp": _iso(time.time()),
                "DDBStreamBatchInfo": {
                    "shardId": shard_id,
                    "startSequenceNumber": first["SequenceNumber"],
                    "endSequenceNumber": last["SequenceNumber"],
                    "approximateArrivalOfFirstRecord": _iso(first["ApproximateCreationDateTime"]),
                    "approximateArrivalOfLastRecord": _iso(last["ApproximateCreationDateTime"]),
                    "batchSize": len(batch),
                    "streamArn": self.stream_arn,
                },
            },
        )


class StreamPoller:
    """Runs every stream consumer of the stack, in the background or on demand."""

    def __init__(
        self,
        consumers: Sequence[StreamConsumer],
        *,
        interval_seconds: float = 0.25,
        stop_timeout_seconds: float = 30.0,
    ) -> None:
        self.consumers = list(consumers)
        self._interval_seconds = interval_seconds
        self._stop_timeout_seconds = stop_timeout_seconds
        self._lock = threading.Lock()  # drain() and the background thread never interleave deliveries
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def poll_once(self) -> int:
        with self._lock:
            return sum(consumer.poll() for consumer in self.consumers)

    def drain(self, max_rounds: int = 100) -> None:
        """Poll until a round reads nothing new (handlers that write to the table cause further rounds)."""
        for _ in range(max_rounds):
            if self.poll_once() == 0:
                return
        raise RuntimeError(f"streams still producing records after {max_rounds} rounds (a write loop?)")

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="stream-poller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """No new batch or retry after this; waits for the delivery in flight (bounded)."""
        self._stopping.set()
        for consumer in self.consumers:
            consumer.cancel()
        if self._thread is not None:
            self._thread.join(timeout=self._stop_timeout_seconds)
            if self._thread.is_alive():
                log.warning("a stream delivery is still running after %.0f s", self._stop_timeout_seconds)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.poll_once()
            except Exception:
                log.exception("stream polling failed; retrying")
            self._stopping.wait(self._interval_seconds)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    return value


def _iso(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(epoch_seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def consumers_for(
    runtime: LocalLambdaRuntime,
    stream_arns: Mapping[str, str],
    destinations: FailureDestinations,
    **options: Any,
) -> Iterator[StreamConsumer]:
    """A consumer for every enabled DynamoDB event in the template; `stream_arns` maps table logical id → ARN."""
    for name in runtime.function_names:
        for event in runtime.spec(name).streams:
            if event.enabled:
                yield StreamConsumer(runtime, name, event, stream_arns[event.table_logical_id], destinations, **options)

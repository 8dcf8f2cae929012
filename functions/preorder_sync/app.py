"""Pre-order sync: table changes from the stream (lambda_handler) and the scheduled sweep (sweep_handler)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from shopsync.jobs import runner
from shopsync.models.jobs import JobInvocation
from shopsync.observability import logger, metrics, tracer
from shopsync.preorder.triggers import PREORDER_SWEEP, ProductChange, changed_product, sync_changed

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Each record names a product; the products of the batch are then synced together (batched Shopify calls).
    A record that cannot be read is reported as a batch item failure; a store that fails is retried by the sweep."""
    changed: list[ProductChange] = []

    def record_handler(record: DynamoDBRecord) -> None:
        stream = record.dynamodb
        changed.append(
            changed_product(stream.keys, stream.old_image, stream.new_image) if stream else changed_product({})
        )

    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    sync_changed(changed, lambda: context.get_remaining_time_in_millis() / 1000 - 10)
    return dict(response)


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
@event_parser(model=JobInvocation)
def sweep_handler(event: JobInvocation, context: LambdaContext) -> dict[str, Any]:
    return runner.run_summary(runner.execute(PREORDER_SWEEP, event, context.get_remaining_time_in_millis))

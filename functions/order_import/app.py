"""Order import: the job (its schedule, or a run queued by the API) and the webhook deliveries from the table
stream (FilterCriteria: INSERT of items with type WEBHOOK_DELIVERY)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from shopsync.jobs import runner
from shopsync.models.jobs import JobInvocation
from shopsync.observability import logger, metrics, tracer
from shopsync.orders.order_import import ORDER_IMPORT
from shopsync.orders.webhooks import is_delivery, process_delivery

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
# Seconds kept back from the Lambda deadline for reporting the batch.
STREAM_MARGIN_S = 10


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
@event_parser(model=JobInvocation)
def lambda_handler(event: JobInvocation, context: LambdaContext) -> dict[str, Any]:
    return runner.run_summary(runner.execute(ORDER_IMPORT, event, context.get_remaining_time_in_millis))


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def webhook_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """One order import per delivery; a delivery that fails is reported back so the stream retries it."""

    def time_left_s() -> float:
        return context.get_remaining_time_in_millis() / 1000 - STREAM_MARGIN_S

    def record_handler(record: DynamoDBRecord) -> None:
        image = (record.dynamodb.new_image if record.dynamodb else None) or {}
        if is_delivery(image):
            process_delivery(image, time_left_s)

    return dict(
        process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    )

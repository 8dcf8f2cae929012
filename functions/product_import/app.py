"""Product import from the parent store: on its schedule, or a run queued by the API."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from shopsync.catalog.product_import import PRODUCT_IMPORT
from shopsync.jobs import runner
from shopsync.models.jobs import JobInvocation
from shopsync.observability import logger, metrics, tracer


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
@event_parser(model=JobInvocation)
def lambda_handler(event: JobInvocation, context: LambdaContext) -> dict[str, Any]:
    return runner.run_summary(runner.execute(PRODUCT_IMPORT, event, context.get_remaining_time_in_millis))

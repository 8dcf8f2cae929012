""" "Run now": reserve the run (lease + QUEUED record) and hand it to the job's Lambda asynchronously."""

from __future__ import annotations

from typing import Any

from shopsync.catalog.product_import import PRODUCT_IMPORT
from shopsync.errors import InvalidRequest, UpstreamUnavailable
from shopsync.jobs.clock import utc_now
from shopsync.jobs.runner import JobDefinition, abandon_queued_run, queue_run
from shopsync.models.jobs import JobInvocation, JobName, JobRun
from shopsync.settings import get_settings
from shopsync.store import functions

JOBS: dict[JobName, JobDefinition] = {PRODUCT_IMPORT.name: PRODUCT_IMPORT}


def _function_name(job: JobName) -> str:
    return {JobName.PRODUCT_IMPORT: get_settings().product_import_function}[job]


def request_run(job: JobName, shop_id: str | None, params: dict[str, Any]) -> JobRun:
    definition = JOBS[job]
    if shop_id is None:
        shops = definition.scheduled_shops()
        if len(shops) != 1:
            raise InvalidRequest(f"say which store to run {job.value} for (shop_id)")
        shop_id = shops[0].shop_id
    run = queue_run(definition, shop_id, params, utc_now())
    invocation = JobInvocation(source="api", run_id=run.run_id, shop_id=shop_id, params=params)
    try:
        functions.invoke_async(_function_name(job), invocation.model_dump(mode="json"))
    except Exception as error:
        abandon_queued_run(run, f"the job function could not be invoked: {error}")
        raise UpstreamUnavailable(f"{job.value} could not be started: {error}") from error
    return run

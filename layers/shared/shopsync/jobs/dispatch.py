""" "Run now": reserve the run (lease + QUEUED record) and hand it to the job's Lambda asynchronously."""

from __future__ import annotations

from typing import Any

from shopsync.errors import InvalidRequest, UpstreamUnavailable
from shopsync.jobs.clock import utc_now
from shopsync.jobs.registry import function_name, registered_job
from shopsync.jobs.runner import abandon_queued_run, queue_run
from shopsync.models.jobs import JobInvocation, JobName, JobRun
from shopsync.store import functions


def request_run(job: JobName, shop_id: str | None, params: dict[str, Any]) -> JobRun:
    definition = registered_job(job).definition
    if shop_id is None:
        shops = definition.scheduled_shops()
        if len(shops) != 1:
            raise InvalidRequest(f"say which store to run {job.value} for (shop_id)")
        shop_id = shops[0].shop_id
    run = queue_run(definition, shop_id, params, utc_now())
    invocation = JobInvocation(source="api", run_id=run.run_id, shop_id=shop_id, params=params)
    try:
        functions.invoke_async(function_name(job), invocation.model_dump(mode="json"))
    except Exception as error:
        abandon_queued_run(run, f"the job function could not be invoked: {error}")
        raise UpstreamUnavailable(f"{job.value} could not be started: {error}") from error
    return run

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from shopsync.errors import NotFound
from shopsync.jobs.dispatch import request_run
from shopsync.models.jobs import JobName, JobRun, RunRequest
from shopsync.store import jobs as job_store

router = APIGatewayRouter()


@router.post("/jobs/<job>/runs", summary="Run a job now", tags=["jobs"])
def run_job(job: Annotated[JobName, Path()], request: Annotated[RunRequest, Body()]) -> Response[JobRun]:
    run = request_run(job, request.shop_id, request.params)
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=run)


@router.get("/runs/<run_id>", summary="One run: status, counts, Shopify cost, error", tags=["jobs"])
def get_run(run_id: Annotated[str, Path(min_length=1, max_length=128)]) -> JobRun:
    run = job_store.get_run(run_id)
    if run is None:
        raise NotFound(f"run {run_id} does not exist", run_id=run_id)
    return run

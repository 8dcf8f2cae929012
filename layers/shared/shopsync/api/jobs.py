from __future__ import annotations

from datetime import datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from shopsync.errors import InvalidRequest, NotFound
from shopsync.jobs import control
from shopsync.jobs.clock import utc_now
from shopsync.jobs.dispatch import request_run
from shopsync.models.job_control import JobStatus, JobUpdate
from shopsync.models.jobs import JobName, JobRun, RunRequest, RunStatus
from shopsync.models.shop import SHOP_ID_PATTERN
from shopsync.store import jobs as job_store

router = APIGatewayRouter()


@router.get("/jobs", summary="Every job per store: enabled, frequency, limit, last and next run, health", tags=["jobs"])
def list_jobs() -> list[JobStatus]:
    return control.list_jobs(utc_now())


@router.patch(
    "/jobs/<job>",
    summary="Enable or disable a job (per store or its schedule), change its frequency or its records-per-run limit",
    tags=["jobs"],
)
def update_job(job: Annotated[JobName, Path()], update: Annotated[JobUpdate, Body()]) -> JobStatus:
    return control.update_job(job, update, utc_now())


@router.post("/jobs/<job>/runs", summary="Run a job now", tags=["jobs"])
def run_job(job: Annotated[JobName, Path()], request: Annotated[RunRequest, Body()]) -> Response[JobRun]:
    run = request_run(job, request.shop_id, request.params)
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=run)


@router.get("/jobs/<job>/runs", summary="A job's run history, newest first (HotWax pipeline History)", tags=["jobs"])
def list_job_runs(
    job: Annotated[JobName, Path()],
    status: Annotated[RunStatus | None, Query(description="e.g. FAILED")] = None,
    since: Annotated[datetime | None, Query(description="queued at or after this time (ISO 8601 with zone)")] = None,
    shop: Annotated[str | None, Query(pattern=SHOP_ID_PATTERN, description="one store's runs")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[JobRun]:
    if since is not None and since.tzinfo is None:
        raise InvalidRequest("since needs a time zone (e.g. 2026-11-01T00:00:00Z)")
    return job_store.list_runs(job, status=status, since=since, shop_id=shop, limit=limit)


@router.get("/runs/<run_id>", summary="One run: status, counts, Shopify cost, error", tags=["jobs"])
def get_run(run_id: Annotated[str, Path(min_length=1, max_length=128)]) -> JobRun:
    run = job_store.get_run(run_id)
    if run is None:
        raise NotFound(f"run {run_id} does not exist", run_id=run_id)
    return run

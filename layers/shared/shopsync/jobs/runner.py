"""Runs a job body for one store inside the run bookkeeping every job shares.

A run holds the (job, shop) lease for its whole life, so two runs never overlap. It records RUNNING → FINISHED or
FAILED with counts, Shopify cost and the error text. The watermark moves only when a run completes its window;
a run that nears the Lambda deadline returns `Suspended` and its cursor (window + progress) is where the next run
of the same job and store resumes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from shopsync.errors import JobAlreadyRunning, NotFound
from shopsync.jobs.clock import utc_now
from shopsync.models.jobs import Cursor, FailedRecord, JobInvocation, JobName, JobRun, RunCounts, RunStatus
from shopsync.models.shop import Shop
from shopsync.observability import logger, metrics
from shopsync.settings import get_settings
from shopsync.shopify.client import ShopifyClient
from shopsync.store import jobs as job_store
from shopsync.store import secrets
from shopsync.store import shops as shop_store

MAX_FAILED_RECORDS_KEPT = 100


@dataclass(frozen=True)
class Completed:
    """The window is done; the watermark moves to `watermark` (None leaves it where it is)."""

    watermark: datetime | None


@dataclass(frozen=True)
class Suspended:
    """Stopped early (deadline, or a long Shopify operation still running); `state` is saved as the cursor."""

    state: dict[str, Any]


Outcome = Completed | Suspended


@dataclass
class JobContext:
    run: JobRun
    shop: Shop
    watermark: datetime | None
    window_end: datetime
    resume_state: dict[str, Any] | None
    time_remaining_ms: Callable[[], int]
    counts: RunCounts = field(default_factory=RunCounts)
    failed_records: list[FailedRecord] = field(default_factory=list)
    _client: ShopifyClient | None = None

    @property
    def params(self) -> dict[str, Any]:
        return self.run.params

    def time_left_s(self) -> float:
        """Seconds this run may still spend, keeping the margin it needs to record its outcome."""
        return max(0.0, (self.time_remaining_ms() - get_settings().deadline_margin_ms) / 1000)

    def should_stop(self) -> bool:
        """Out of time, or the run read its `limit` of records: either way its cursor is where the next run goes on."""
        limit = self.params.get("limit")
        return self.time_left_s() <= 0 or (limit is not None and self.counts.read >= limit)

    def shopify(self) -> ShopifyClient:
        """The run's client for its store; its cost and call counts end up on the run record."""
        if self._client is None:
            self._client = shop_client(self.shop, self.time_left_s)
        return self._client

    def record_failure(self, record_id: str, reason: str) -> None:
        self.counts.add(failed=1)
        if len(self.failed_records) < MAX_FAILED_RECORDS_KEPT:
            self.failed_records.append(FailedRecord(record_id=record_id, reason=reason))

    def checkpoint(self, state: dict[str, Any]) -> None:
        """Save progress now, so even a crash (not only a clean suspension) resumes from here; the run record
        shows the counts so far."""
        job_store.save_cursor(self.run.job, self.shop.shop_id, self._cursor(state))
        job_store.save_run(self.run.model_copy(update={"counts": self.counts}))

    def _cursor(self, state: dict[str, Any]) -> Cursor:
        return Cursor(
            run_id=self.run.run_id,
            window_start=self.watermark,
            window_end=self.window_end,
            state=state,
            saved_at=utc_now(),
        )


JobBody = Callable[[JobContext], Outcome]


def shop_client(shop: Shop, time_remaining_s: Callable[[], float]) -> ShopifyClient:
    """A client for the store with its token from Secrets Manager; close it when done."""
    return ShopifyClient(
        shop.base_url,
        shop.api_version,
        secrets.get_access_token(shop.token_secret_name),
        time_remaining_s=time_remaining_s,
    )


@dataclass(frozen=True)
class JobDefinition:
    name: JobName
    body: JobBody
    check_shop: Callable[[Shop], None]
    scheduled_shops: Callable[[], list[Shop]]


def new_run_id(job: JobName, now: datetime) -> str:
    return f"{job.value}-{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"


def queue_run(definition: JobDefinition, shop_id: str, params: dict[str, Any], now: datetime) -> JobRun:
    """Reserve a run for "run now": validate the store, take the lease and record the run as QUEUED."""
    shop = shop_store.get_shop(shop_id)
    if shop is None:
        raise NotFound(f"shop {shop_id} is not registered", shop_id=shop_id)
    definition.check_shop(shop)
    run = JobRun(
        run_id=new_run_id(definition.name, now),
        job=definition.name,
        shop_id=shop_id,
        status=RunStatus.QUEUED,
        trigger="api",
        params=params,
        queued_at=now,
    )
    _take_lease(definition.name, shop_id, run.run_id, now)
    job_store.save_run(run)
    return run


def abandon_queued_run(run: JobRun, reason: str) -> None:
    """The job could not be started (e.g. the invoke failed): fail the run and free the lease."""
    job_store.save_run(run.model_copy(update={"status": RunStatus.FAILED, "error": reason, "finished_at": utc_now()}))
    job_store.release_lease(run.job, run.shop_id, run.run_id)


def _take_lease(job: JobName, shop_id: str, run_id: str, now: datetime) -> None:
    try:
        crashed_run_id = job_store.acquire_lease(job, shop_id, run_id, now)
    except job_store.LeaseHeld as held:
        raise JobAlreadyRunning(job.value, shop_id, held.holder_run_id) from held
    if crashed_run_id:
        _mark_crashed(crashed_run_id)


def _mark_crashed(run_id: str) -> None:
    crashed = job_store.get_run(run_id)
    if crashed and crashed.status in (RunStatus.QUEUED, RunStatus.RUNNING):
        logger.warning("previous run lost its lease without finishing", extra={"crashed_run_id": run_id})
        job_store.save_run(
            crashed.model_copy(
                update={
                    "status": RunStatus.FAILED,
                    "finished_at": utc_now(),
                    "error": "the run stopped without finishing (crash or timeout); its lease expired",
                }
            )
        )


def execute(definition: JobDefinition, invocation: JobInvocation, time_remaining_ms: Callable[[], int]) -> list[JobRun]:
    """Entry point of a job Lambda: one run per store the invocation covers."""
    metrics.add_dimension(name="job", value=definition.name.value)
    if invocation.run_id:
        return [_execute_queued(definition, invocation.run_id, time_remaining_ms)]
    if invocation.shop_id:
        shop = shop_store.get_shop(invocation.shop_id)
        if shop is None:
            raise NotFound(f"shop {invocation.shop_id} is not registered", shop_id=invocation.shop_id)
        definition.check_shop(shop)
        shops = [shop]
    else:
        shops = _enabled_shops(definition)
        if not shops:
            logger.info("no store to run for", extra={"job": definition.name.value})
    runs = []
    for shop in shops:
        now = utc_now()
        run = JobRun(
            run_id=new_run_id(definition.name, now),
            job=definition.name,
            shop_id=shop.shop_id,
            status=RunStatus.QUEUED,
            trigger=invocation.source,
            params=invocation.params,
            queued_at=now,
        )
        try:
            _take_lease(definition.name, shop.shop_id, run.run_id, now)
        except JobAlreadyRunning as running:
            logger.info("skipped: a run is in progress", extra={"running_run_id": running.running_run_id})
            continue
        runs.append(_run(definition, run, shop, time_remaining_ms))
    return runs


def _enabled_shops(definition: JobDefinition) -> list[Shop]:
    """The stores a scheduled run covers: those the operator has not disabled the job for (PATCH /jobs/{job})."""
    enabled = []
    for shop in definition.scheduled_shops():
        _, store_config = job_store.get_configs(definition.name, shop.shop_id)
        if store_config is None or store_config.enabled:
            enabled.append(shop)
        else:
            logger.info("skipped: the job is disabled for this store", extra={"shop_id": shop.shop_id})
    return enabled


def _run_limit(job: JobName, shop_id: str, params: dict[str, Any]) -> int | None:
    """Records per run: the run's own `limit` param, else the store's setting, else the job's default."""
    if params.get("limit") is not None:
        return int(params["limit"])
    job_default, store_config = job_store.get_configs(job, shop_id)
    if store_config is not None and store_config.limit is not None:
        return store_config.limit
    return job_default.limit if job_default else None


def run_summary(runs: list[JobRun]) -> dict[str, Any]:
    """What a job Lambda returns: each run's id, store, status and counts (the full record is GET /runs/{id})."""
    return {"runs": [run.model_dump(mode="json", include={"run_id", "shop_id", "status", "counts"}) for run in runs]}


def _execute_queued(definition: JobDefinition, run_id: str, time_remaining_ms: Callable[[], int]) -> JobRun:
    run = job_store.get_run(run_id)
    if run is None:
        raise NotFound(f"run {run_id} does not exist", run_id=run_id)
    if run.status is not RunStatus.QUEUED:
        logger.info("run already started; duplicate invocation ignored", extra={"run_id": run_id})
        return run
    shop = shop_store.get_shop(run.shop_id)
    if shop is None:
        abandon_queued_run(run, f"shop {run.shop_id} is no longer registered")
        raise NotFound(f"shop {run.shop_id} is not registered", shop_id=run.shop_id)
    _take_lease(definition.name, shop.shop_id, run.run_id, utc_now())
    return _run(definition, run, shop, time_remaining_ms)


def _run(definition: JobDefinition, run: JobRun, shop: Shop, time_remaining_ms: Callable[[], int]) -> JobRun:
    started = utc_now()
    cursor = job_store.get_cursor(definition.name, shop.shop_id)
    watermark = job_store.get_watermark(definition.name, shop.shop_id)
    resuming = cursor is not None and not run.params.get("restart")
    limit = _run_limit(definition.name, shop.shop_id, run.params)
    params = run.params if limit is None else {**run.params, "limit": limit}  # on the record: what the run honoured
    run = run.model_copy(update={"status": RunStatus.RUNNING, "started_at": started, "params": params})
    job_store.save_run(run)
    context = JobContext(
        run=run,
        shop=shop,
        watermark=cursor.window_start if cursor and resuming else watermark,
        window_end=cursor.window_end if cursor and resuming else started,
        resume_state=cursor.state if cursor and resuming else None,
        time_remaining_ms=time_remaining_ms,
    )
    logger.append_keys(run_id=run.run_id, shop_id=shop.shop_id, job=definition.name.value)
    logger.info("run started", extra={"resuming": resuming, "watermark": str(context.watermark)})
    metrics.add_metric(name="JobRuns", unit=MetricUnit.Count, value=1)
    try:
        outcome = definition.body(context)
    except Exception as error:
        finished = _finish(context, RunStatus.FAILED, error=f"{type(error).__name__}: {error}")
        metrics.add_metric(name="JobFailures", unit=MetricUnit.Count, value=1)
        logger.exception("run failed")
        raise RunFailed(finished) from error
    if isinstance(outcome, Suspended):
        context.checkpoint(outcome.state)
        finished = _finish(context, RunStatus.FINISHED, completed=False)
    else:
        if outcome.watermark is not None:
            job_store.save_watermark(definition.name, shop.shop_id, outcome.watermark, run.run_id)
        # Also when the run started fresh: its own checkpoints must not make the next run resume a finished window.
        job_store.clear_cursor(definition.name, shop.shop_id)
        finished = _finish(context, RunStatus.FINISHED, completed=True, watermark=outcome.watermark)
    metrics.add_metric(name="JobSucceeded", unit=MetricUnit.Count, value=1)
    return finished


def _finish(
    context: JobContext,
    status: RunStatus,
    *,
    error: str | None = None,
    completed: bool = False,
    watermark: datetime | None = None,
) -> JobRun:
    stats = context._client.stats if context._client else None
    if context._client:
        context._client.close()
    finished = context.run.model_copy(
        update={
            "status": status,
            "finished_at": utc_now(),
            "counts": context.counts,
            "failed_records": context.failed_records,
            "error": error,
            "completed": completed,
            "watermark": watermark,
            "shopify_cost": stats.cost_spent if stats else 0.0,
            "shopify_calls": stats.calls if stats else 0,
        }
    )
    job_store.save_run(finished)
    job_store.release_lease(context.run.job, context.shop.shop_id, context.run.run_id)
    metrics.add_metric(name="RecordsFailed", unit=MetricUnit.Count, value=context.counts.failed)
    if stats:
        metrics.add_metric(name="ShopifyCost", unit=MetricUnit.Count, value=stats.cost_spent)
        metrics.add_metric(name="ShopifyThrottleWaits", unit=MetricUnit.Count, value=stats.throttle_waits)
        # Responses Shopify itself throttled (the client's waits are meant to keep this at zero).
        metrics.add_metric(name="ShopifyThrottled", unit=MetricUnit.Count, value=stats.throttled_responses)
    logger.info("run finished", extra={"status": status.value, "counts": context.counts.model_dump()})
    return finished


class RunFailed(Exception):
    """Raised after the run was recorded as FAILED, so the platform's retry and on-failure path sees it too."""

    def __init__(self, run: JobRun) -> None:
        super().__init__(f"run {run.run_id} failed: {run.error}")
        self.run = run

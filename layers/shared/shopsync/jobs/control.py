"""Job control (HotWax Job Manager, reference/hotwax-domain.md §7): each job per store — on or off, how often, how
many records per run, its last run, its next run and whether it is healthy — and changing those settings.

Where each setting lives, so there is exactly one copy of each: the job's frequency and whether its schedule fires
at all live in its EventBridge Scheduler schedule (locally the same schedule in moto, which the local scheduler
follows); a store's `enabled` and the `limit`s live in the table, where the runner reads them at every run.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from shopsync.errors import NotFound, UnprocessableRequest
from shopsync.jobs.frequency import Frequency
from shopsync.jobs.registry import JOBS, registered_job, schedule_name
from shopsync.models.job_control import JobConfig, JobSchedule, JobStatus, JobUpdate, RunSummary, StoreJobStatus
from shopsync.models.jobs import JobName, RunStatus
from shopsync.store import jobs as job_store
from shopsync.store import schedules as schedule_store
from shopsync.store import shops as shop_store
from shopsync.store.schedules import ScheduleState

# A job is unhealthy when no run finished within this many schedule periods (the template's alarms use the same).
HEALTHY_WITHIN_PERIODS = 2


def _schedule(job: JobName) -> ScheduleState | None:
    name = schedule_name(job)
    return schedule_store.get_schedule(name) if name else None


def _period(schedule: ScheduleState, now: datetime) -> timedelta | None:
    frequency = Frequency.parse(schedule.expression)
    if frequency.rate_seconds is not None:
        return timedelta(seconds=frequency.rate_seconds)
    first = frequency.next_after(now, schedule.timezone)
    second = frequency.next_after(first, schedule.timezone) if first else None
    return second - first if first and second else None


def _store_status(job: JobName, shop_id: str, schedule: ScheduleState | None, now: datetime) -> StoreJobStatus:
    job_default, store_config = job_store.get_configs(job, shop_id)
    store_enabled = store_config.enabled if store_config else True
    limit = store_config.limit if store_config and store_config.limit else job_default.limit if job_default else None
    last_runs = job_store.list_runs(job, shop_id=shop_id, limit=1)
    last_success = job_store.list_runs(job, shop_id=shop_id, status=RunStatus.FINISHED, limit=1)
    last_success_at = last_success[0].finished_at if last_success else None
    runs_on_schedule = schedule is not None and schedule.enabled and store_enabled
    next_run = None
    if schedule is not None and runs_on_schedule:
        next_run = Frequency.parse(schedule.expression).next_after(now, schedule.timezone, anchor=schedule.modified_at)
    period = _period(schedule, now) if schedule else None
    if period is not None:
        healthy = last_success_at is not None and now - last_success_at <= HEALTHY_WITHIN_PERIODS * period
    else:
        healthy = bool(last_runs) and last_runs[0].status is not RunStatus.FAILED
    return StoreJobStatus(
        shop_id=shop_id,
        enabled=runs_on_schedule,
        store_enabled=store_enabled,
        frequency=schedule.expression if schedule else None,
        limit=limit,
        last_run=RunSummary.of(last_runs[0]) if last_runs else None,
        last_success_at=last_success_at,
        next_run=next_run,
        healthy=healthy,
    )


def store_status(job: JobName, shop_id: str, now: datetime) -> StoreJobStatus:
    return _store_status(job, shop_id, _schedule(job), now)


def job_status(job: JobName, now: datetime) -> JobStatus:
    definition = registered_job(job).definition
    schedule = _schedule(job)
    job_default = job_store.get_config(job, None)
    return JobStatus(
        job=job,
        schedule=JobSchedule(
            name=schedule.name, frequency=schedule.expression, timezone=schedule.timezone, enabled=schedule.enabled
        )
        if schedule
        else None,
        default_limit=job_default.limit if job_default else None,
        stores=[_store_status(job, shop.shop_id, schedule, now) for shop in definition.scheduled_shops()],
    )


def list_jobs(now: datetime) -> list[JobStatus]:
    return [job_status(job, now) for job in JOBS]


def update_job(job: JobName, update: JobUpdate, now: datetime) -> JobStatus:
    definition = registered_job(job).definition
    if update.shop_id is not None:
        shop = shop_store.get_shop(update.shop_id)
        if shop is None:
            raise NotFound(f"shop {update.shop_id} is not registered", shop_id=update.shop_id)
        definition.check_shop(shop)
        _save_config(job, update.shop_id, update, now)
        return job_status(job, now)
    if update.enabled is not None or update.frequency is not None:
        name = schedule_name(job)
        if (
            not name
            or schedule_store.update_schedule(name, expression=update.frequency, enabled=update.enabled) is None
        ):
            raise UnprocessableRequest(f"job {job.value} has no schedule in this deployment", job=job.value)
    if update.changes_limit:
        _save_config(job, None, update, now)
    return job_status(job, now)


def _save_config(job: JobName, shop_id: str | None, update: JobUpdate, now: datetime) -> None:
    current = job_store.get_config(job, shop_id)
    changes: dict[str, object] = {"updated_at": now}
    if update.enabled is not None:
        changes["enabled"] = update.enabled
    if update.changes_limit:
        changes["limit"] = update.limit
    base = current or JobConfig(job=job, shop_id=shop_id, updated_at=now)
    job_store.save_config(base.model_copy(update=changes))

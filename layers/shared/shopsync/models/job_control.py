"""Job control (HotWax Job Manager): per-store settings, the PATCH body, and what GET /jobs answers."""

from __future__ import annotations

from datetime import datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shopsync.jobs.frequency import Frequency, ScheduleExpressionError
from shopsync.models.jobs import JobName, JobRun, RunStatus
from shopsync.models.shop import ShopId


class JobConfig(BaseModel):
    """What the runner honours for a job: per store (`shop_id`), or the job's default (`shop_id` None)."""

    job: JobName
    shop_id: str | None = None
    enabled: bool = Field(default=True, description="scheduled runs skip a disabled store; run now still runs it")
    limit: int | None = Field(default=None, ge=1, description="records per run; the next run goes on from the cursor")
    updated_at: datetime


class JobUpdate(BaseModel):
    """Body of PATCH /jobs/{job}. Without `shop_id`: `enabled` and `frequency` change the job's schedule (every
    store), `limit` the job's default. With `shop_id`: `enabled` and `limit` of that store only (the schedule is one
    per job, so its frequency is not per store). `limit: null` removes a limit."""

    model_config = ConfigDict(extra="forbid")

    shop_id: ShopId | None = None
    enabled: bool | None = None
    frequency: str | None = Field(
        default=None,
        description="EventBridge Scheduler expression",
        examples=["rate(15 minutes)", "rate(1 hour)", "cron(0 3 * * ? *)"],
    )
    limit: int | None = Field(default=None, ge=1, le=1_000_000)

    @field_validator("frequency")
    @classmethod
    def parses(cls, frequency: str | None) -> str | None:
        if frequency is None:
            return None
        try:
            return Frequency.parse(frequency.strip()).expression
        except ScheduleExpressionError as error:
            raise ValueError(str(error)) from error

    @model_validator(mode="after")
    def says_what_changes(self) -> Self:
        if not self.model_fields_set - {"shop_id"}:
            raise ValueError("say what to change: enabled, frequency or limit")
        if self.shop_id is not None and self.frequency is not None:
            raise ValueError("frequency is the job's schedule, shared by every store: send it without shop_id")
        return self

    @property
    def changes_limit(self) -> bool:
        return "limit" in self.model_fields_set


class RunSummary(BaseModel):
    run_id: str
    status: RunStatus
    trigger: str
    queued_at: datetime
    finished_at: datetime | None
    error: str | None

    @classmethod
    def of(cls, run: JobRun) -> RunSummary:
        return cls.model_validate(run, from_attributes=True)


class JobSchedule(BaseModel):
    name: str
    frequency: str
    timezone: str
    enabled: bool


class StoreJobStatus(BaseModel):
    shop_id: str
    enabled: bool = Field(description="runs on schedule: the job's schedule and this store both enabled")
    store_enabled: bool
    frequency: str | None
    limit: int | None
    last_run: RunSummary | None
    last_success_at: datetime | None
    next_run: datetime | None = Field(description="when the schedule fires next (null when it does not run)")
    healthy: bool = Field(description="a run finished within twice the schedule period (no schedule: the last run)")


class JobStatus(BaseModel):
    job: JobName
    schedule: JobSchedule | None = Field(description="null when this deployment has no schedule for the job")
    default_limit: int | None
    stores: list[StoreJobStatus]

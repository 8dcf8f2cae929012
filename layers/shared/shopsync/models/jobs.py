"""Job runs: what was asked, what happened, and where an interrupted run resumes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shopsync.models.shop import ShopId


class JobName(StrEnum):
    PRODUCT_IMPORT = "product-import"
    ASSOCIATION = "association"
    CATALOG_REFRESH = "catalog-refresh"
    PREORDER_SWEEP = "preorder-sweep"
    ORDER_IMPORT = "order-import"


class RunStatus(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    FAILED = "FAILED"


class RunCounts(BaseModel):
    read: int = 0
    written: int = 0
    failed: int = 0
    skipped: int = 0

    def add(self, *, read: int = 0, written: int = 0, failed: int = 0, skipped: int = 0) -> None:
        self.read += read
        self.written += written
        self.failed += failed
        self.skipped += skipped


class FailedRecord(BaseModel):
    record_id: str
    reason: str


class JobRun(BaseModel):
    run_id: str
    job: JobName
    shop_id: str
    status: RunStatus
    trigger: Literal["schedule", "api"]
    params: dict[str, Any] = Field(default_factory=dict)
    queued_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    counts: RunCounts = Field(default_factory=RunCounts)
    shopify_cost: float = 0.0
    shopify_calls: int = 0
    error: str | None = None
    failed_records: list[FailedRecord] = Field(default_factory=list)
    completed: bool = Field(
        default=False, description="false when the run stopped before its deadline and left a cursor to resume"
    )
    watermark: datetime | None = Field(default=None, description="the watermark this run advanced to")


class RunRequest(BaseModel):
    """Body of POST /jobs/{job}/runs."""

    model_config = ConfigDict(extra="forbid")

    shop_id: ShopId | None = Field(default=None, description="defaults to the store the job runs for (the parent)")
    params: dict[str, Any] = Field(
        default_factory=dict,
        examples=[{"mode": "full"}, {"limit": 500}],
        description="job parameters; `limit` caps the records this run reads (the next run goes on)",
    )

    @field_validator("params")
    @classmethod
    def limit_is_a_positive_count(cls, params: dict[str, Any]) -> dict[str, Any]:
        limit = params.get("limit")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
            raise ValueError("params.limit must be a whole number of records, at least 1")
        return params


class JobInvocation(BaseModel):
    """The event a job Lambda receives: from its schedule, or from the API's "run now"."""

    model_config = ConfigDict(extra="ignore")

    source: Literal["schedule", "api"] = "schedule"
    run_id: str | None = None
    shop_id: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)


class Cursor(BaseModel):
    """Where an interrupted run resumes: its window and the job's own progress state."""

    run_id: str
    window_start: datetime | None = None
    window_end: datetime
    state: dict[str, Any]
    saved_at: datetime

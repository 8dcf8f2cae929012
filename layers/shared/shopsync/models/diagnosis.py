"""Answers of GET /products/{id}/diagnosis and GET /orders/{shop}/{shopifyOrderId}/diagnosis: the seeds'
troubleshooting checklists, each check a finding with a severity and what to do about it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from shopsync.models.job_control import StoreJobStatus
from shopsync.models.jobs import JobName
from shopsync.models.listing import ListingFields, PushStatus
from shopsync.models.orders import FailedOrder, OrderStatus
from shopsync.models.shop import ShopRole


class Severity(StrEnum):
    OK = "OK"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


class SuggestedAction(BaseModel):
    description: str
    method: str | None = Field(default=None, description="the API call that does it, if one does")
    path: str | None = None
    body: dict[str, Any] | None = None


class Finding(BaseModel):
    check: str = Field(description="catalog | presell | association | listing | job | order")
    severity: Severity
    shop_id: str | None = None
    message: str
    action: SuggestedAction | None = None


class JobHealth(BaseModel):
    job: JobName
    status: StoreJobStatus


class StoreListing(BaseModel):
    """One store: linked or not, what shopsync last pushed there and what it should show now."""

    shop_id: str
    role: ShopRole
    linked: bool
    not_linked_reason: str | None = None
    push_status: PushStatus | None = None
    shows: ListingFields | None = Field(default=None, description="what was last pushed (and confirmed) there")
    should_show: ListingFields | None = Field(
        default=None, description="what the pre-sell catalog asks for; quantity is decided at push time"
    )
    error: str | None = None
    next_attempt_at: datetime | None = None
    updated_at: datetime | None = None


class ProductDiagnosis(BaseModel):
    product_id: str
    in_catalog: bool
    presell_member: bool
    stores: list[StoreListing]
    jobs: list[JobHealth]
    findings: list[Finding]


class OrderVersionSummary(BaseModel):
    version: int
    status: OrderStatus
    tags: tuple[str, ...]
    imported_at: datetime
    superseded_at: datetime | None


class OrderDiagnosis(BaseModel):
    order_id: str
    shop_id: str
    imported: bool
    current_version: int | None
    versions: list[OrderVersionSummary]
    failure: FailedOrder | None
    jobs: list[JobHealth]
    findings: list[Finding]

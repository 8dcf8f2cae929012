"""Every job shopsync runs, and the Lambda that runs it. A new job adds one line here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from shopsync.catalog.association import ASSOCIATION
from shopsync.catalog.product_import import PRODUCT_IMPORT
from shopsync.catalog.refresh import CATALOG_REFRESH
from shopsync.errors import NotFound
from shopsync.jobs.runner import JobDefinition
from shopsync.models.jobs import JobName
from shopsync.orders.order_import import ORDER_IMPORT
from shopsync.preorder.triggers import PREORDER_SWEEP
from shopsync.settings import Settings, get_settings


@dataclass(frozen=True)
class RegisteredJob:
    definition: JobDefinition
    function_name: Callable[[Settings], str]
    # The schedule whose frequency PATCH /jobs changes (catalog-refresh: the incremental one, not the nightly full).
    schedule_name: Callable[[Settings], str | None]


JOBS: dict[JobName, RegisteredJob] = {
    JobName.PRODUCT_IMPORT: RegisteredJob(
        PRODUCT_IMPORT,
        lambda settings: settings.product_import_function,
        lambda settings: settings.product_import_schedule,
    ),
    JobName.ASSOCIATION: RegisteredJob(
        ASSOCIATION, lambda settings: settings.association_function, lambda settings: settings.association_schedule
    ),
    JobName.CATALOG_REFRESH: RegisteredJob(
        CATALOG_REFRESH,
        lambda settings: settings.catalog_refresh_function,
        lambda settings: settings.catalog_refresh_schedule,
    ),
    JobName.PREORDER_SWEEP: RegisteredJob(
        PREORDER_SWEEP,
        lambda settings: settings.preorder_sweep_function,
        lambda settings: settings.preorder_sweep_schedule,
    ),
    JobName.ORDER_IMPORT: RegisteredJob(
        ORDER_IMPORT, lambda settings: settings.order_import_function, lambda settings: settings.order_import_schedule
    ),
}


def registered_job(job: JobName) -> RegisteredJob:
    if job not in JOBS:
        raise NotFound(f"job {job.value} is not available in this deployment", job=job.value)
    return JOBS[job]


def function_name(job: JobName) -> str:
    return registered_job(job).function_name(get_settings())


def schedule_name(job: JobName) -> str | None:
    return registered_job(job).schedule_name(get_settings())

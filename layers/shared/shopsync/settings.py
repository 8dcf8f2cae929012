"""Runtime settings, read once from the environment (the template sets them; the local stack sets the same names)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    table_name: str = Field(default="shopsync", validation_alias="TABLE_NAME", min_length=3)
    environment: str = Field(default="dev", validation_alias="ENVIRONMENT")
    shopify_api_version: str = Field(
        default="2026-07", validation_alias="SHOPIFY_API_VERSION", pattern=r"^\d{4}-(01|04|07|10)$"
    )
    # Function names of the job Lambdas, for "run now" (the API invokes them asynchronously).
    product_import_function: str = Field(default="ProductImportFunction", validation_alias="PRODUCT_IMPORT_FUNCTION")
    association_function: str = Field(default="AssociationFunction", validation_alias="ASSOCIATION_FUNCTION")
    catalog_refresh_function: str = Field(default="CatalogRefreshFunction", validation_alias="CATALOG_REFRESH_FUNCTION")
    preorder_sweep_function: str = Field(default="PreorderSweepFunction", validation_alias="PREORDER_SWEEP_FUNCTION")
    order_import_function: str = Field(default="OrderImportFunction", validation_alias="ORDER_IMPORT_FUNCTION")
    # Names of the jobs' EventBridge Scheduler schedules (template.yaml `Name`), for GET/PATCH /jobs; unset: none.
    product_import_schedule: str | None = Field(default=None, validation_alias="PRODUCT_IMPORT_SCHEDULE")
    association_schedule: str | None = Field(default=None, validation_alias="ASSOCIATION_SCHEDULE")
    catalog_refresh_schedule: str | None = Field(default=None, validation_alias="CATALOG_REFRESH_SCHEDULE")
    preorder_sweep_schedule: str | None = Field(default=None, validation_alias="PREORDER_SWEEP_SCHEDULE")
    order_import_schedule: str | None = Field(default=None, validation_alias="ORDER_IMPORT_SCHEDULE")
    # How long before the Lambda deadline a job stops and leaves a cursor.
    deadline_margin_ms: int = Field(default=20_000, validation_alias="DEADLINE_MARGIN_MS", ge=0)
    lease_seconds: int = Field(default=900, validation_alias="LEASE_SECONDS", ge=30)
    run_history_days: int = Field(default=30, validation_alias="RUN_HISTORY_DAYS", ge=1)
    # Incremental imports re-read this much before the watermark; dedupe drops what was already seen.
    overlap_seconds: int = Field(default=300, validation_alias="OVERLAP_SECONDS", ge=0)
    bulk_poll_interval_s: float = Field(default=2.0, validation_alias="BULK_POLL_INTERVAL_S", gt=0)
    preorder_metafield_key: str = Field(
        default="PREORDER_DETAIL", validation_alias="PREORDER_METAFIELD_KEY", pattern=r"^[A-Za-z0-9_-]{2,64}$"
    )
    # From this many products changing in one store, listing fields go out as one bulk mutation (~10 points in all).
    bulk_mutation_min_products: int = Field(default=10, validation_alias="BULK_MUTATION_MIN_PRODUCTS", ge=1)
    # Listings whose push failed are retried by the sweep after 1, 2, 4 … minutes, capped here.
    sync_retry_max_minutes: int = Field(default=60, validation_alias="SYNC_RETRY_MAX_MINUTES", ge=1)
    # Failed order imports are retried by the import job after 5, 10, 20 … minutes, this many attempts in all.
    order_retry_max_attempts: int = Field(default=5, validation_alias="ORDER_RETRY_MAX_ATTEMPTS", ge=1)
    order_retry_base_minutes: int = Field(default=5, validation_alias="ORDER_RETRY_BASE_MINUTES", ge=1)
    # Shopify retries a delivery for up to 4 h with the same webhook id; its dedupe record outlives that.
    webhook_dedupe_hours: int = Field(default=48, validation_alias="WEBHOOK_DEDUPE_HOURS", ge=5)
    secret_cache_seconds: int = Field(default=300, validation_alias="SECRET_CACHE_SECONDS", ge=0)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()

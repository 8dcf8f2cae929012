"""Domain errors. The API maps each to one HTTP status with the error's reason; jobs record them on the run."""

from __future__ import annotations

from typing import Any


class ShopsyncError(Exception):
    """Base of every error shopsync raises on purpose."""

    status_code = 500

    def __init__(self, reason: str, **details: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details


class InvalidRequest(ShopsyncError):
    status_code = 400


class UnprocessableRequest(ShopsyncError):
    """Well-formed, but the data contradicts the system's state or the store's (e.g. wrong currency)."""

    status_code = 422


class Unauthorized(ShopsyncError):
    """The caller could not be authenticated (a webhook without a valid signature)."""

    status_code = 401


class NotFound(ShopsyncError):
    status_code = 404


class Conflict(ShopsyncError):
    status_code = 409


class JobAlreadyRunning(Conflict):
    def __init__(self, job: str, shop_id: str, running_run_id: str) -> None:
        super().__init__(
            f"job {job} is already running for shop {shop_id} (run {running_run_id})",
            running_run_id=running_run_id,
        )
        self.running_run_id = running_run_id


class ChildStoreRefused(UnprocessableRequest):
    """Product data comes from the parent store only; importing from a child would corrupt the catalog."""

    def __init__(self, job: str, shop_id: str) -> None:
        super().__init__(
            f"{job} runs only for the parent store; {shop_id} is a child store, whose products are linked by the "
            "association job, never imported",
            shop_id=shop_id,
        )


class UpstreamUnavailable(ShopsyncError):
    status_code = 502

"""The jobs' EventBridge Scheduler schedules (template.yaml names them; the local stack creates the same ones in moto).

The schedule itself is the one record of a job's frequency and of whether it fires at all: the API reads and
updates it here, and the local scheduler follows it through `get_schedule`, so nothing keeps a second copy.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel

from shopsync.store.aws import scheduler_client

ENABLED, DISABLED = "ENABLED", "DISABLED"
# UpdateSchedule replaces the whole definition: everything not changed here is sent back as it was read.
_KEPT_ON_UPDATE = (
    "GroupName",
    "Description",
    "ScheduleExpressionTimezone",
    "StartDate",
    "EndDate",
    "KmsKeyArn",
    "FlexibleTimeWindow",
    "Target",
    "ActionAfterCompletion",
)


class ScheduleState(BaseModel):
    name: str
    expression: str
    timezone: str
    enabled: bool
    modified_at: datetime | None


def _state(raw: dict[str, Any]) -> ScheduleState:
    return ScheduleState(
        name=raw["Name"],
        expression=raw["ScheduleExpression"],
        timezone=raw.get("ScheduleExpressionTimezone") or "UTC",
        enabled=raw.get("State", ENABLED) == ENABLED,
        modified_at=raw.get("LastModificationDate"),
    )


def _read(name: str) -> dict[str, Any] | None:
    try:
        return dict(scheduler_client().get_schedule(Name=name))
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return None
        raise


def get_schedule(name: str) -> ScheduleState | None:
    raw = _read(name)
    return _state(raw) if raw else None


def update_schedule(name: str, *, expression: str | None = None, enabled: bool | None = None) -> ScheduleState | None:
    """Change the expression and/or the state of a schedule; None when there is no such schedule."""
    raw = _read(name)
    if raw is None:
        return None
    request: dict[str, Any] = {key: raw[key] for key in _KEPT_ON_UPDATE if raw.get(key) is not None}
    request["Name"] = name
    request["ScheduleExpression"] = expression or raw["ScheduleExpression"]
    request["State"] = raw.get("State", ENABLED) if enabled is None else (ENABLED if enabled else DISABLED)
    scheduler_client().update_schedule(**request)
    return get_schedule(name)

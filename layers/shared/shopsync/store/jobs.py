"""Job bookkeeping: leases (one run per job and shop), run records, watermarks, resumable cursors and settings.

Items:
- lease / watermark / cursor  PK=JOB#<job>#<shop>  SK=LEASE | WATERMARK | CURSOR
- store settings              PK=JOB#<job>#<shop>  SK=CONFIG   {enabled, limit}
- job default settings        PK=JOB#<job>         SK=CONFIG   {limit}
- run                         PK=RUN#<run id>      SK=RUN      GSI1PK=RUNS#<job> GSI1SK=<queued at>#<run id>,
                                                               expires_at (TTL) = queued at + RUN_HISTORY_DAYS
"""

from __future__ import annotations

from datetime import datetime, timedelta

from shopsync.models.job_control import JobConfig
from shopsync.models.jobs import Cursor, JobRun, RunStatus
from shopsync.settings import get_settings
from shopsync.store import table


def _job_pk(job: str, shop_id: str) -> str:
    return f"JOB#{job}#{shop_id}"


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


class LeaseHeld(Exception):
    def __init__(self, holder_run_id: str) -> None:
        super().__init__(f"lease held by run {holder_run_id}")
        self.holder_run_id = holder_run_id


def acquire_lease(job: str, shop_id: str, run_id: str, now: datetime) -> str | None:
    """Take the (job, shop) lease for run_id: a conditional write that wins only if the lease is free, expired or
    already ours. Raises LeaseHeld with the live holder's run id. Returns the run id of an expired holder it
    replaced (that run crashed or timed out without releasing), else None.
    """
    expires = now + timedelta(seconds=get_settings().lease_seconds)
    try:
        replaced = table.put_item(
            {
                "PK": _job_pk(job, shop_id),
                "SK": "LEASE",
                "type": "LEASE",
                "run_id": run_id,
                "acquired_at": now.isoformat(),
                "lease_expires_at": _epoch(expires),
            },
            condition="attribute_not_exists(PK) OR lease_expires_at < :now OR run_id = :run",
            values={":now": _epoch(now), ":run": run_id},
        )
    except table.ConditionFailed as lost:
        raise LeaseHeld(lost.item["run_id"] if lost.item else "unknown") from lost
    if replaced and replaced["run_id"] != run_id:
        return str(replaced["run_id"])
    return None


def release_lease(job: str, shop_id: str, run_id: str) -> None:
    try:
        table.delete_item(_job_pk(job, shop_id), "LEASE", condition="run_id = :run", values={":run": run_id})
    except table.ConditionFailed:
        pass  # someone took over an expired lease; it is theirs now


def _run_item(run: JobRun) -> table.Item:
    expires = run.queued_at + timedelta(days=get_settings().run_history_days)
    return {
        "PK": f"RUN#{run.run_id}",
        "SK": "RUN",
        "type": "RUN",
        "GSI1PK": f"RUNS#{run.job}",
        "GSI1SK": f"{run.queued_at.isoformat()}#{run.run_id}",
        "expires_at": _epoch(expires),
        **run.model_dump(mode="json"),
    }


def save_run(run: JobRun) -> None:
    table.put_item(_run_item(run))


def get_run(run_id: str) -> JobRun | None:
    item = table.get_item(f"RUN#{run_id}", "RUN")
    return JobRun.model_validate(item) if item else None


def list_runs(
    job: str,
    *,
    status: RunStatus | None = None,
    since: datetime | None = None,
    shop_id: str | None = None,
    limit: int = 50,
) -> list[JobRun]:
    """Newest first."""
    condition = "GSI1PK = :pk"
    values: dict[str, object] = {":pk": f"RUNS#{job}"}
    if since is not None:
        condition += " AND GSI1SK >= :since"
        values[":since"] = since.isoformat()
    filters, names = [], {}
    if status is not None:
        filters.append("#status = :status")
        names["#status"] = "status"
        values[":status"] = status.value
    if shop_id is not None:
        filters.append("shop_id = :shop")
        values[":shop"] = shop_id
    items = table.query(
        condition,
        values,
        index="GSI1",
        forward=False,
        filter_expression=" AND ".join(filters) or None,
        names=names or None,
        limit=limit,
    )
    return [JobRun.model_validate(item) for item in items]


def get_watermark(job: str, shop_id: str) -> datetime | None:
    item = table.get_item(_job_pk(job, shop_id), "WATERMARK")
    return datetime.fromisoformat(item["watermark"]) if item else None


def save_watermark(job: str, shop_id: str, watermark: datetime, run_id: str) -> None:
    """Only moves forward, so a slow old run can never rewind what a newer one reached."""
    try:
        table.put_item(
            {
                "PK": _job_pk(job, shop_id),
                "SK": "WATERMARK",
                "type": "WATERMARK",
                "watermark": watermark.isoformat(),
                "watermark_epoch": watermark.timestamp(),
                "run_id": run_id,
            },
            condition="attribute_not_exists(PK) OR watermark_epoch <= :new",
            values={":new": watermark.timestamp()},
        )
    except table.ConditionFailed:
        pass  # a newer run already moved it further


def get_cursor(job: str, shop_id: str) -> Cursor | None:
    item = table.get_item(_job_pk(job, shop_id), "CURSOR")
    return Cursor.model_validate(item) if item else None


def save_cursor(job: str, shop_id: str, cursor: Cursor) -> None:
    table.put_item({"PK": _job_pk(job, shop_id), "SK": "CURSOR", "type": "CURSOR", **cursor.model_dump(mode="json")})


def clear_cursor(job: str, shop_id: str) -> None:
    table.delete_item(_job_pk(job, shop_id), "CURSOR")


def _config_pk(job: str, shop_id: str | None) -> str:
    return _job_pk(job, shop_id) if shop_id else f"JOB#{job}"


def get_config(job: str, shop_id: str | None) -> JobConfig | None:
    """A store's settings, or with shop_id None the job's default."""
    item = table.get_item(_config_pk(job, shop_id), "CONFIG")
    return JobConfig.model_validate(item) if item else None


def get_configs(job: str, shop_id: str) -> tuple[JobConfig | None, JobConfig | None]:
    """(the job's default settings, the store's own), in one read."""
    found = table.batch_get([(_config_pk(job, None), "CONFIG"), (_config_pk(job, shop_id), "CONFIG")])
    job_default, store = found.get((_config_pk(job, None), "CONFIG")), found.get((_config_pk(job, shop_id), "CONFIG"))
    return (
        JobConfig.model_validate(job_default) if job_default else None,
        JobConfig.model_validate(store) if store else None,
    )


def save_config(config: JobConfig) -> None:
    table.put_item(
        {
            "PK": _config_pk(config.job, config.shop_id),
            "SK": "CONFIG",
            "type": "JOB_CONFIG",
            **config.model_dump(mode="json"),
        }
    )

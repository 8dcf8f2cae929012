"""The template's schedules (ScheduleV2 / Schedule events), fired in-process.

Like EventBridge Scheduler, a due schedule invokes its function asynchronously with the schedule's Input, so
the function's retry and on-failure settings apply. A schedule with a `Name` also exists in (moto's) EventBridge
Scheduler, created from the template by the local stack; `follow_schedules()` reads it back with the same call the
API uses (shopsync.store.schedules), so a frequency or state changed through PATCH /jobs takes effect here exactly
as it does in AWS, and there is no local copy of the setting to drift.
`time_scale` runs the schedule clock faster than the wall clock (60 → a 15-minute rate fires every 15 s); rate
schedules fire a first time shortly after start so a fresh stack has data without waiting a full period. Missed
runs are not backfilled (Scheduler does not either).
`run_now()` invokes synchronously, for tests and demos that want a deterministic run.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from local.lambda_runtime import InvocationResult, LocalLambdaRuntime
from local.template import ScheduleEvent
from shopsync.jobs.frequency import CronExpression, Frequency, ScheduleExpressionError
from shopsync.store import schedules as schedule_store

__all__ = ["CronExpression", "LocalScheduler", "ScheduleExpressionError", "ScheduledFunction"]

log = logging.getLogger("local.scheduler")

# How often the running scheduler re-reads the deployed schedules (wall-clock seconds).
FOLLOW_INTERVAL_S = 1.0


@dataclass
class ScheduledFunction:
    function_name: str
    event: ScheduleEvent
    frequency: Frequency
    enabled: bool
    next_due: datetime | None = field(default=None)

    @classmethod
    def parse(cls, function_name: str, event: ScheduleEvent) -> ScheduledFunction:
        try:
            frequency = Frequency.parse(event.expression)
        except ScheduleExpressionError as error:
            raise ScheduleExpressionError(f"{function_name}.{event.name}: {error}") from error
        return cls(function_name, event, frequency, event.enabled)

    @property
    def rate_seconds(self) -> int | None:
        return self.frequency.rate_seconds

    def payload(self) -> Any:
        return json.loads(self.event.input) if self.event.input else {}

    def schedule_after(self, moment: datetime) -> None:
        """Set the next due time after a run at `moment` (or after start, for the first run)."""
        self.next_due = self.frequency.next_after(moment, self.event.timezone)

    def follow(self, deployed: schedule_store.ScheduleState, now: datetime) -> bool:
        """Take the deployed schedule's expression and state; True when either changed. Like Scheduler, a changed
        rate starts counting from the change."""
        if (deployed.expression, deployed.enabled) == (self.frequency.expression, self.enabled):
            return False
        self.frequency = Frequency.parse(deployed.expression)
        self.enabled = deployed.enabled
        self.schedule_after(now)
        return True


class LocalScheduler:
    def __init__(
        self,
        runtime: LocalLambdaRuntime,
        *,
        time_scale: float = 1.0,
        first_run_delay_seconds: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self._runtime = runtime
        self._time_scale = time_scale
        self._first_run_delay_seconds = first_run_delay_seconds
        self._clock = clock
        self.schedules = [
            ScheduledFunction.parse(name, event)
            for name in runtime.function_names
            for event in runtime.spec(name).schedules
        ]
        self._started_wall = datetime.now(UTC)
        self._started_clock = clock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def schedule_time(self) -> datetime:
        """The (possibly accelerated) clock schedules are evaluated against."""
        elapsed = (self._clock() - self._started_clock) * self._time_scale
        return self._started_wall + timedelta(seconds=elapsed)

    def run_now(self, function_name: str, schedule_name: str | None = None) -> InvocationResult:
        """Invoke a scheduled function synchronously with its schedule's Input."""
        for schedule in self.schedules:
            if not schedule.enabled:
                continue
            if schedule.function_name == function_name and schedule_name in {None, schedule.event.name}:
                return self._runtime.invoke(function_name, schedule.payload())
        raise LookupError(f"{function_name} has no enabled schedule {schedule_name or ''}".rstrip())

    def fire_due(self) -> int:
        """Invoke (asynchronously) every schedule that is due; returns how many fired."""
        now = self.schedule_time()
        fired = 0
        for schedule in self.schedules:
            if schedule.enabled and schedule.next_due is not None and schedule.next_due <= now:
                log.info("schedule %s.%s fires", schedule.function_name, schedule.event.name)
                self._runtime.invoke_async(schedule.function_name, schedule.payload())
                schedule.schedule_after(max(now, schedule.next_due))
                fired += 1
        return fired

    def follow_schedules(self) -> list[ScheduledFunction]:
        """Re-read every named schedule from EventBridge Scheduler (moto locally); returns those that changed."""
        now = self.schedule_time()
        changed = []
        for schedule in self.schedules:
            if not schedule.event.schedule_name:
                continue
            deployed = schedule_store.get_schedule(schedule.event.schedule_name)
            if deployed is not None and schedule.follow(deployed, now):
                log.info(
                    "schedule %s now %s (%s)", deployed.name, deployed.expression, "on" if deployed.enabled else "off"
                )
                changed.append(schedule)
        return changed

    def arm(self) -> None:
        """Start the schedule clock now and compute each schedule's first due time (`start()` does this)."""
        self._started_wall = datetime.now(UTC)
        self._started_clock = self._clock()
        first_run = self._started_wall + timedelta(seconds=self._first_run_delay_seconds * self._time_scale)
        for schedule in self.schedules:
            if schedule.frequency.rate_seconds is not None:
                schedule.next_due = first_run
            else:
                schedule.schedule_after(self._started_wall)

    def start(self) -> None:
        self.arm()
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        followed_at = 0.0
        while not self._stopping.is_set():
            try:
                if time.monotonic() - followed_at >= FOLLOW_INTERVAL_S:
                    self.follow_schedules()
                    followed_at = time.monotonic()
                self.fire_due()
            except Exception:
                log.exception("scheduler tick failed")
            self._stopping.wait(0.2)

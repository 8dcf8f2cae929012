"""The template's schedules (ScheduleV2 / Schedule events), fired in-process.

Like EventBridge Scheduler, a due schedule invokes its function asynchronously with the schedule's Input, so
the function's retry and on-failure settings apply. `time_scale` runs the schedule clock faster than the wall
clock (60 → a 15-minute rate fires every 15 s); rate schedules fire a first time shortly after start so a
fresh stack has data without waiting a full period. Missed runs are not backfilled (Scheduler does not either).
`run_now()` invokes synchronously, for tests and demos that want a deterministic run.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from local.lambda_runtime import InvocationResult, LocalLambdaRuntime
from local.template import ScheduleEvent

log = logging.getLogger("local.scheduler")

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES, 1)}
_WEEKDAYS = {name: number for number, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), 1)}  # SUN=1
_CRON_SEARCH_DAYS = 366 * 5


class ScheduleExpressionError(ValueError):
    pass


@dataclass(frozen=True)
class CronExpression:
    """AWS cron: minutes hours day-of-month month day-of-week year (no L, W or # locally)."""

    minutes: frozenset[int]
    hours: frozenset[int]
    days_of_month: frozenset[int] | None  # None: "?"
    months: frozenset[int]
    days_of_week: frozenset[int] | None  # None: "?"; 1 = Sunday
    years: frozenset[int]

    @classmethod
    def parse(cls, fields_text: str) -> CronExpression:
        fields = fields_text.split()
        if len(fields) != 6:
            raise ScheduleExpressionError(f"cron needs 6 fields, got {fields_text!r}")
        minutes, hours, day_of_month, month, day_of_week, year = fields
        if (day_of_month == "?") == (day_of_week == "?"):
            raise ScheduleExpressionError("cron: exactly one of day-of-month and day-of-week must be '?'")
        return cls(
            minutes=_cron_field(minutes, 0, 59),
            hours=_cron_field(hours, 0, 23),
            days_of_month=None if day_of_month == "?" else _cron_field(day_of_month, 1, 31),
            months=_cron_field(month, 1, 12, _MONTHS),
            days_of_week=None if day_of_week == "?" else _cron_field(day_of_week, 1, 7, _WEEKDAYS),
            years=_cron_field(year, 1970, 2199),
        )

    def next_after(self, moment: datetime) -> datetime | None:
        """First matching minute strictly after `moment`, in moment's time zone."""
        start = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
        day = start.replace(hour=0, minute=0)
        for _ in range(_CRON_SEARCH_DAYS):
            if self._day_matches(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        candidate = day.replace(hour=hour, minute=minute)
                        if candidate >= start:
                            return candidate
            day += timedelta(days=1)
        return None

    def _day_matches(self, day: datetime) -> bool:
        if day.year not in self.years or day.month not in self.months:
            return False
        if self.days_of_month is not None:
            return day.day in self.days_of_month
        assert self.days_of_week is not None
        return (day.isoweekday() % 7) + 1 in self.days_of_week  # isoweekday: Monday=1 … Sunday=7


def _cron_field(text: str, low: int, high: int, names: dict[str, int] | None = None) -> frozenset[int]:
    values: set[int] = set()
    for part in text.upper().split(","):
        span, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if span in {"*", "?"}:
            first, last = low, high
        elif "-" in span:
            first_text, last_text = span.split("-", 1)
            first, last = _cron_value(first_text, names), _cron_value(last_text, names)
        else:
            first = _cron_value(span, names)
            last = high if step_text else first
        if not low <= first <= last <= high or step < 1:
            raise ScheduleExpressionError(f"cron field {text!r} is out of range {low}-{high}")
        values.update(range(first, last + 1, step))
    return frozenset(values)


def _cron_value(text: str, names: dict[str, int] | None) -> int:
    if names and text in names:
        return names[text]
    if not text.isdigit():  # L, W and # land here too
        raise ScheduleExpressionError(f"cron value {text!r} is not supported locally (numbers, names, * ? - / ,)")
    return int(text)


@dataclass
class ScheduledFunction:
    function_name: str
    event: ScheduleEvent
    rate_seconds: int | None = None
    cron: CronExpression | None = None
    next_due: datetime | None = field(default=None)

    @classmethod
    def parse(cls, function_name: str, event: ScheduleEvent) -> ScheduledFunction:
        if rate := _RATE.match(event.expression):
            amount, unit = int(rate.group(1)), rate.group(2).rstrip("s")
            return cls(function_name, event, rate_seconds=amount * _UNIT_SECONDS[unit])
        if cron := _CRON.match(event.expression):
            return cls(function_name, event, cron=CronExpression.parse(cron.group(1)))
        raise ScheduleExpressionError(f"{function_name}.{event.name}: cannot parse {event.expression!r}")

    def payload(self) -> Any:
        return json.loads(self.event.input) if self.event.input else {}

    def schedule_after(self, moment: datetime) -> None:
        """Set the next due time after a run at `moment` (or after start, for the first run)."""
        if self.rate_seconds is not None:
            self.next_due = moment + timedelta(seconds=self.rate_seconds)
        else:
            assert self.cron is not None
            local_moment = moment.astimezone(ZoneInfo(self.event.timezone))
            due = self.cron.next_after(local_moment)
            self.next_due = due.astimezone(UTC) if due else None


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
            if event.enabled
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
            if schedule.function_name == function_name and schedule_name in {None, schedule.event.name}:
                return self._runtime.invoke(function_name, schedule.payload())
        raise LookupError(f"{function_name} has no enabled schedule {schedule_name or ''}".rstrip())

    def fire_due(self) -> int:
        """Invoke (asynchronously) every schedule that is due; returns how many fired."""
        now = self.schedule_time()
        fired = 0
        for schedule in self.schedules:
            if schedule.next_due is not None and schedule.next_due <= now:
                log.info("schedule %s.%s fires", schedule.function_name, schedule.event.name)
                self._runtime.invoke_async(schedule.function_name, schedule.payload())
                schedule.schedule_after(max(now, schedule.next_due))
                fired += 1
        return fired

    def arm(self) -> None:
        """Start the schedule clock now and compute each schedule's first due time (`start()` does this)."""
        self._started_wall = datetime.now(UTC)
        self._started_clock = self._clock()
        first_run = self._started_wall + timedelta(seconds=self._first_run_delay_seconds * self._time_scale)
        for schedule in self.schedules:
            if schedule.rate_seconds is not None:
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
        while not self._stopping.is_set():
            try:
                self.fire_due()
            except Exception:
                log.exception("scheduler tick failed")
            self._stopping.wait(0.2)

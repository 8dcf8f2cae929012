"""EventBridge Scheduler expressions (`rate(...)`, `cron(...)`): parsed once here for the job-control API (validate a
new frequency, say when a job runs next) and for the local scheduler, so both read a schedule the same way."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

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
    """AWS cron: minutes hours day-of-month month day-of-week year (L, W and # are refused)."""

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
        raise ScheduleExpressionError(f"cron value {text!r} is not supported (numbers, names, * ? - / ,)")
    return int(text)


@dataclass(frozen=True)
class Frequency:
    """A parsed schedule expression: a fixed rate or a cron."""

    expression: str
    rate_seconds: int | None = None
    cron: CronExpression | None = None

    @classmethod
    def parse(cls, expression: str) -> Frequency:
        if rate := _RATE.match(expression):
            amount, unit = int(rate.group(1)), rate.group(2).rstrip("s")
            if amount < 1:
                raise ScheduleExpressionError(f"{expression!r}: the rate must be at least 1")
            return cls(expression, rate_seconds=amount * _UNIT_SECONDS[unit])
        if cron := _CRON.match(expression):
            return cls(expression, cron=CronExpression.parse(cron.group(1)))
        raise ScheduleExpressionError(
            f"cannot parse {expression!r}: use rate(<n> minutes|hours|days) or cron(<6 fields>)"
        )

    def next_after(self, moment: datetime, timezone: str = "UTC", *, anchor: datetime | None = None) -> datetime | None:
        """The first firing strictly after `moment` (UTC). A rate fires at `anchor` + k periods (Scheduler starts a
        rate schedule when it is created or updated); a cron at its matching minutes in `timezone`."""
        if self.rate_seconds is not None:
            start = anchor or moment
            periods = max(0, int((moment - start).total_seconds() // self.rate_seconds)) + 1
            return start + timedelta(seconds=periods * self.rate_seconds)
        assert self.cron is not None
        due = self.cron.next_after(moment.astimezone(ZoneInfo(timezone)))
        return due.astimezone(UTC) if due else None

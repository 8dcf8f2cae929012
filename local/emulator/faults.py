"""Fault injection per store: 5xx, 429, THROTTLED, latency and timeouts on demand."""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal, get_args

FaultKind = Literal["5xx", "500", "429", "throttled", "latency", "timeout"]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)
DEFAULT_TIMEOUT_S = 30.0


@dataclass
class FaultRule:
    """Fires for the next `count` requests, or with probability `rate`, or (neither given) for every request."""

    kind: str
    count: int | None = None
    rate: float | None = None
    seed: int | None = None
    latency_s: float = 0.0
    retry_after_s: float = 1.0
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {', '.join(FAULT_KINDS)}")
        if self.count is not None and self.count < 0:
            raise ValueError("count must be >= 0")
        if self.rate is not None and not 0.0 <= self.rate <= 1.0:
            raise ValueError("rate must be within [0, 1]")
        if self.latency_s < 0 or self.retry_after_s < 0:
            raise ValueError("latency_s and retry_after_s must be >= 0")
        self._rng = random.Random(self.seed)

    @property
    def exhausted(self) -> bool:
        return self.count is not None and self.count <= 0

    def fires(self) -> bool:
        if self.exhausted:
            return False
        if self.rate is not None and self._rng.random() >= self.rate:
            return False
        if self.count is not None:
            self.count -= 1
        return True

    @property
    def sleep_s(self) -> float:
        if self.kind == "timeout":
            return self.latency_s or DEFAULT_TIMEOUT_S
        return self.latency_s if self.kind == "latency" else 0.0


class FaultInjector:
    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()
        self.injected: Counter[str] = Counter()

    def add(self, rule: FaultRule) -> None:
        with self._lock:
            self._rules.append(rule)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def next_fault(self) -> FaultRule | None:
        """The first rule that fires for this request (rules are checked in the order they were added)."""
        with self._lock:
            for rule in self._rules:
                if rule.fires():
                    self.injected[rule.kind] += 1
                    self._rules = [r for r in self._rules if not r.exhausted]
                    return rule
            self._rules = [r for r in self._rules if not r.exhausted]
            return None

    def describe(self) -> list[dict[str, object]]:
        with self._lock:
            return [{"kind": r.kind, "count": r.count, "rate": r.rate, "latency_s": r.latency_s} for r in self._rules]

"""Per-store leaky bucket of GraphQL cost points (Shopify's calculated query cost throttle)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ThrottleStatus:
    maximum_available: float
    currently_available: float
    restore_rate: float

    def as_json(self) -> dict[str, float | int]:
        # Shopify reports the live level as a whole number and the limits as floats.
        return {
            "maximumAvailable": float(self.maximum_available),
            "currentlyAvailable": int(self.currently_available),
            "restoreRate": float(self.restore_rate),
        }


class LeakyBucket:
    """Starts full, refills continuously at `restore_rate` points per second up to `capacity`."""

    def __init__(self, capacity: float, restore_rate: float, monotonic: Callable[[], float]) -> None:
        if capacity <= 0 or restore_rate <= 0:
            raise ValueError("bucket capacity and restore rate must be positive")
        self.capacity = float(capacity)
        self.restore_rate = float(restore_rate)
        self._monotonic = monotonic
        self._level = self.capacity
        self._stamp = monotonic()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._monotonic()
        elapsed = max(0.0, now - self._stamp)  # a clock that steps back must not drain the bucket
        self._level = min(self.capacity, self._level + elapsed * self.restore_rate)
        self._stamp = now

    def status(self) -> ThrottleStatus:
        with self._lock:
            self._refill()
            return ThrottleStatus(self.capacity, self._level, self.restore_rate)

    def try_take(self, points: float) -> tuple[bool, ThrottleStatus]:
        """Charge `points` if the bucket holds at least that many; the status is read after the charge."""
        with self._lock:
            self._refill()
            granted = self._level >= points
            if granted:
                self._level -= points
            return granted, ThrottleStatus(self.capacity, self._level, self.restore_rate)

    def refund(self, points: float) -> ThrottleStatus:
        with self._lock:
            self._refill()
            self._level = min(self.capacity, self._level + max(0.0, points))
            return ThrottleStatus(self.capacity, self._level, self.restore_rate)

    def drain(self, points: float | None = None) -> None:
        """Test helper: empty the bucket (or remove `points`) without a request."""
        with self._lock:
            self._refill()
            self._level = 0.0 if points is None else max(0.0, self._level - points)

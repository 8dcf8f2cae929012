"""A local model of Shopify's leaky cost bucket, so the client waits *before* it would be throttled.

Shopify reports `extensions.cost.throttleStatus` on every response: how many points are available, the bucket size and
the restore rate. Between readings the bucket refills linearly, so the credit available at time t is
`min(maximum, available + restore_rate * (t - t_reading))`. The limit is per app and store, so every client of the same
store in this process shares one `CostBucket` (see `cost_bucket_for`).
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass

from shopsync.shopify.responses import ThrottleStatus

# Cost assumed for an operation this process has not sent to the store yet. The highest cost already seen on the
# store is used when larger: waiting a little too long once is cheaper than a THROTTLED round trip.
UNSEEN_OPERATION_COST = 100.0
# Float slack so a wait computed to the exact point does not land a hair short of the server's figure.
_EPSILON_POINTS = 0.5
# Before the first reading nothing is known about the bucket: one request goes, the others check back this often.
FIRST_READING_POLL_S = 0.2


@dataclass(frozen=True)
class Reservation:
    """Credit set aside for one request: wait `wait_s`, send, then hand it back through `observe` and `settle`.

    A provisional reservation (no reading yet, another request already out) holds no credit: after waiting, the
    caller releases it and reserves again."""

    ticket: int
    cost: float
    wait_s: float
    provisional: bool = False


class CostBucket:
    """Thread-safe bucket model for one store. Times are whatever monotonic clock the callers pass in.

    Concurrency: a reading returned for one request does not include the cost of requests other threads sent
    meanwhile, so reservations still in flight are subtracted from it; and a reading older than the one already
    applied (responses can arrive out of order) is ignored."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._maximum: float | None = None
        self._available = 0.0
        self._restore_rate = 0.0
        self._projected_from = 0.0
        self._reading_sent_at: float | None = None
        self._requested_cost_by_operation: dict[str, float] = {}
        self._in_flight: dict[int, float] = {}
        self._tickets = itertools.count(1)

    def expected_cost(self, operation_name: str) -> float:
        """The last requested cost Shopify reported for this operation, else a conservative guess."""
        with self._lock:
            known = self._requested_cost_by_operation.get(operation_name)
            if known is not None:
                return known
            highest_seen = max(self._requested_cost_by_operation.values(), default=0.0)
            return max(UNSEEN_OPERATION_COST, highest_seen)

    def remember_cost(self, operation_name: str, requested_cost: float) -> None:
        with self._lock:
            self._requested_cost_by_operation[operation_name] = requested_cost

    def available(self, now: float) -> float | None:
        """Modelled credit at `now`; None until the first reading."""
        with self._lock:
            return self._projected(now)

    def reserve(self, cost: float, now: float) -> Reservation:
        """Set `cost` points aside and say how long to wait before sending. The cost is debited at once so
        concurrent callers queue behind each other instead of all seeing the same credit."""
        with self._lock:
            ticket = next(self._tickets)
            projected = self._projected(now)
            if projected is None or self._maximum is None or self._restore_rate <= 0:
                if self._in_flight:
                    return Reservation(ticket=ticket, cost=0.0, wait_s=FIRST_READING_POLL_S, provisional=True)
                self._in_flight[ticket] = 0.0
                return Reservation(ticket=ticket, cost=0.0, wait_s=0.0)
            # A cost above the bucket size can never be covered; wait for a full bucket instead of forever.
            needed = min(cost, self._maximum)
            shortfall = needed - projected
            wait_s = (shortfall + _EPSILON_POINTS) / self._restore_rate if shortfall > 0 else 0.0
            self._available = projected - needed
            self._projected_from = now
            self._in_flight[ticket] = needed
            return Reservation(ticket=ticket, cost=needed, wait_s=wait_s)

    def observe(self, status: ThrottleStatus, sent_at: float, received_at: float, reservation: Reservation) -> None:
        """Apply Shopify's reading from the response to the request sent at `sent_at` and answered at `received_at`.
        The server read its bucket somewhere in between: projecting the refill from `received_at` under-estimates it
        (safe), while `sent_at` orders readings of concurrent requests."""
        with self._lock:
            self._in_flight.pop(reservation.ticket, None)
            if self._reading_sent_at is not None and sent_at < self._reading_sent_at:
                return
            self._maximum = status.maximum_available
            self._available = status.currently_available - sum(self._in_flight.values())
            self._restore_rate = status.restore_rate
            self._projected_from = received_at
            self._reading_sent_at = sent_at

    def settle(self, reservation: Reservation) -> None:
        """The request is over (with or without a reading): stop counting it as in flight. Its cost stays debited
        until the next reading: a failed request may still have been charged."""
        with self._lock:
            self._in_flight.pop(reservation.ticket, None)

    def release(self, reservation: Reservation, now: float) -> None:
        """Give back a reservation whose request was never sent."""
        with self._lock:
            self._in_flight.pop(reservation.ticket, None)
            projected = self._projected(now)
            if projected is None or self._maximum is None:
                return
            self._available = min(self._maximum, projected + reservation.cost)
            self._projected_from = now

    def _projected(self, now: float) -> float | None:
        if self._maximum is None:
            return None
        elapsed = max(0.0, now - self._projected_from)
        return min(self._maximum, self._available + self._restore_rate * elapsed)


_buckets: dict[str, CostBucket] = {}
_buckets_lock = threading.Lock()


def cost_bucket_for(base_url: str) -> CostBucket:
    """The process-wide bucket model of the store at `base_url`."""
    key = base_url.rstrip("/")
    with _buckets_lock:
        bucket = _buckets.get(key)
        if bucket is None:
            bucket = _buckets[key] = CostBucket()
        return bucket


def reset_cost_buckets() -> None:
    """Forget every store's model (tests that recreate a store under the same URL call this)."""
    with _buckets_lock:
        _buckets.clear()

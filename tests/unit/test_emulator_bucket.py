"""Leaky bucket and fault rules: pure, clock-driven, deterministic."""

import pytest

from local.emulator.bucket import LeakyBucket
from local.emulator.faults import FaultInjector, FaultRule


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_bucket_charges_refunds_and_refills_up_to_capacity():
    ticks = Ticks()
    bucket = LeakyBucket(100, 10, ticks)
    granted, status = bucket.try_take(80)
    assert granted and status.currently_available == 20
    assert not bucket.try_take(30)[0]  # refused requests cost nothing
    assert bucket.refund(5).currently_available == 25
    ticks.now += 2.5
    assert bucket.status().currently_available == 50
    ticks.now += 60
    assert bucket.status().currently_available == 100
    assert bucket.status().as_json() == {"maximumAvailable": 100.0, "currentlyAvailable": 100, "restoreRate": 10.0}


def test_a_clock_going_backwards_does_not_drain_the_bucket():
    ticks = Ticks()
    bucket = LeakyBucket(100, 10, ticks)
    bucket.try_take(50)
    ticks.now -= 100
    assert bucket.status().currently_available == 50


def test_count_rules_fire_exactly_n_times_then_disappear():
    faults = FaultInjector()
    faults.add(FaultRule("5xx", count=2))
    assert [f.kind if (f := faults.next_fault()) else None for _ in range(3)] == ["5xx", "5xx", None]
    assert faults.describe() == []
    assert faults.injected["5xx"] == 2


def test_rate_rules_are_reproducible_with_a_seed():
    def pattern() -> list[bool]:
        faults = FaultInjector()
        faults.add(FaultRule("429", rate=0.3, seed=7))
        return [faults.next_fault() is not None for _ in range(50)]

    first = pattern()
    assert first == pattern()
    assert 5 < sum(first) < 25


def test_invalid_rules_are_refused():
    with pytest.raises(ValueError, match="unknown fault kind"):
        FaultRule("teapot")
    with pytest.raises(ValueError):
        FaultRule("429", rate=1.5)

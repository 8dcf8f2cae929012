"""Integration fixtures: the Shopify emulator on a loopback port with the demo stores, their tokens in (moto)
Secrets Manager, and the stores registered (local.sandbox holds the pieces; benchmarks use the same)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local.sandbox import RunningEmulator, create_store_tokens, register_demo_shops, running_emulator
from shopsync.models.shop import Shop


@pytest.fixture(scope="module")
def shopify() -> Iterator[RunningEmulator]:
    """A freshly seeded emulator per test module (tests in one module may change its data)."""
    with running_emulator() as emulator:
        yield emulator


@pytest.fixture
def store_tokens(aws_table: str) -> None:
    create_store_tokens()


@pytest.fixture
def demo_shops(shopify: RunningEmulator, store_tokens: None) -> dict[str, Shop]:
    return register_demo_shops(shopify)

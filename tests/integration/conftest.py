"""Integration fixtures: the Shopify emulator on a loopback port with the demo stores, their tokens in (moto)
Secrets Manager, and the stores registered."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import boto3
import pytest

from local.emulator import ShopifyEmulator, serve_in_thread
from local.emulator.seed import seed_demo_stores
from shopsync.models.shop import IdentifierType, Shop, ShopRole
from tests.factories import register_shop_record

DEMO_STORES = {
    "us-parent": (ShopRole.PARENT, IdentifierType.SKU, "USD"),
    "eu-child": (ShopRole.CHILD, IdentifierType.SKU, "EUR"),
    "uk-child": (ShopRole.CHILD, IdentifierType.BARCODE, "GBP"),
}


@dataclass(frozen=True)
class RunningEmulator:
    emulator: ShopifyEmulator
    base_url: str

    def store_url(self, shop_id: str) -> str:
        return f"{self.base_url}/stores/{shop_id}"


@pytest.fixture(scope="module")
def shopify() -> Iterator[RunningEmulator]:
    """A freshly seeded emulator per test module (tests in one module may change its data)."""
    emulator = ShopifyEmulator()
    seed_demo_stores(emulator=emulator)
    server, base_url = serve_in_thread(emulator, host="127.0.0.1", port=0)
    yield RunningEmulator(emulator, base_url)
    server.shutdown()


def token_secret_name(shop_id: str) -> str:
    return f"shopsync/test/shopify/{shop_id}"


def create_store_tokens() -> None:
    """The demo stores' tokens in (moto) Secrets Manager."""
    client = boto3.client("secretsmanager")
    for shop_id in DEMO_STORES:
        client.create_secret(Name=token_secret_name(shop_id), SecretString=f"shpat_local_{shop_id}")


def register_demo_shops(shopify: RunningEmulator) -> dict[str, Shop]:
    """The three demo stores registered (straight to the table) against the running emulator."""
    return {
        shop_id: register_shop_record(
            shop_id, role=role, base_url=shopify.store_url(shop_id), identifier_type=kind, currency=currency
        )
        for shop_id, (role, kind, currency) in DEMO_STORES.items()
    }


@pytest.fixture
def store_tokens(aws_table: str) -> None:
    create_store_tokens()


@pytest.fixture
def demo_shops(shopify: RunningEmulator, store_tokens: None) -> dict[str, Shop]:
    return register_demo_shops(shopify)

"""shopsync in one process, for benchmarks and tests: moto in-process with the template's table, the seeded Shopify
emulator on a loopback port, the demo stores' tokens in (moto) Secrets Manager and the stores registered."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import boto3
from moto import mock_aws

from local.emulator import ShopifyEmulator, serve_in_thread
from local.emulator.seed import seed_demo_stores
from local.resources import create_table
from local.stack import STORE_REGISTRATION
from local.template import SamTemplate
from shopsync.models.shop import IdentifierType, Shop, ShopRole
from shopsync.process import reset_process_state
from shopsync.store import shops as shop_store

CURRENCIES = {"us-parent": "USD", "eu-child": "EUR", "uk-child": "GBP"}


@dataclass(frozen=True)
class RunningEmulator:
    emulator: ShopifyEmulator
    base_url: str

    def store_url(self, shop_id: str) -> str:
        return f"{self.base_url}/stores/{shop_id}"


@contextmanager
def running_emulator() -> Iterator[RunningEmulator]:
    emulator = ShopifyEmulator()
    seed_demo_stores(emulator=emulator)
    server, base_url = serve_in_thread(emulator, host="127.0.0.1", port=0)
    try:
        yield RunningEmulator(emulator, base_url)
    finally:
        server.shutdown()


def token_secret_name(shop_id: str) -> str:
    return f"shopsync/test/shopify/{shop_id}"


def create_store_tokens() -> None:
    client = boto3.client("secretsmanager")
    for shop_id in STORE_REGISTRATION:
        client.create_secret(Name=token_secret_name(shop_id), SecretString=f"shpat_local_{shop_id}")


def register_shop_record(
    shop_id: str,
    *,
    role: ShopRole = ShopRole.PARENT,
    base_url: str = "http://127.0.0.1:9/stores/x",
    identifier_type: IdentifierType = IdentifierType.SKU,
    currency: str = "USD",
) -> Shop:
    """A registration written straight to the table (no store verification): for what comes after registering."""
    now = datetime.now(UTC)
    shop = Shop(
        shop_id=shop_id,
        role=role,
        name=shop_id,
        admin_api_base_url=base_url,
        api_version="2026-07",
        identifier_type=identifier_type,
        currency=currency,
        token_secret_name=token_secret_name(shop_id),
        created_at=now,
        updated_at=now,
    )
    shop_store.save_shop(shop, shop_store.get_shop(shop_id))
    return shop


def register_demo_shops(shopify: RunningEmulator) -> dict[str, Shop]:
    return {
        shop_id: register_shop_record(
            shop_id,
            role=ShopRole(registration["role"]),
            base_url=shopify.store_url(shop_id),
            identifier_type=IdentifierType(registration["identifier_type"]),
            currency=CURRENCIES[shop_id],
        )
        for shop_id, registration in STORE_REGISTRATION.items()
    }


def create_table_from_template(table_name: str, *, stream: bool = True) -> str:
    """The table as template.yaml declares it. Without `stream`, moto keeps no record of every write, which makes
    its transactions (a snapshot of the table each) much cheaper where nothing reads the stream."""
    (properties,) = SamTemplate.load().tables().values()
    if not stream:
        properties = {key: value for key, value in properties.items() if key != "StreamSpecification"}
    create_table(table_name, properties)
    return table_name


@dataclass(frozen=True)
class Sandbox:
    shopify: RunningEmulator
    shops: dict[str, Shop]


@contextmanager
def sandbox(table_name: str = "shopsync-sandbox") -> Iterator[Sandbox]:
    """Everything a benchmark needs in-process. Points this process's AWS clients at moto while it runs."""
    saved = {
        name: os.environ.get(name)
        for name in (
            "TABLE_NAME",
            "AWS_DEFAULT_REGION",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_ACCOUNT_ID_ENDPOINT_MODE",
        )
    }
    os.environ.update(
        {
            "TABLE_NAME": table_name,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "sandbox",
            "AWS_SECRET_ACCESS_KEY": "sandbox",
            "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        }
    )
    endpoints = {name: os.environ.pop(name) for name in list(os.environ) if name.startswith("AWS_ENDPOINT_URL")}
    try:
        with mock_aws(), running_emulator() as shopify:
            reset_process_state()
            create_table_from_template(table_name, stream=False)  # no stream consumer runs in a sandbox
            create_store_tokens()
            yield Sandbox(shopify, register_demo_shops(shopify))
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        os.environ.update(endpoints)
        reset_process_state()

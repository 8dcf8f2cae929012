"""The whole local stack as `make up` starts it: template.yaml, real handlers, the seeded Shopify emulator."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest

from local.stack import STORE_REGISTRATION, LocalStack, Ports

pytestmark = pytest.mark.e2e

RUN_TIMEOUT_S = 8


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(ports=Ports.ephemeral(), start_scheduler=False, async_retry_delay_seconds=0) as running:
        yield running


@pytest.fixture
def api(stack: LocalStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.api_url, timeout=10) as client:
        yield client


def wait_for_run(api: httpx.Client, run_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline:
        run: dict[str, Any] = api.get(f"/runs/{run_id}").json()
        if run["status"] in {"FINISHED", "FAILED"}:
            return run
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} still not finished after {RUN_TIMEOUT_S} s")


def test_health_reports_every_endpoint_once_started(stack: LocalStack, api: httpx.Client) -> None:
    assert api.get("/health").json() == {
        "status": "ok",
        "api": stack.api_url,
        "emulator": stack.emulator_url,
        "moto": stack.moto_url,
    }


def test_seeded_stores_are_registered_through_the_api_with_their_tokens_and_webhook_keys(
    stack: LocalStack, api: httpx.Client
) -> None:
    shops = {shop["shop_id"]: shop for shop in api.get("/shops").json()}

    assert set(shops) == set(STORE_REGISTRATION)
    for shop_id, registration in STORE_REGISTRATION.items():
        assert (shops[shop_id]["role"], shops[shop_id]["identifier_type"]) == (
            registration["role"],
            registration["identifier_type"],
        )
        assert shops[shop_id]["admin_api_base_url"] == stack.store_url(shop_id)
        secrets = boto3.client("secretsmanager")
        assert secrets.get_secret_value(SecretId=shops[shop_id]["token_secret_name"])["SecretString"] == (
            f"shpat_local_{shop_id}"
        )
        # And each store's webhooks are accepted: its domain and signing key are known, its order topics subscribed
        assert shops[shop_id]["myshopify_domain"] == f"{shop_id}.myshopify.com"
        webhook_key = secrets.get_secret_value(SecretId=shops[shop_id]["webhook_secret_name"])["SecretString"]
        assert webhook_key == stack.emulator.store(shop_id).webhooks.secret


def test_run_now_reaches_the_job_lambda_through_the_invoke_api(stack: LocalStack, api: httpx.Client) -> None:
    # Given the API's "run now" route, which calls lambda.invoke(InvocationType="Event") as in AWS
    response = api.post("/jobs/product-import/runs", json={"shop_id": "us-parent", "params": {"mode": "full"}})
    assert response.status_code == 202

    # When the asynchronous invocation has run
    run = wait_for_run(api, response.json()["run_id"])

    # Then the product-import handler imported the parent catalog into the moto table
    assert run["status"] == "FINISHED", run
    assert run["counts"]["written"] > 0
    # And its writes reach the stream, which the template's consumers read, each through its own filter
    consumers = {consumer.function_name: consumer for consumer in stack.poller.consumers}
    assert set(consumers) == {"PreorderSyncFunction", "OrderWebhookFunction"}
    assert all(consumer.event.filter_patterns for consumer in consumers.values())

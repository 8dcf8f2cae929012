"""Operating shopsync on the local stack over HTTP (issue 6): job control reaching the schedules and the runner, run
history with errors, and the diagnosis of seed 001's cases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from local.operator import Operator
from local.stack import LocalStack, Ports
from shopsync.catalog.identifiers import legacy_id
from shopsync.models.listing import ListingState, PushStatus
from shopsync.models.orders import FailedOrder, FailureReason, OrderProblem
from shopsync.store import listings as listing_store
from shopsync.store import orders as order_store
from shopsync.store import secrets

pytestmark = pytest.mark.e2e

ASSOCIATION_SCHEDULE = "shopsync-dev-association"


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(ports=Ports.ephemeral(), start_scheduler=False, async_retry_delay_seconds=0) as running:
        yield running


@pytest.fixture(scope="module")
def operator(stack: LocalStack) -> Iterator[Operator]:
    operator = Operator(stack.api_url, stack.emulator_url)
    assert operator.run_job("product-import", "us-parent", mode="full")["status"] == "FINISHED"
    yield operator
    operator.close()


def patch_job(operator: Operator, job: str, body: dict[str, Any]) -> dict[str, Any]:
    response = operator.call("PATCH", f"/jobs/{job}", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def store_row(job_status: dict[str, Any], shop_id: str) -> dict[str, Any]:
    (row,) = [store for store in job_status["stores"] if store["shop_id"] == shop_id]
    return row


def listed_job(operator: Operator, job: str) -> dict[str, Any]:
    (status,) = [status for status in operator.call("GET", "/jobs").json() if status["job"] == job]
    return status


def association_schedule(stack: LocalStack) -> Any:
    (schedule,) = [s for s in stack.scheduler.schedules if s.event.schedule_name == ASSOCIATION_SCHEDULE]
    return schedule


def test_get_jobs_lists_every_job_per_store_with_its_schedule(operator: Operator) -> None:
    # When the operator lists the jobs
    jobs = {status["job"]: status for status in operator.call("GET", "/jobs").json()}

    # Then each job names its schedule and the stores it runs for, with the last run and the next one
    assert jobs["product-import"]["schedule"]["frequency"] == "rate(15 minutes)"
    assert [row["shop_id"] for row in jobs["association"]["stores"]] == ["eu-child", "uk-child"]
    parent = store_row(jobs["product-import"], "us-parent")
    assert parent["last_run"]["status"] == "FINISHED" and parent["healthy"] is True
    assert datetime.fromisoformat(parent["next_run"]) > datetime.now(UTC)


def test_frequency_and_state_changes_reach_the_schedule_and_the_local_scheduler(
    stack: LocalStack, operator: Operator
) -> None:
    scheduler = boto3.client("scheduler")
    try:
        # When the association frequency changes through the API
        status = patch_job(operator, "association", {"frequency": "rate(2 hours)"})

        # Then EventBridge Scheduler (moto) holds it, GET /jobs says so, and the local scheduler follows it
        assert scheduler.get_schedule(Name=ASSOCIATION_SCHEDULE)["ScheduleExpression"] == "rate(2 hours)"
        assert status["schedule"]["frequency"] == "rate(2 hours)"
        before = stack.scheduler.schedule_time()
        assert association_schedule(stack) in stack.scheduler.follow_schedules()
        schedule = association_schedule(stack)
        assert schedule.frequency.rate_seconds == 7200
        assert schedule.next_due - before >= timedelta(hours=2) - timedelta(seconds=5)

        # When the job's schedule is switched off
        status = patch_job(operator, "association", {"enabled": False})

        # Then the schedule is DISABLED, no store runs on schedule, and the local scheduler stops firing it
        assert scheduler.get_schedule(Name=ASSOCIATION_SCHEDULE)["State"] == "DISABLED"
        assert [row["enabled"] for row in status["stores"]] == [False, False]
        assert [row["next_run"] for row in status["stores"]] == [None, None]
        stack.scheduler.follow_schedules()
        assert association_schedule(stack).enabled is False
        with pytest.raises(LookupError):
            stack.scheduler.run_now("AssociationFunction")
    finally:
        patch_job(operator, "association", {"enabled": True, "frequency": "rate(60 minutes)"})
        stack.scheduler.follow_schedules()
    assert association_schedule(stack).enabled is True


def test_a_store_disabled_for_a_job_is_skipped_on_schedule_but_runs_when_asked(
    stack: LocalStack, operator: Operator
) -> None:
    # Given association disabled for eu-child only
    status = patch_job(operator, "association", {"shop_id": "eu-child", "enabled": False})
    try:
        assert (store_row(status, "eu-child")["enabled"], store_row(status, "uk-child")["enabled"]) == (False, True)

        # When the schedule fires
        result = stack.scheduler.run_now("AssociationFunction")

        # Then only uk-child ran
        assert [run["shop_id"] for run in result.payload["runs"]] == ["uk-child"]
        # And "run now" for the disabled store still runs it (an explicit operator action)
        assert operator.run_job("association", "eu-child")["status"] == "FINISHED"
    finally:
        patch_job(operator, "association", {"shop_id": "eu-child", "enabled": True})


def test_limit_caps_the_records_of_a_run_and_the_next_run_goes_on(operator: Operator) -> None:
    # Given a limit of 100 records per run for uk-child (one page of its variants)
    status = patch_job(operator, "association", {"shop_id": "uk-child", "limit": 100})
    try:
        assert store_row(status, "uk-child")["limit"] == 100

        # When a full association runs
        first = operator.run_job("association", "uk-child", mode="full")

        # Then it stopped after the limit, saying so on its record, and left a cursor
        assert first["status"] == "FINISHED" and first["completed"] is False
        assert first["params"]["limit"] == 100 and first["counts"]["read"] == 100
        # And the next run goes on from there
        second = operator.run_job("association", "uk-child")
        assert second["counts"]["read"] == 100 and second["completed"] is False
    finally:
        patch_job(operator, "association", {"shop_id": "uk-child", "limit": None})
    assert store_row(listed_job(operator, "association"), "uk-child")["limit"] is None


def test_a_failed_run_is_in_the_history_with_its_error(stack: LocalStack, operator: Operator) -> None:
    # Given eu-child's token no longer accepted by Shopify
    secret_name = stack.secret_name("eu-child")
    manager = boto3.client("secretsmanager")
    good_token = manager.get_secret_value(SecretId=secret_name)["SecretString"]
    manager.put_secret_value(SecretId=secret_name, SecretString="shpat_revoked")
    secrets.clear_cache()
    try:
        # When the association runs for it
        run = operator.run_job("association", "eu-child")
    finally:
        manager.put_secret_value(SecretId=secret_name, SecretString=good_token)
        secrets.clear_cache()

    # Then the run failed, and the history filtered on FAILED shows it with Shopify's refusal
    assert run["status"] == "FAILED"
    failed = operator.call("GET", "/jobs/association/runs", params={"status": "FAILED", "shop": "eu-child"}).json()
    assert [entry["run_id"] for entry in failed] == [run["run_id"]]
    assert failed[0]["error"] and failed[0]["finished_at"]
    assert operator.call("GET", f"/runs/{run['run_id']}").json()["error"] == failed[0]["error"]
    # And GET /jobs shows it as the store's last run
    assert store_row(listed_job(operator, "association"), "eu-child")["last_run"]["status"] == "FAILED"
    # And a history window after it is empty
    later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    assert operator.call("GET", "/jobs/association/runs", params={"status": "FAILED", "since": later}).json() == []


def _parent_only_product(operator: Operator) -> str:
    parent, child = operator.store_variants("us-parent"), operator.store_variants("eu-child")
    sku = next(sku for sku in sorted(parent) if sku and sku not in child)
    return legacy_id(parent[sku]["id"])


def _findings(diagnosis: dict[str, Any], check: str, shop_id: str | None = None) -> list[dict[str, Any]]:
    return [f for f in diagnosis["findings"] if f["check"] == check and f["shop_id"] == shop_id]


def test_diagnosis_of_a_product_not_linked_to_a_child_store(operator: Operator) -> None:
    # Given the association ran for eu-child, which has no variant with the product's SKU
    operator.run_job("association", "eu-child")
    product_id = _parent_only_product(operator)

    # When the product is diagnosed
    diagnosis = operator.call("GET", f"/products/{product_id}/diagnosis").json()

    # Then: in the catalog, linked to the parent, not to eu-child, because no variant there has its SKU
    assert diagnosis["in_catalog"] is True
    stores = {store["shop_id"]: store for store in diagnosis["stores"]}
    assert stores["us-parent"]["linked"] is True and stores["eu-child"]["linked"] is False
    assert "no variant in eu-child has SKU" in stores["eu-child"]["not_linked_reason"]
    (finding,) = _findings(diagnosis, "association", "eu-child")
    assert finding["severity"] == "ERROR"
    assert finding["action"]["path"] == f"/products/{product_id}/shops/eu-child"  # fix the identifier or link by hand


def test_diagnosis_says_the_association_job_is_disabled_for_the_store(operator: Operator) -> None:
    # Given association switched off for eu-child
    patch_job(operator, "association", {"shop_id": "eu-child", "enabled": False})
    try:
        # When a product not linked there is diagnosed
        diagnosis = operator.call("GET", f"/products/{_parent_only_product(operator)}/diagnosis").json()
    finally:
        patch_job(operator, "association", {"shop_id": "eu-child", "enabled": True})

    # Then one finding says the job is disabled there and how to enable it
    (finding,) = _findings(diagnosis, "job", "eu-child")
    assert finding["severity"] == "ERROR" and "disabled for eu-child" in finding["message"]
    assert finding["action"] == {
        "description": "enable association for eu-child",
        "method": "PATCH",
        "path": "/jobs/association",
        "body": {"shop_id": "eu-child", "enabled": True},
    }


def test_diagnosis_of_a_sync_that_failed_on_one_store(operator: Operator) -> None:
    # Given a product linked to every store (uk-child was associated by the tests above) whose last push there failed
    operator.run_job("association", "uk-child")
    parent, uk = operator.store_variants("us-parent"), operator.store_variants("uk-child")
    sku = next(sku for sku in sorted(parent) if sku in uk and sku in operator.store_variants("eu-child"))
    product_id = legacy_id(parent[sku]["id"])
    linked = operator.call("GET", f"/products/{product_id}/diagnosis").json()["stores"]
    assert {store["shop_id"] for store in linked if store["linked"]} >= {"us-parent", "uk-child"}
    now = datetime.now(UTC)
    failed = ListingState(
        product_id=product_id,
        shop_id="uk-child",
        shopify_product_id=uk[sku]["product_id"],
        shopify_variant_id=uk[sku]["id"],
        status=PushStatus.FAILED,
        error="ShopifyUserErrors: productVariantsBulkUpdate: Variant is locked",
        attempts=2,
        next_attempt_at=now + timedelta(minutes=2),
        updated_at=now,
    )
    listing_store.save_states([failed])

    # When it is diagnosed
    diagnosis = operator.call("GET", f"/products/{product_id}/diagnosis").json()

    # Then uk-child's listing is an error with Shopify's message and a resync action; no other store has one
    (finding,) = _findings(diagnosis, "listing", "uk-child")
    assert finding["severity"] == "ERROR" and "Variant is locked" in finding["message"]
    assert finding["action"]["path"] == f"/products/{product_id}/sync?shop=uk-child"
    errors = [f for f in diagnosis["findings"] if f["check"] == "listing" and f["severity"] == "ERROR"]
    assert [f["shop_id"] for f in errors] == ["uk-child"]


def test_diagnosis_of_an_order_that_failed_for_a_missing_phone(operator: Operator) -> None:
    # Given an order of eu-child recorded as failed: neither phone nor email
    now = datetime.now(UTC)
    order_store.save_failure(
        FailedOrder(
            order_id="eu-child-5001",
            shop_id="eu-child",
            shopify_order_id="gid://shopify/Order/5001",
            name="#EU5001",
            problems=[
                OrderProblem(reason=FailureReason.MISSING_CONTACT, message="the order has neither a phone nor an email")
            ],
            raw_payload="{}",
            first_failed_at=now,
            last_failed_at=now,
            attempts=5,
        )
    )

    # When it is diagnosed
    diagnosis = operator.call("GET", "/orders/eu-child/5001/diagnosis").json()

    # Then: not imported, failed with the reason, retries exhausted, and the re-import call to make once fixed
    assert (diagnosis["imported"], diagnosis["current_version"], diagnosis["versions"]) == (False, None, [])
    assert diagnosis["failure"]["problems"][0]["reason"] == "MISSING_CONTACT"
    (finding,) = [f for f in _findings(diagnosis, "order", "eu-child") if f["severity"] == "ERROR"]
    assert "neither a phone nor an email" in finding["message"] and "no automatic retry left" in finding["message"]
    assert finding["action"]["path"] == "/shops/eu-child/orders/5001/import"

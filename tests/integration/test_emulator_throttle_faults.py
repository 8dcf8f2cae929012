"""Throttling (leaky bucket on a fake clock) and injected faults, in-process and over a real loopback port."""

import time

import httpx
import pytest

from local.emulator import ShopifyEmulator, serve_in_thread
from local.emulator.testing import AdminGraphQL, FakeClock, in_process_http

QUERY = "{ products(first: 250) { nodes { id } } }"  # requested cost 13
CREATE = """mutation { productSet(input: {title: "Faulted"}) { product { id } userErrors { field } } }"""


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emulator(clock: FakeClock) -> ShopifyEmulator:
    emulator = ShopifyEmulator(clock=clock)
    emulator.add_store(
        shop_id="small", name="Small", currency="USD", access_token="shpat_s", bucket_size=40, restore_rate=10.0
    )
    return emulator


@pytest.fixture
def admin(emulator: ShopifyEmulator) -> AdminGraphQL:
    return AdminGraphQL(in_process_http(emulator), "small", "shpat_s")


def test_throttled_when_the_bucket_cannot_cover_the_request_then_recovers_over_time(admin, clock, emulator):
    levels = []
    for _ in range(3):
        body = admin(QUERY)
        assert "errors" not in body
        levels.append(body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"])
    assert levels == [37, 34, 31]  # 13 charged, 10 refunded (an empty page costs 3)
    emulator.store("small").bucket.drain()
    body = admin(QUERY)
    assert body == {
        "errors": [
            {
                "message": "Throttled",
                "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
            }
        ],
        "extensions": {
            "cost": {
                "requestedQueryCost": 13,
                "actualQueryCost": None,
                "throttleStatus": {"maximumAvailable": 40.0, "currentlyAvailable": 0, "restoreRate": 10.0},
            }
        },
    }
    clock.advance(1.2)
    assert admin(QUERY)["errors"][0]["extensions"]["code"] == "THROTTLED"  # 12 < 13
    clock.advance(0.2)
    assert "errors" not in admin(QUERY)
    stats = emulator.stats("small")
    assert stats["throttled"] == 2
    assert stats["requests"] == 6


def test_a_throttled_mutation_is_not_executed(admin, emulator):
    emulator.store("small").bucket.drain()
    assert admin(CREATE)["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert emulator.inspect("small")["products"] == []
    assert emulator.stats("small")["mutations"] == {}


@pytest.mark.parametrize(
    ("kind", "status", "body"),
    [
        ("5xx", 503, {"errors": "Service Unavailable"}),
        ("500", 500, {"errors": "Internal Server Error"}),
        (
            "429",
            429,
            {
                "errors": "Exceeded 2 calls per second for api client. "
                "Reduce request rates to resume uninterrupted service."
            },
        ),
    ],
)
def test_http_faults_answer_without_executing_the_mutation(admin, emulator, kind, status, body):
    emulator.inject_fault("small", kind=kind, count=1, retry_after_s=2.0)
    response = admin.post(CREATE)
    assert response.status_code == status
    assert response.json() == body
    if kind == "429":
        assert response.headers["Retry-After"] == "2.0"
    assert emulator.inspect("small")["products"] == []
    assert admin.post(CREATE).status_code == 200  # count=1: the next request is served normally
    assert len(emulator.inspect("small")["products"]) == 1
    assert emulator.stats("small")["faults_injected"] == {kind: 1}


def test_injected_throttled_has_the_throttled_body_even_with_credit(admin, emulator):
    emulator.inject_fault("small", kind="throttled", count=1)
    body = admin(CREATE)
    assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert body["extensions"]["cost"]["requestedQueryCost"] == 10
    assert body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 40
    assert emulator.inspect("small")["products"] == []


def test_latency_delays_then_answers_normally(admin, emulator):
    emulator.inject_fault("small", kind="latency", count=1, latency_s=0.2)
    started = time.monotonic()
    body = admin(QUERY)
    assert time.monotonic() - started >= 0.2
    assert "errors" not in body


def test_rate_faults_are_seeded_and_clearable(admin, emulator):
    emulator.inject_fault("small", kind="5xx", rate=0.5, seed=42)
    statuses = [admin.post("{ shop { id } }").status_code for _ in range(12)]
    assert set(statuses) == {200, 503}
    emulator.clear_faults("small")
    assert {admin.post("{ shop { id } }").status_code for _ in range(5)} == {200}


def test_timeout_trips_the_client_timeout_over_a_real_port():
    emulator = ShopifyEmulator()
    emulator.add_store(shop_id="slow", access_token="shpat_slow")
    server, base_url = serve_in_thread(emulator, host="127.0.0.1", port=0)
    try:
        emulator.inject_fault("slow", kind="timeout", count=1, latency_s=0.6)
        with httpx.Client(base_url=base_url, timeout=0.2) as client:
            admin = AdminGraphQL(client, "slow", "shpat_slow")
            with pytest.raises(httpx.ReadTimeout):
                admin.post(CREATE)
        time.sleep(0.6)  # the server answers 503 after its delay; nothing was created
        assert emulator.inspect("slow")["products"] == []
        with httpx.Client(base_url=base_url, timeout=5) as client:
            assert AdminGraphQL(client, "slow", "shpat_slow").post("{ shop { id } }").status_code == 200
    finally:
        server.shutdown()

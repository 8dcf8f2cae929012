"""The Shopify client against the local Shopify emulator: throttling, faults, errors, pagination and bulk export.

Most tests run the emulator in-process (httpx.WSGITransport) with a fake clock for the client's waits, so backoff
costs no real time; the "never THROTTLED" test uses real time because the emulator's bucket refills in real time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from local.emulator import ShopifyEmulator, serve_in_thread
from shopsync.observability import logger as shopsync_logger
from shopsync.settings import get_settings
from shopsync.shopify import (
    BulkOperationBusy,
    BulkOperationFailed,
    BulkOperationPending,
    MaxCostExceeded,
    MutationOutcomeUnknown,
    ShopifyAuthError,
    ShopifyClient,
    ShopifyGraphQLError,
    ShopifyUnavailable,
    ShopifyUserErrors,
    assemble_bulk_objects,
    cancel_bulk_operation,
    download_jsonl,
    iter_pages,
    load_document,
    poll_bulk_operation,
    raise_for_user_errors,
    render_bulk_products_export,
    start_bulk_query,
)
from shopsync.shopify.responses import ThrottleStatus
from shopsync.shopify.throttle import CostBucket, cost_bucket_for, reset_cost_buckets

SHOP = "s1"
TOKEN = "shpat_integration_0123456789abcdef"

# Test-only operations (the code never sends these, so they live here and not in shopsync/shopify/documents).
SEED_PRODUCT = """
mutation SeedProduct($input: ProductSetInput!) {
  productSet(input: $input, synchronous: true) {
    product { id }
    userErrors { field message code }
  }
}
"""
# 2 + 11*(1 + 2 + 11*(1 + 1 + 2 + 11*2)) = 3,181 points by Shopify's rules: above the 1,000 limit.
TOO_EXPENSIVE = """
query TooExpensive {
  products(first: 250) {
    nodes {
      variants(first: 250) {
        nodes { inventoryItem { inventoryLevels(first: 250) { nodes { location { id } } } } }
      }
    }
  }
}
"""
UNKNOWN_FIELD = "query UnknownField { shop { id noSuchField } }"


class FakeClock:
    """monotonic() and sleep() for the client: sleeping advances the clock instantly."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class RecordingTransport(httpx.BaseTransport):
    """Passes requests to the emulator and keeps them, to check what the client sent."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.inner.handle_request(request)


@pytest.fixture(autouse=True)
def _fresh_cost_models() -> Iterator[None]:
    # Every test builds a new emulator store under the same URL; the process-wide bucket model must start empty.
    reset_cost_buckets()
    yield
    reset_cost_buckets()


def make_emulator(*, bucket_size: float = 2000, restore_rate: float = 100.0) -> ShopifyEmulator:
    emulator = ShopifyEmulator()
    emulator.add_store(
        shop_id=SHOP,
        name="S1",
        currency="USD",
        access_token=TOKEN,
        bucket_size=bucket_size,
        restore_rate=restore_rate,
    )
    return emulator


def make_client(
    emulator: ShopifyEmulator,
    *,
    clock: FakeClock | None = None,
    shop: str = SHOP,
    token: str = TOKEN,
    transport: httpx.BaseTransport | None = None,
    **options: Any,
) -> ShopifyClient:
    if clock is not None:
        options.setdefault("sleep", clock.sleep)
        options.setdefault("monotonic", clock.monotonic)
    return ShopifyClient(
        f"http://emulator.local/stores/{shop}",
        get_settings().shopify_api_version,
        token,
        transport=transport or httpx.WSGITransport(app=emulator),
        **options,
    )


def throttled_count(emulator: ShopifyEmulator, shop: str = SHOP) -> int:
    return int(emulator.stats(shop)["throttled"])


def request_count(emulator: ShopifyEmulator) -> int:
    return int(emulator.stats(SHOP)["requests"])


def seed_products(client: ShopifyClient, count: int, *, variants: int = 2, prefix: str = "P") -> list[str]:
    """`count` products with `variants` variants each (Size x Color, 10 colours per size), via productSet."""
    combinations = [(f"S{index // 10}", f"C{index % 10}") for index in range(variants)]
    options = [
        {"name": "Size", "values": [{"name": size} for size in dict.fromkeys(size for size, _ in combinations)]},
        {"name": "Color", "values": [{"name": color} for color in dict.fromkeys(color for _, color in combinations)]},
    ]
    ids = []
    for number in range(count):
        product = {
            "title": f"{prefix} product {number}",
            "handle": f"{prefix.lower()}-product-{number}",
            "status": "ACTIVE",
            "vendor": "Acme",
            "productType": "Shirt",
            "tags": ["seed", prefix],
            "productOptions": options,
            "variants": [
                {
                    "optionValues": [{"optionName": "Size", "name": size}, {"optionName": "Color", "name": color}],
                    "sku": f"{prefix}-{number}-{size}-{color}",
                    "barcode": f"{number:06d}{index:03d}",
                    "price": "10.00",
                    "inventoryPolicy": "DENY",
                    "inventoryItem": {"tracked": True},
                }
                for index, (size, color) in enumerate(combinations)
            ],
        }
        response = client.execute(SEED_PRODUCT, {"input": product})
        payload = raise_for_user_errors(response, ("productSet",))
        ids.append(payload["product"]["id"])
    return ids


# -- throttling ---------------------------------------------------------------------------------------------------


def test_burst_is_never_throttled_because_the_client_waits_first() -> None:
    # Given two stores with a small bucket (100 points, 50/s) and the same catalog: a ProductsPage of 3 products
    # asks for 44 points and is charged 24 after the refund, so a burst of them outruns the bucket.
    emulator = make_emulator(bucket_size=100, restore_rate=50.0)
    emulator.add_store(shop_id="s2", name="S2", currency="USD", access_token=TOKEN, bucket_size=100, restore_rate=50.0)
    for shop in (SHOP, "s2"):
        seed_products(make_client(emulator, shop=shop), 3, variants=10)
    document, variables = load_document("ProductsPage"), {"first": 3}

    # Control: the same burst sent without the client's model is throttled.
    with httpx.Client(transport=httpx.WSGITransport(app=emulator), headers={"X-Shopify-Access-Token": TOKEN}) as raw:
        for _ in range(6):
            raw.post(make_client(emulator, shop="s2").endpoint, json={"query": document, "variables": variables})
    assert throttled_count(emulator, "s2") > 0

    # When two clients of the store (sharing the process-wide model) fire 4 queries each as fast as they may
    reset_cost_buckets()
    clients = [make_client(emulator), make_client(emulator)]
    failures: list[BaseException] = []

    def burst(client: ShopifyClient) -> None:
        try:
            for _ in range(4):
                client.execute(document, variables)
        except BaseException as error:  # pragma: no cover - reported below
            failures.append(error)

    threads = [threading.Thread(target=burst, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # Then every call succeeded, Shopify never had to say THROTTLED, and the clients did wait for credit
    assert not failures
    assert throttled_count(emulator) == 0
    assert sum(client.stats.throttled_responses for client in clients) == 0
    assert sum(client.stats.throttle_waits for client in clients) > 0
    assert sum(client.stats.cost_spent for client in clients) > 100  # more than one bucket was spent


def test_throttled_answer_is_retried_after_the_refill_time() -> None:
    emulator = make_emulator()
    clock = FakeClock()
    client = make_client(emulator, clock=clock)
    emulator.inject_fault(SHOP, kind="throttled", count=1)

    response = client.execute(load_document("ShopInfo"))

    assert response.data["shop"]["name"] == "S1"
    assert client.stats.throttled_responses == 1
    assert client.stats.retries == 1
    assert clock.sleeps and clock.sleeps[0] >= 1.0  # never less than a second


# -- the bucket model on its own (no emulator) ---------------------------------------------------------------------


def _status(available: float) -> ThrottleStatus:
    return ThrottleStatus(maximum_available=100, currently_available=available, restore_rate=50)


def test_bucket_model_waits_for_the_shortfall_and_queues_concurrent_callers() -> None:
    bucket = CostBucket()
    first = bucket.reserve(40, now=0.0)
    assert first.wait_s == 0  # nothing known yet: the first request just goes
    bucket.observe(_status(30), sent_at=0.0, received_at=0.1, reservation=first)

    a = bucket.reserve(40, now=0.1)  # 30 available, 10 short at 50/s
    b = bucket.reserve(40, now=0.1)  # queued behind a: 50 short
    assert a.wait_s == pytest.approx(10.5 / 50)
    assert b.wait_s == pytest.approx(50.5 / 50)


def test_bucket_model_subtracts_requests_in_flight_and_ignores_stale_readings() -> None:
    bucket = CostBucket()
    bucket.observe(_status(100), sent_at=0.0, received_at=0.0, reservation=bucket.reserve(1, now=0.0))
    older = bucket.reserve(40, now=1.0)
    newer = bucket.reserve(40, now=1.0)

    # The newer request's reading arrives first; the older one is still out, so its cost is not available.
    bucket.observe(_status(60), sent_at=1.01, received_at=1.02, reservation=newer)
    assert bucket.available(1.02) == pytest.approx(20)
    # The older request's reading (taken before the newer one was charged) must not overwrite it.
    bucket.observe(_status(99), sent_at=1.0, received_at=1.03, reservation=older)
    assert bucket.available(1.03) == pytest.approx(20 + 50 * 0.01)


def test_before_the_first_reading_only_one_request_is_out() -> None:
    bucket = CostBucket()
    first = bucket.reserve(40, now=0.0)
    second = bucket.reserve(40, now=0.0)

    assert not first.provisional and first.wait_s == 0
    assert second.provisional and second.wait_s > 0
    assert cost_bucket_for("http://x/stores/a/") is cost_bucket_for("http://x/stores/a")


# -- faults -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["5xx", "500", "429", "throttled"])
def test_query_recovers_from_injected_faults(kind: str) -> None:
    emulator = make_emulator()
    clock = FakeClock()
    client = make_client(emulator, clock=clock)
    emulator.inject_fault(SHOP, kind=kind, count=3, retry_after_s=2.0)

    response = client.execute(load_document("ShopInfo"))

    assert response.data["shop"]["currencyCode"] == "USD"
    assert client.stats.retries == 3
    assert client.stats.calls == 4
    if kind == "429":
        assert clock.sleeps == [2.0, 2.0, 2.0]  # Retry-After honoured
    if kind in {"5xx", "500"}:
        # exponential 1, 2, 4 s, each with up to 25 % jitter
        assert all(base <= wait <= base * 1.25 for base, wait in zip([1, 2, 4], clock.sleeps, strict=True))


def test_random_faults_do_not_break_a_run() -> None:
    emulator = make_emulator()
    client = make_client(emulator, clock=FakeClock())
    seed_products(client, 5)
    emulator.inject_fault(SHOP, kind="5xx", rate=0.3, seed=1)
    emulator.inject_fault(SHOP, kind="429", rate=0.2, seed=2)

    pages = list(iter_pages(client, load_document("ProductsPage"), {"first": 2}, ("products",)))

    assert sum(len(page.nodes) for page in pages) == 5
    assert client.stats.retries > 0


def test_latency_is_tolerated_without_retry() -> None:
    emulator = make_emulator()
    client = make_client(emulator, clock=FakeClock())
    emulator.inject_fault(SHOP, kind="latency", count=1, latency_s=0.05)

    client.execute(load_document("ShopInfo"))

    assert client.stats.retries == 0


def test_read_timeout_on_a_real_socket_is_retried_for_queries_only() -> None:
    emulator = make_emulator()
    server, base_url = serve_in_thread(emulator, host="127.0.0.1", port=0)
    try:
        client = ShopifyClient(
            f"{base_url.rstrip('/')}/stores/{SHOP}",
            get_settings().shopify_api_version,
            TOKEN,
            timeout_s=0.3,
            sleep=lambda _seconds: None,
        )
        emulator.inject_fault(SHOP, kind="timeout", count=1, latency_s=1.0)
        assert client.execute(load_document("ShopInfo")).data["shop"]["name"] == "S1"
        assert client.stats.retries == 1

        # A mutation that timed out may have run: without idempotent=True it is not sent again.
        emulator.inject_fault(SHOP, kind="timeout", count=1, latency_s=1.0)
        with pytest.raises(MutationOutcomeUnknown, match="ReadTimeout"):
            client.execute(load_document("BulkOperationCancel"), {"id": "gid://shopify/BulkOperation/1"})
        client.close()
    finally:
        server.shutdown()


def test_mutation_is_not_retried_after_5xx_unless_idempotent() -> None:
    emulator = make_emulator()
    client = make_client(emulator, clock=FakeClock())
    product = {
        "title": "Once",
        "productOptions": [{"name": "Title", "values": [{"name": "Default"}]}],
        "variants": [{"optionValues": [{"optionName": "Title", "name": "Default"}]}],
    }
    emulator.inject_fault(SHOP, kind="5xx", count=1)
    before = request_count(emulator)

    with pytest.raises(MutationOutcomeUnknown, match="HTTP 5"):
        client.execute(SEED_PRODUCT, {"input": product})
    assert request_count(emulator) == before + 1

    emulator.inject_fault(SHOP, kind="5xx", count=1)
    response = client.execute(SEED_PRODUCT, {"input": product}, idempotent=True)
    assert raise_for_user_errors(response, ("productSet",))["product"]["id"]


def test_mutation_is_retried_after_throttled_and_429() -> None:
    emulator = make_emulator()
    client = make_client(emulator, clock=FakeClock())
    emulator.inject_fault(SHOP, kind="throttled", count=1)
    emulator.inject_fault(SHOP, kind="429", count=1)

    ids = seed_products(client, 1)

    assert ids
    assert client.stats.retries == 2


# -- errors that are never retried -------------------------------------------------------------------------------


def test_max_cost_exceeded_is_not_retried() -> None:
    emulator = make_emulator()
    client = make_client(emulator, clock=FakeClock())

    with pytest.raises(MaxCostExceeded) as raised:
        client.execute(TOO_EXPENSIVE)

    assert raised.value.cost is not None and raised.value.cost > 1000
    assert raised.value.max_cost == 1000
    assert client.stats.calls == 1


def test_validation_error_is_not_retried() -> None:
    emulator = make_emulator()
    client = make_client(emulator, clock=FakeClock())

    with pytest.raises(ShopifyGraphQLError, match="noSuchField"):
        client.execute(UNKNOWN_FIELD)

    assert client.stats.calls == 1


def test_user_errors_are_raised_not_retried() -> None:
    emulator = make_emulator()
    client = make_client(emulator, clock=FakeClock())

    with pytest.raises(ShopifyUserErrors) as raised:
        start_bulk_query(client, "{ products { edges { node { id noSuchField } } } }")

    assert raised.value.errors
    assert client.stats.calls == 1


def test_auth_error_and_retries_never_log_the_token(caplog: pytest.LogCaptureFixture) -> None:
    # Capture everything: shopsync's JSON log lines (formatted as in Lambda) and every other logger (httpx…).
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    collector = Collect()
    collector.setFormatter(shopsync_logger.registered_formatter)
    underlying = logging.getLogger(shopsync_logger.name)
    previous_level = underlying.level
    underlying.addHandler(collector)
    shopsync_logger.setLevel("DEBUG")
    caplog.set_level(logging.DEBUG)
    try:
        emulator = make_emulator()
        # Given a wrong token: 401, no retry, and the error names neither token.
        wrong = "shpat_wrong_fedcba9876543210"
        bad_client = make_client(emulator, clock=FakeClock(), token=wrong)
        with pytest.raises(ShopifyAuthError) as raised:
            bad_client.execute(load_document("ShopInfo"))
        assert raised.value.status_code == 401
        assert bad_client.stats.calls == 1

        # And a good token through faults that make the client log its retries and waits.
        client = make_client(emulator, clock=FakeClock())
        emulator.inject_fault(SHOP, kind="5xx", count=1)
        emulator.inject_fault(SHOP, kind="throttled", count=1)
        client.execute(load_document("ShopInfo"))
        assert client.stats.retries == 2
    finally:
        underlying.removeHandler(collector)
        shopsync_logger.setLevel(previous_level)

    captured = "\n".join([*lines, caplog.text, str(raised.value), repr(raised.value), repr(client), repr(bad_client)])
    assert "Retrying Shopify operation" in captured  # the capture did see the client's logs
    assert TOKEN not in captured
    assert wrong not in captured
    assert "X-Shopify-Access-Token" not in captured


# -- deadline -----------------------------------------------------------------------------------------------------


def test_retries_stop_before_the_deadline() -> None:
    emulator = make_emulator()
    clock = FakeClock()
    deadline = clock.now + 5.0
    client = make_client(emulator, clock=clock, time_remaining_s=lambda: deadline - clock.now)
    emulator.inject_fault(SHOP, kind="5xx", rate=1.0)
    started = time.monotonic()

    with pytest.raises(ShopifyUnavailable) as raised:
        client.execute(load_document("ShopInfo"))

    assert "HTTP 5" in str(raised.value)
    assert clock.now <= deadline  # never slept past the deadline
    assert time.monotonic() - started < 2


def test_no_request_when_no_time_is_left() -> None:
    emulator = make_emulator()
    client = make_client(emulator, clock=FakeClock(), time_remaining_s=lambda: 0.0)
    before = request_count(emulator)

    with pytest.raises(ShopifyUnavailable, match="no time left"):
        client.execute(load_document("ShopInfo"))

    assert request_count(emulator) == before


# -- pagination ---------------------------------------------------------------------------------------------------


def _flatten_variants(product: dict[str, Any]) -> dict[str, Any]:
    variants = product["variants"]
    return {**product, "variants": variants["nodes"] if isinstance(variants, dict) else variants}


def test_pagination_walks_the_catalog_and_resumes_from_a_saved_cursor() -> None:
    emulator = make_emulator()
    client = make_client(emulator, clock=FakeClock())
    seeded = set(seed_products(client, 23))
    document = load_document("ProductsPage")

    pages = list(iter_pages(client, document, {"first": 10}, ("products",)))

    assert [len(page.nodes) for page in pages] == [10, 10, 3]
    assert [page.has_next_page for page in pages] == [True, True, False]
    assert {node["id"] for page in pages for node in page.nodes} == seeded
    # A job that stopped after the first page resumes from its saved cursor and sees the same rest.
    resumed = list(iter_pages(client, document, {"first": 10}, ("products",), start_cursor=pages[0].end_cursor))
    assert [page.nodes for page in resumed] == [page.nodes for page in pages[1:]]


def test_variants_beyond_the_first_hundred_come_from_the_product_query() -> None:
    emulator = make_emulator()
    client = make_client(emulator, clock=FakeClock())
    (product_id,) = seed_products(client, 1, variants=130)

    (page,) = list(iter_pages(client, load_document("ProductsPage"), {"first": 5}, ("products",)))
    first_variants = page.nodes[0]["variants"]
    assert len(first_variants["nodes"]) == 100
    assert first_variants["pageInfo"]["hasNextPage"]

    rest = list(
        iter_pages(
            client,
            load_document("ProductVariantsOfProduct"),
            {"id": product_id},
            ("product", "variants"),
            start_cursor=first_variants["pageInfo"]["endCursor"],
        )
    )
    skus = [variant["sku"] for variant in first_variants["nodes"]] + [
        variant["sku"] for rest_page in rest for variant in rest_page.nodes
    ]
    assert len(skus) == len(set(skus)) == 130


# -- bulk export --------------------------------------------------------------------------------------------------


def _deadline_in(seconds: float) -> Callable[[], float]:
    deadline = time.monotonic() + seconds
    return lambda: deadline - time.monotonic()


def test_bulk_export_matches_the_paged_catalog() -> None:
    emulator = make_emulator()
    inner = RecordingTransport(httpx.WSGITransport(app=emulator))
    client = make_client(emulator, transport=inner)
    seed_products(client, 12, variants=3)

    operation_id = start_bulk_query(client, render_bulk_products_export())
    result = poll_bulk_operation(client, operation_id, time_remaining_s=_deadline_in(20), poll_interval_s=0.05)
    records = list(download_jsonl(client, result.url))
    tree = assemble_bulk_objects(records)

    assert result.status == "COMPLETED"
    assert result.object_count == len(records) == 12 * 4
    assert result.root_object_count == 12
    paged = [
        _flatten_variants(node)
        for page in iter_pages(client, load_document("ProductsPage"), {"first": 50}, ("products",))
        for node in page.nodes
    ]
    assert sorted(tree, key=lambda product: product["id"]) == sorted(paged, key=lambda product: product["id"])
    # The signed result URL gets no token.
    assert result.url is not None
    (download,) = [request for request in inner.requests if str(request.url) == result.url]
    assert "X-Shopify-Access-Token" not in download.headers


def test_bulk_export_with_a_filter_that_matches_nothing_is_empty() -> None:
    emulator = make_emulator()
    client = make_client(emulator)
    seed_products(client, 2)

    inner_query = render_bulk_products_export(datetime.now(UTC) + timedelta(days=1))
    operation_id = start_bulk_query(client, inner_query)
    result = poll_bulk_operation(client, operation_id, time_remaining_s=_deadline_in(20), poll_interval_s=0.05)

    assert result.object_count == 0
    assert assemble_bulk_objects(download_jsonl(client, result.url)) == []


def test_bulk_poll_gives_up_with_the_operation_id_when_time_runs_out() -> None:
    emulator = make_emulator()
    client = make_client(emulator, clock=FakeClock())
    seed_products(client, 2)
    operation_id = start_bulk_query(client, render_bulk_products_export())

    # 2 s left cannot fit another 5 s poll interval (the emulator completes on the second status read): the job
    # gets the id back to save as its cursor.
    with pytest.raises(BulkOperationPending) as pending:
        poll_bulk_operation(client, operation_id, time_remaining_s=lambda: 2.0, poll_interval_s=5.0)
    assert pending.value.operation_id == operation_id

    # No time at all: still pending (not a failure), and Shopify is not even asked.
    calls = client.stats.calls
    with pytest.raises(BulkOperationPending):
        poll_bulk_operation(client, operation_id, time_remaining_s=lambda: 0.0)
    assert client.stats.calls == calls


def test_bulk_start_beyond_the_concurrency_limit_is_busy() -> None:
    emulator = make_emulator()
    client = make_client(emulator, clock=FakeClock())
    inner_query = render_bulk_products_export()
    for _ in range(5):  # 2026-01+: five bulk queries may run at once
        start_bulk_query(client, inner_query)

    with pytest.raises(BulkOperationBusy) as raised:
        start_bulk_query(client, inner_query)

    assert raised.value.errors[0].code in {"OPERATION_IN_PROGRESS", "LIMIT_REACHED"}
    assert client.stats.retries == 0


def test_canceled_or_unknown_bulk_operation_fails_the_poll() -> None:
    emulator = make_emulator()
    client = make_client(emulator, clock=FakeClock())
    operation_id = start_bulk_query(client, render_bulk_products_export())

    assert cancel_bulk_operation(client, operation_id) == "CANCELING"
    with pytest.raises(BulkOperationFailed) as canceled:
        poll_bulk_operation(client, operation_id, time_remaining_s=lambda: 60.0, poll_interval_s=0.01)
    assert canceled.value.status == "CANCELED"

    with pytest.raises(BulkOperationFailed) as unknown:
        poll_bulk_operation(client, "gid://shopify/BulkOperation/1", time_remaining_s=lambda: 60.0)
    assert unknown.value.status is None

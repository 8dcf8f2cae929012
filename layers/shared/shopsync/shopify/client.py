"""Admin GraphQL client: cost-aware throttling, bounded retries, typed errors.

Retry rules (reference/shopify-admin-api.md §7):
- THROTTLED and HTTP 429 are refused before execution, so they are retried for queries and mutations alike.
- 5xx, unparseable bodies and timeouts may come after the operation ran: queries are retried, mutations only when the
  caller says they are idempotent (inventory mutations carry `@idempotent(key:)`). A connection that was never
  established is retried for everything.
- MAX_COST_EXCEEDED, validation errors, userErrors and 401/403 are never retried.
Every wait and retry stays inside `time_remaining_s()`; the token never reaches a log line or an exception message.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any, Literal, Self

import httpx
from pydantic import ValidationError

from shopsync.observability import logger
from shopsync.shopify.errors import (
    MaxCostExceeded,
    MutationOutcomeUnknown,
    ShopifyAuthError,
    ShopifyGraphQLError,
    ShopifyHTTPError,
    ShopifySearchWarning,
    ShopifyUnavailable,
    ShopifyUserErrors,
    UserError,
)
from shopsync.shopify.responses import GraphQLResponse, QueryCost, RawGraphQLBody
from shopsync.shopify.throttle import Reservation, cost_bucket_for

BACKOFF_BASE_S = 1.0
BACKOFF_CAP_S = 30.0
# Jitter adds up to this fraction of the base delay, so clients that failed together do not retry together.
JITTER_FRACTION = 0.25
# A retry or a throttle wait is only worth it if at least this much time is left for the request itself. (A first
# attempt without a wait is sent whenever any time is left: the caller's deadline already keeps its own margin.)
MIN_REQUEST_WINDOW_S = 1.0
_DETAIL_CHARS = 200

OperationKind = Literal["query", "mutation", "subscription"]
_KIND_BY_KEYWORD: dict[str, OperationKind] = {"query": "query", "mutation": "mutation", "subscription": "subscription"}
_OPERATION_HEADER = re.compile(r"(query|mutation|subscription)?\s*([_A-Za-z][_0-9A-Za-z]*)?")


@dataclass(frozen=True)
class OperationHeader:
    kind: OperationKind
    name: str | None


def parse_operation_header(document: str) -> OperationHeader:
    """Kind and name of the (first) operation in `document`, skipping leading comments; `{…}` is an anonymous query."""
    text = document
    while True:
        text = text.lstrip(" \t\r\n,\ufeff")
        if not text.startswith("#"):
            break
        _, _, text = text.partition("\n")
    match = _OPERATION_HEADER.match(text)
    keyword = match.group(1) if match else None
    kind = _KIND_BY_KEYWORD.get(keyword or "query", "query")
    # Without a keyword the document is the `{ … }` shorthand, which has no name.
    name = match.group(2) if match and keyword else None
    return OperationHeader(kind=kind, name=name)


@dataclass
class ClientStats:
    """What one client did; job runs record these. `cost_spent` sums `actualQueryCost`."""

    calls: int = 0
    cost_spent: float = 0.0
    throttle_waits: int = 0
    throttled_responses: int = 0
    retries: int = 0
    waited_s: float = 0.0


@dataclass(frozen=True)
class _RetryLater:
    """A failed attempt that may be tried again after `delay_s`."""

    delay_s: float
    cause: str


class ShopifyClient:
    """One store, one API version, one token. Safe to share between threads; reuse it across Lambda invocations."""

    def __init__(
        self,
        base_url: str,
        api_version: str,
        access_token: str,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout_s: float = 30.0,
        time_remaining_s: Callable[[], float] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        max_attempts: int = 8,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version
        self.endpoint = f"{self.base_url}/admin/api/{api_version}/graphql.json"
        self.sleep = sleep
        self._time_remaining_s = time_remaining_s
        self._monotonic = monotonic
        self._rng = rng or random.Random()
        self._max_attempts = max_attempts
        self._timeout_s = timeout_s
        self._bucket = cost_bucket_for(self.base_url)
        self._stats = ClientStats()
        self._stats_lock = threading.Lock()
        self._http = httpx.Client(
            transport=transport,
            timeout=timeout_s,
            headers={"X-Shopify-Access-Token": access_token, "Content-Type": "application/json"},
        )
        # Bulk result files are signed URLs on another host: they get no token.
        self._file_http = httpx.Client(transport=transport, timeout=timeout_s, follow_redirects=True)

    def __repr__(self) -> str:
        return f"ShopifyClient(endpoint={self.endpoint!r})"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()
        self._file_http.close()

    @property
    def stats(self) -> ClientStats:
        """A snapshot of the counters."""
        with self._stats_lock:
            return replace(self._stats)

    def execute(
        self,
        document: str,
        variables: Mapping[str, Any] | None = None,
        operation_name: str | None = None,
        *,
        idempotent: bool = False,
    ) -> GraphQLResponse:
        """Send one operation and return its data, waiting for cost credit first and retrying what is safe to retry.

        `idempotent=True` lets a mutation be retried after a 5xx or timeout (queries always may be)."""
        header = parse_operation_header(document)
        name = operation_name or header.name or "anonymous"
        may_repeat = header.kind == "query" or idempotent
        body: dict[str, Any] = {"query": document, "variables": dict(variables or {})}
        if operation_name or header.name:
            body["operationName"] = name

        last_cause: str | None = None
        for attempt in range(1, self._max_attempts + 1):
            reservation = self._wait_for_credit(name, last_cause)
            try:
                outcome = self._attempt(name, body, attempt, reservation, may_repeat=may_repeat)
            finally:
                self._bucket.settle(reservation)
            if isinstance(outcome, GraphQLResponse):
                return outcome
            last_cause = outcome.cause
            if attempt < self._max_attempts:
                self._pause_before_retry(name, outcome, attempt)
        raise ShopifyUnavailable(f"{name} failed {self._max_attempts} times", last_cause=last_cause)

    def upload_staged_file(self, url: str, parameters: Mapping[str, str], filename: str, content: bytes) -> None:
        """POST a file to a staged upload target (a signed form: its parameters, then the file; no token)."""
        self._ensure_time_for_request(None)
        try:
            response = self._file_http.post(
                url,
                data=dict(parameters),
                files={"file": (filename, content, "text/jsonl")},
                timeout=self._request_timeout(),
            )
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            raise ShopifyUnavailable("staged upload failed", last_cause=_describe(exc)) from exc
        finally:
            self._count(calls=1)
        if response.status_code >= 300:
            raise ShopifyHTTPError(response.status_code, "staged upload: " + _detail(response))

    def stream_file_lines(self, url: str) -> Iterator[str]:
        """Lines of a (bulk result) file, streamed, without the access token. Transient failures before the first
        line are retried like queries; a failure mid-file raises `ShopifyUnavailable` (lines were already handed out).
        """
        last_cause: str | None = None
        for attempt in range(1, self._max_attempts + 1):
            self._ensure_time_for_request(last_cause)
            yielded_any = False
            try:
                with self._file_http.stream("GET", url, timeout=self._request_timeout()) as response:
                    self._count(calls=1)
                    if response.status_code >= 500 or response.status_code == 429:
                        outcome = _RetryLater(self._backoff(attempt), f"HTTP {response.status_code}")
                    elif response.status_code >= 400:
                        response.read()
                        raise ShopifyHTTPError(response.status_code, "bulk result file: " + _detail(response))
                    else:
                        for line in response.iter_lines():
                            yielded_any = True
                            yield line
                        return
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                if yielded_any:
                    raise ShopifyUnavailable("bulk result download broke off", last_cause=_describe(exc)) from exc
                outcome = _RetryLater(self._backoff(attempt), _describe(exc))
            last_cause = outcome.cause
            if attempt < self._max_attempts:
                self._pause_before_retry("bulk result download", outcome, attempt)
        raise ShopifyUnavailable("bulk result download failed", last_cause=last_cause)

    # -- one attempt ---------------------------------------------------------------------------------------------

    def _attempt(
        self, name: str, body: dict[str, Any], attempt: int, reservation: Reservation, *, may_repeat: bool
    ) -> GraphQLResponse | _RetryLater:
        sent_at = self._monotonic()
        try:
            response = self._http.post(self.endpoint, json=body, timeout=self._request_timeout())
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            self._count(calls=1)
            never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
            if not (may_repeat or never_sent):
                raise MutationOutcomeUnknown(f"{name} not retried", last_cause=_describe(exc)) from exc
            return _RetryLater(self._backoff(attempt), _describe(exc))
        received_at = self._monotonic()
        self._count(calls=1)

        status = response.status_code
        if status in (401, 403):
            raise ShopifyAuthError(status, _detail(response))
        if status == 429:
            return _RetryLater(_retry_after_s(response) or self._backoff(attempt), "HTTP 429")
        if status >= 500:
            if not may_repeat:
                raise MutationOutcomeUnknown(f"{name} not retried", last_cause=f"HTTP {status}")
            return _RetryLater(_retry_after_s(response) or self._backoff(attempt), f"HTTP {status}")
        if status != 200:
            raise ShopifyHTTPError(status, _detail(response))

        try:
            raw = RawGraphQLBody.model_validate_json(response.content)
        except ValidationError:
            # A proxy's HTML error page or a cut-off body: nothing says whether the operation ran.
            if not may_repeat:
                raise MutationOutcomeUnknown(f"{name} not retried", last_cause="unparseable response body") from None
            return _RetryLater(self._backoff(attempt), "unparseable response body")
        return self._interpret(name, raw, (sent_at, received_at), attempt, reservation, may_repeat=may_repeat)

    def _interpret(
        self,
        name: str,
        raw: RawGraphQLBody,
        timing: tuple[float, float],
        attempt: int,
        reservation: Reservation,
        *,
        may_repeat: bool,
    ) -> GraphQLResponse | _RetryLater:
        cost = raw.extensions.cost
        self._record_cost(name, cost, timing, reservation)
        codes = [error.code for error in raw.errors]

        if "THROTTLED" in codes:
            self._count(throttled_responses=1)
            delay_s = _throttled_delay_s(cost)
            logger.warning(
                "Shopify throttled the operation",
                extra={"operation": name, "requested_cost": cost and cost.requested_query_cost, "wait_s": delay_s},
            )
            return _RetryLater(delay_s + self._jitter(delay_s), "THROTTLED")
        if "MAX_COST_EXCEEDED" in codes:
            extensions = raw.errors[codes.index("MAX_COST_EXCEEDED")].extensions
            raise MaxCostExceeded(extensions.get("cost"), extensions.get("maxCost"))
        if "INTERNAL_SERVER_ERROR" in codes:
            if not may_repeat:
                raise MutationOutcomeUnknown(f"{name} not retried", last_cause="INTERNAL_SERVER_ERROR")
            return _RetryLater(self._backoff(attempt), "INTERNAL_SERVER_ERROR")
        if raw.errors:
            raise ShopifyGraphQLError([error.message for error in raw.errors], codes=codes, data=raw.data)

        warnings = [(report.query, warning) for report in raw.extensions.search for warning in report.warnings]
        if warnings:
            raise ShopifySearchWarning(
                [f"search {query!r}: {warning.field}: {warning.message}" for query, warning in warnings],
                codes=[warning.code for _, warning in warnings],
                data=raw.data,
            )
        if raw.data is None:
            raise ShopifyGraphQLError([f"{name} answered without data or errors"])

        logger.debug(
            "Shopify operation done",
            extra={
                "operation": name,
                "attempt": attempt,
                "requested_cost": cost and cost.requested_query_cost,
                "actual_cost": cost and cost.actual_query_cost,
                "available": cost and cost.throttle_status and cost.throttle_status.currently_available,
            },
        )
        return GraphQLResponse(operation_name=name, data=raw.data, cost=cost)

    def _record_cost(
        self, name: str, cost: QueryCost | None, timing: tuple[float, float], reservation: Reservation
    ) -> None:
        """Learn the operation's cost and the bucket level; `timing` is (sent_at, received_at) of the request."""
        if cost is None:
            return
        if cost.requested_query_cost is not None:
            self._bucket.remember_cost(name, cost.requested_query_cost)
        if cost.throttle_status is not None:
            self._bucket.observe(cost.throttle_status, *timing, reservation)
        if cost.actual_query_cost is not None:
            self._count(cost_spent=cost.actual_query_cost)

    # -- waiting -------------------------------------------------------------------------------------------------

    def _wait_for_credit(self, name: str, last_cause: str | None) -> Reservation:
        self._ensure_time_for_request(last_cause)
        while True:
            # Inside the loop: after waiting for the store's first reading the operation's cost may be known.
            expected_cost = self._bucket.expected_cost(name)
            reservation = self._bucket.reserve(expected_cost, self._monotonic())
            if reservation.wait_s <= 0:
                return reservation
            if not self._has_time_for(reservation.wait_s):
                self._bucket.release(reservation, self._monotonic())
                raise ShopifyUnavailable(
                    f"{name} needs {reservation.wait_s:.1f}s of throttle credit and the deadline is closer",
                    last_cause=last_cause or "cost budget",
                )
            logger.info(
                "Waiting for Shopify cost credit",
                extra={"operation": name, "expected_cost": expected_cost, "wait_s": reservation.wait_s},
            )
            self._count(throttle_waits=1, waited_s=reservation.wait_s)
            self.sleep(reservation.wait_s)
            if not reservation.provisional:
                return reservation
            self._bucket.release(reservation, self._monotonic())

    def _pause_before_retry(self, name: str, outcome: _RetryLater, attempt: int) -> None:
        if not self._has_time_for(outcome.delay_s):
            raise ShopifyUnavailable(f"{name}: no time left to retry", last_cause=outcome.cause)
        logger.info(
            "Retrying Shopify operation",
            extra={"operation": name, "attempt": attempt, "cause": outcome.cause, "wait_s": outcome.delay_s},
        )
        self._count(retries=1, waited_s=outcome.delay_s)
        self.sleep(outcome.delay_s)

    def _has_time_for(self, wait_s: float) -> bool:
        return self._time_remaining_s is None or self._time_remaining_s() - wait_s >= MIN_REQUEST_WINDOW_S

    def _ensure_time_for_request(self, last_cause: str | None) -> None:
        if self._time_remaining_s is not None and self._time_remaining_s() <= 0:
            raise ShopifyUnavailable("no time left before the deadline", last_cause=last_cause)

    def _request_timeout(self) -> float:
        if self._time_remaining_s is None:
            return self._timeout_s
        return max(0.1, min(self._timeout_s, self._time_remaining_s()))

    def _backoff(self, attempt: int) -> float:
        base = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** (attempt - 1))
        return base + self._jitter(base)

    def _jitter(self, base_s: float) -> float:
        return self._rng.uniform(0.0, JITTER_FRACTION * base_s)

    def _count(
        self,
        *,
        calls: int = 0,
        cost_spent: float = 0.0,
        throttle_waits: int = 0,
        throttled_responses: int = 0,
        retries: int = 0,
        waited_s: float = 0.0,
    ) -> None:
        with self._stats_lock:
            self._stats.calls += calls
            self._stats.cost_spent += cost_spent
            self._stats.throttle_waits += throttle_waits
            self._stats.throttled_responses += throttled_responses
            self._stats.retries += retries
            self._stats.waited_s += waited_s


def raise_for_user_errors(result: GraphQLResponse | Mapping[str, Any] | None, path: Sequence[str]) -> dict[str, Any]:
    """The mutation payload at `path` (e.g. `("bulkOperationRunQuery",)`) of `result` (a response or its data);
    raises `ShopifyUserErrors` when its `userErrors` is not empty."""
    data = result.data if isinstance(result, GraphQLResponse) else result
    payload: Any = data
    for key in path:
        payload = payload.get(key) if isinstance(payload, Mapping) else None
    if not isinstance(payload, dict):
        raise ShopifyGraphQLError([f"no mutation payload at {'.'.join(path)}"], data=data)
    errors = [UserError.model_validate(item) for item in payload.get("userErrors") or []]
    if errors:
        raise ShopifyUserErrors(errors, path=path)
    return payload


def _throttled_delay_s(cost: QueryCost | None) -> float:
    """max(1 s, time to refill the missing points)."""
    if cost is None or cost.throttle_status is None or cost.requested_query_cost is None:
        return 1.0
    status = cost.throttle_status
    if status.restore_rate <= 0:
        return 1.0
    return max(1.0, (cost.requested_query_cost - status.currently_available) / status.restore_rate)


def _retry_after_s(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # HTTP-date form: Shopify sends seconds; fall back to backoff.
    return max(0.0, seconds)


def _detail(response: httpx.Response) -> str:
    """A short, token-free description of an error response (Shopify's body never echoes the request headers)."""
    text = response.text.strip().replace("\n", " ")
    return text[:_DETAIL_CHARS] or response.reason_phrase


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__

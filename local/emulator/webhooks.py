"""Webhook subscriptions and deliveries like Shopify's HTTPS webhooks (reference §8).

A delivery POSTs the REST-style JSON with X-Shopify-Topic, X-Shopify-Hmac-Sha256 (base64 HMAC-SHA256 of the raw
body with the subscription's secret), X-Shopify-Shop-Domain, X-Shopify-API-Version, X-Shopify-Webhook-Id
(constant across retries and duplicates), X-Shopify-Event-Id and X-Shopify-Triggered-At. A background scheduler
thread sends due deliveries through a small worker pool; a non-2xx answer or a timeout is retried with exponential
backoff (Shopify: 8 tries over 4 h; here `backoff_s`, doubling). Faults per store: duplicate every delivery, drop
a share of them, or delay them. Only loopback subscribers are accepted: the emulator never calls out.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import ipaddress
import itertools
import logging
import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

log = logging.getLogger(__name__)

TOPICS = ("orders/create", "orders/updated", "orders/cancelled", "orders/fulfilled")
LOG_LIMIT = 10_000  # deliveries kept per store


def topic_name(topic: str) -> str:
    """'orders/create' from either 'orders/create' or the GraphQL enum 'ORDERS_CREATE'."""
    name = topic.lower().replace("_", "/", 1) if "/" not in topic else topic.lower()
    if name not in TOPICS:
        raise ValueError(f"unsupported webhook topic {topic!r}; expected one of {', '.join(TOPICS)}")
    return name


def enum_topic(topic: str) -> str:
    return topic.replace("/", "_").upper()


def check_loopback(uri: str) -> None:
    parts = urlsplit(uri)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"webhook uri must be http(s): {uri!r}")
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"the emulator only delivers webhooks to loopback addresses, not {host!r}")


def sign(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@dataclass
class Subscription:
    id: int
    topic: str
    uri: str
    secret: str
    created_at: str
    api_version: str


@dataclass
class WebhookFaults:
    duplicate: bool = False
    drop_rate: float = 0.0
    delay_s: float = 0.0
    rng: random.Random = field(default_factory=lambda: random.Random(0))


@dataclass
class Delivery:
    webhook_id: str
    event_id: str
    topic: str
    uri: str
    body: bytes
    headers: dict[str, str]
    log: dict[str, Any]  # the entry shown in stats()
    duplicate_of: str | None = None


class WebhookDispatcher:
    """One scheduler thread and a few sender threads shared by every store of an emulator (started lazily)."""

    def __init__(self, *, max_attempts: int = 8, backoff_s: float = 0.05, timeout_s: float = 5.0) -> None:
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s
        self._heap: list[tuple[float, int, Delivery]] = []
        self._seq = itertools.count()
        self._cv = threading.Condition()
        self._in_flight = 0
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._client: httpx.Client | None = None
        self._closed = False

    # ---- producer side (called under a store lock: must not block) ------------------------------------

    def schedule(self, delivery: Delivery, delay_s: float = 0.0) -> None:
        with self._cv:
            self._start()
            heapq.heappush(self._heap, (time.monotonic() + delay_s, next(self._seq), delivery))
            self._cv.notify()

    def _start(self) -> None:
        if self._thread is None:
            self._client = httpx.Client(timeout=self.timeout_s, trust_env=False)
            self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="webhook-send")
            self._thread = threading.Thread(target=self._run, name="webhook-scheduler", daemon=True)
            self._thread.start()

    # ---- scheduler -----------------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._closed and (not self._heap or self._heap[0][0] > time.monotonic()):
                    timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._cv.wait(timeout)
                if self._closed:
                    return
                delivery = heapq.heappop(self._heap)[2]
                self._in_flight += 1
            assert self._pool is not None
            self._pool.submit(self._send, delivery)

    def _send(self, delivery: Delivery) -> None:
        entry = delivery.log
        entry["attempts"] += 1
        attempt_headers = {**delivery.headers, "X-Shopify-Attempt": str(entry["attempts"])}
        try:
            assert self._client is not None
            response = self._client.post(delivery.uri, content=delivery.body, headers=attempt_headers)
            outcome: int | str = response.status_code
            ok = 200 <= response.status_code < 300
        except httpx.HTTPError as exc:
            outcome, ok = type(exc).__name__, False
        entry["responses"].append(outcome)
        retry_in = None
        if ok:
            entry["status"] = "delivered"
        elif entry["attempts"] >= self.max_attempts:
            entry["status"] = "failed"
            log.info("webhook %s to %s failed after %s attempts", delivery.topic, delivery.uri, entry["attempts"])
        else:
            retry_in = self.backoff_s * 2 ** (entry["attempts"] - 1)
        with self._cv:
            self._in_flight -= 1
            if retry_in is not None:
                heapq.heappush(self._heap, (time.monotonic() + retry_in, next(self._seq), delivery))
            self._cv.notify_all()

    # ---- control -------------------------------------------------------------------------------------

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until nothing is queued or being sent (retries included); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cv:
            while self._heap or self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cv.wait(min(remaining, 0.05))
        return True

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._cv.notify_all()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        if self._client is not None:
            self._client.close()


class StoreWebhooks:
    """A store's subscriptions, fault switches and delivery log."""

    def __init__(self, shop_domain: str, secret: str, api_version: str) -> None:
        self.shop_domain = shop_domain
        self.secret = secret
        self.api_version = api_version
        self.subscriptions: dict[int, Subscription] = {}
        self.faults = WebhookFaults()
        self.log: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def matching(self, topic: str) -> list[Subscription]:
        with self.lock:
            return [s for s in self.subscriptions.values() if s.topic == topic]

    def emit(self, dispatcher: WebhookDispatcher, topic: str, body: bytes, *, event_id: str, triggered_at: str) -> None:
        for subscription in self.matching(topic):
            webhook_id = str(uuid.uuid4())
            headers = {
                "Content-Type": "application/json",
                "X-Shopify-Topic": topic,
                "X-Shopify-Hmac-Sha256": sign(body, subscription.secret),
                "X-Shopify-Shop-Domain": self.shop_domain,
                "X-Shopify-API-Version": subscription.api_version,
                "X-Shopify-Webhook-Id": webhook_id,
                "X-Shopify-Event-Id": event_id,
                "X-Shopify-Triggered-At": triggered_at,
                "X-Shopify-Name": f"subscription-{subscription.id}",
            }
            copies = 2 if self.faults.duplicate else 1
            for copy in range(copies):
                entry = {
                    "webhook_id": webhook_id,
                    "event_id": event_id,
                    "topic": topic,
                    "uri": subscription.uri,
                    "status": "pending",
                    "attempts": 0,
                    "responses": [],
                    "duplicate": copy > 0,
                }
                with self.lock:
                    self.log.append(entry)
                    del self.log[:-LOG_LIMIT]
                if self.faults.drop_rate and self.faults.rng.random() < self.faults.drop_rate:
                    entry["status"] = "dropped"
                    continue
                delivery = Delivery(webhook_id, event_id, topic, subscription.uri, body, headers, entry)
                dispatcher.schedule(delivery, self.faults.delay_s)

    def summary(self, recent: int = 200) -> dict[str, Any]:
        with self.lock:
            entries = [dict(e, responses=list(e["responses"])) for e in self.log]
        counts = dict.fromkeys(("pending", "delivered", "failed", "dropped"), 0)
        for entry in entries:
            counts[entry["status"]] = counts.get(entry["status"], 0) + 1
        return {
            **counts,
            "attempts": sum(e["attempts"] for e in entries),
            "subscriptions": len(self.subscriptions),
            "deliveries": entries[-recent:],
        }

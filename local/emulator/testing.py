"""Helpers for tests and demos that talk to an emulator: a movable clock and a tiny Admin GraphQL caller."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from local.emulator.app import ShopifyEmulator
from local.emulator.schema import API_VERSION

IN_PROCESS_BASE_URL = "http://emulator.local"


class FakeClock:
    """An aware UTC clock that only moves when told to (it also drives the throttle buckets)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += timedelta(seconds=seconds)


def in_process_http(emulator: ShopifyEmulator) -> httpx.Client:
    return httpx.Client(transport=httpx.WSGITransport(app=emulator), base_url=IN_PROCESS_BASE_URL)


class AdminGraphQL:
    """POSTs to one store's Admin GraphQL endpoint; `__call__` returns the decoded JSON body."""

    def __init__(self, http: httpx.Client, shop_id: str, token: str, version: str = API_VERSION) -> None:
        self.http = http
        self.path = f"/stores/{shop_id}/admin/api/{version}/graphql.json"
        self.token = token

    def post(self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None) -> httpx.Response:
        return self.http.post(
            self.path,
            json={"query": query, "variables": variables or {}},
            headers={"X-Shopify-Access-Token": token or self.token},
        )

    def __call__(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.post(query, variables)
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

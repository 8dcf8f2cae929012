"""An operator's view of a running stack, over HTTP only: the shopsync API and what the Shopify stores show.

The demo, the end-to-end tests and the latency benchmark all drive the local stack through this."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

RUN_TIMEOUT_S = 120.0
SHOWN_QUERY = """
query Shown($id: ID!, $namespace: String!, $key: String!) {
  productVariant(id: $id) {
    inventoryPolicy
    metafield(namespace: $namespace, key: $key) { value }
    product { tags }
    inventoryItem { inventoryLevels(first: 5) { nodes { quantities(names: ["available"]) { quantity } } } }
  }
}"""
CUSTOMER_ADDRESS = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "address1": "1 Analytical Way",
    "city": "London",
    "zip": "N1 1AA",
    "country": "United Kingdom",
    "country_code": "GB",
}


@dataclass(frozen=True)
class Shown:
    """What a store shows for one variant."""

    inventory_policy: str
    listing: dict[str, Any] | None
    tags: list[str]
    available: int

    @property
    def listed(self) -> bool:
        return bool(self.listing and self.listing.get("status") == "active")


class Operator:
    def __init__(self, api_url: str, emulator_url: str, api_version: str = "2026-07") -> None:
        self.api = httpx.Client(base_url=api_url, timeout=60)
        self.emulator = httpx.Client(base_url=emulator_url, timeout=30)
        self.api_version = api_version

    def close(self) -> None:
        self.api.close()
        self.emulator.close()

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.api.request(method, path, **kwargs)

    def run_job(self, job: str, shop_id: str | None = None, **params: str) -> dict[str, Any]:
        """Run now, then wait for the run to end; returns the run record."""
        body: dict[str, Any] = {"params": params} | ({"shop_id": shop_id} if shop_id else {})
        response = self.call("POST", f"/jobs/{job}/runs", json=body)
        if response.status_code != 202:
            raise RuntimeError(f"POST /jobs/{job}/runs → {response.status_code}: {response.text}")
        run_id = response.json()["run_id"]
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while time.monotonic() < deadline:
            run: dict[str, Any] = self.call("GET", f"/runs/{run_id}").json()
            if run["status"] in ("FINISHED", "FAILED"):
                return run
            time.sleep(0.1)
        raise TimeoutError(f"run {run_id} did not end within {RUN_TIMEOUT_S} s")

    def put_on_preorder(self, sku: str, quantity: int, *, po_id: str, arrival_in_days: int = 20) -> None:
        """A pre-order PO line and no stock, through the API, then the catalog refresh that decides membership."""
        arrival = (datetime.now(UTC).date() + timedelta(days=arrival_in_days)).isoformat()
        line = {
            "externalId": po_id,
            "itemId": "1",
            "sku": sku,
            "quantity": quantity,
            "arrivalDate": arrival,
            "isNewProduct": "Y",
        }
        for method, path, body in (
            ("POST", "/purchase-orders", {"items": [line]}),
            ("PUT", "/inventory", [{"sku": sku, "on_hand": 0, "online_atp": 0}]),
        ):
            response = self.call(method, path, json=body)
            if response.status_code != 200 or response.json().get("rejected"):
                raise RuntimeError(f"{method} {path} → {response.status_code}: {response.text}")
        if self.run_job("catalog-refresh", mode="incremental")["status"] != "FINISHED":
            raise RuntimeError("catalog refresh failed")

    def link(self, product_id: str, shop_id: str, variant: dict[str, Any]) -> None:
        body = {"shopify_product_id": variant["product_id"], "shopify_variant_id": variant["id"]}
        response = self.call("PUT", f"/products/{product_id}/shops/{shop_id}", json=body)
        if response.status_code not in (200, 201):
            raise RuntimeError(f"PUT /products/{product_id}/shops/{shop_id} → {response.status_code}: {response.text}")

    def checkout(self, shop_id: str, variant_id: str, quantity: int) -> dict[str, Any]:
        """A customer buys in the storefront; returns the order as the store has it."""
        response = self.emulator.post(
            f"/_emulator/stores/{shop_id}/checkout",
            json={
                "lines": [{"variant_id": variant_id, "quantity": quantity}],
                "email": "ada@example.com",
                "shipping_address": CUSTOMER_ADDRESS,
            },
        )
        if response.status_code != 201:
            raise RuntimeError(f"checkout in {shop_id} → {response.status_code}: {response.text}")
        order: dict[str, Any] = response.json()["order"]
        return order

    def offered(self, variants: Mapping[str, str]) -> dict[str, int]:
        """What each store shows as `available` for its variant ({shop_id: variant GID})."""
        return {shop_id: self.shown(shop_id, variant_id).available for shop_id, variant_id in variants.items()}

    def offers(self, variants: Mapping[str, str], total: int) -> bool:
        """Whether the stores together offer exactly `total` units."""
        return sum(self.offered(variants).values()) == total

    def order_to_quantities(
        self, variants: Mapping[str, str], shop_id: str, quantity: int, po_left: int, timeout_s: float = 30.0
    ) -> tuple[dict[str, Any], float]:
        """Buy `quantity` in `shop_id`'s storefront, then wait for the re-sync the imported order causes (webhook →
        order import → PO ATP → stream → pre-order sync): the stores together offer the `po_left` units the PO has
        left, and the store that sold got more than the sale left it (stock follows demand). Returns the order and
        the seconds from the checkout until the stores showed it."""
        started = time.monotonic()
        order = self.checkout(shop_id, variants[shop_id], quantity)
        after_sale = self.offered(variants)

        def resynced() -> bool:
            now = self.offered(variants)
            return sum(now.values()) == po_left and now[shop_id] > after_sale[shop_id]

        self.wait_until(resynced, timeout_s)
        return order, time.monotonic() - started

    def cancel_to_quantities(
        self, variants: Mapping[str, str], shop_id: str, order_legacy_id: str, po_left: int, timeout_s: float = 30.0
    ) -> float:
        """The merchant cancels the order in the admin, restocking it (Shopify's default); then wait for the re-sync
        the imported cancellation causes: the units are back in the PO, the stores together offer its `po_left`, and
        the restocked store gave its surplus back to the others. Returns the seconds from the cancellation."""
        started = time.monotonic()
        response = self.emulator.post(
            f"/_emulator/stores/{shop_id}/orders/{order_legacy_id}/cancel", json={"reason": "CUSTOMER", "restock": True}
        )
        if response.is_error:
            raise RuntimeError(f"cancel {shop_id}/{order_legacy_id} → {response.status_code}: {response.text}")
        restocked = self.offered(variants)

        def resynced() -> bool:
            now = self.offered(variants)
            return sum(now.values()) == po_left and now[shop_id] < restocked[shop_id]

        self.wait_until(resynced, timeout_s)
        return time.monotonic() - started

    def fully_listed(self, shop_id: str, variant_id: str, tag: str = "HC:Pre-Order") -> bool:
        shown = self.shown(shop_id, variant_id)
        return shown.listed and shown.inventory_policy == "DENY" and tag in shown.tags and shown.available > 0

    def store_variants(self, shop_id: str) -> dict[str, dict[str, Any]]:
        """Variants by SKU as the emulator holds them (with their product's id)."""
        state = self.emulator.get(f"/_emulator/stores/{shop_id}").json()
        return {v["sku"]: {**v, "product_id": p["id"]} for p in state["products"] for v in p["variants"]}

    def shown(self, shop_id: str, variant_id: str, *, metafield_key: str = "PREORDER_DETAIL") -> Shown:
        response = self.emulator.post(
            f"/stores/{shop_id}/admin/api/{self.api_version}/graphql.json",
            headers={"X-Shopify-Access-Token": f"shpat_local_{shop_id}"},
            json={
                "query": SHOWN_QUERY,
                "variables": {"id": variant_id, "namespace": "HC_PREORDER", "key": metafield_key},
            },
        )
        variant = response.json()["data"]["productVariant"]
        metafield = variant["metafield"]
        levels = variant["inventoryItem"]["inventoryLevels"]["nodes"]
        return Shown(
            inventory_policy=variant["inventoryPolicy"],
            listing=json.loads(metafield["value"]) if metafield else None,
            tags=variant["product"]["tags"],
            available=sum(q["quantity"] for level in levels for q in level["quantities"]),
        )

    @staticmethod
    def wait_until(condition: Callable[[], bool], timeout_s: float = 15.0, interval_s: float = 0.05) -> float:
        """Seconds until `condition()` held; TimeoutError when it did not within `timeout_s`."""
        started = time.monotonic()
        while time.monotonic() - started < timeout_s:
            if condition():
                return time.monotonic() - started
            time.sleep(interval_s)
        raise TimeoutError(f"condition not met within {timeout_s} s")

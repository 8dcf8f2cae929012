"""Demo stores: one parent and two child stores with a deterministic apparel catalog.

Everything is written the way merchant tooling would do it: plain HTTP POSTs of `productSet` and
`inventorySetQuantities` to each store's Admin GraphQL endpoint, pacing on `throttleStatus` so the seeding
itself is never throttled. The child stores carry the anomalies the association job must cope with.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from local.emulator.app import ShopifyEmulator
from local.emulator.schema import API_VERSION
from local.emulator.testing import in_process_http

CATALOG_SEED = 2026
PARENT = "us-parent"
DEMO_STORES = (
    (PARENT, "US Store", "USD"),
    ("eu-child", "EU Store", "EUR"),
    ("uk-child", "UK Store", "GBP"),
)
SIZES = ("XS", "S", "M", "L", "XL")
COLOURS = {
    "BLK": "Black",
    "WHT": "White",
    "NVY": "Navy",
    "GRY": "Grey",
    "RED": "Red",
    "GRN": "Green",
    "OLV": "Olive",
    "SND": "Sand",
}
# code, name, product type, base price, sized (False: one variant "One Size")
STYLES = (
    ("TEE", "Classic Tee", "T-Shirts", 24),
    ("VTEE", "V-Neck Tee", "T-Shirts", 26),
    ("LTEE", "Long Sleeve Tee", "T-Shirts", 32),
    ("POLO", "Pique Polo", "Polos", 45),
    ("HOOD", "Pullover Hoodie", "Hoodies", 65),
    ("ZHOOD", "Zip Hoodie", "Hoodies", 72),
    ("SWT", "Crew Sweatshirt", "Sweatshirts", 58),
    ("JKT", "Coach Jacket", "Jackets", 95),
    ("SHRT", "Jersey Shorts", "Shorts", 38),
    ("JOG", "Fleece Jogger", "Trousers", 60),
    ("CAP", "Six Panel Cap", "Headwear", 28),
    ("BEAN", "Rib Beanie", "Headwear", 22),
)
ONE_SIZE_STYLES = frozenset({"CAP", "BEAN"})
PRODUCT_COUNT = 70
ZERO_STOCK_VARIANTS = 20
MISSING_IN_CHILD = {"eu-child": 3, "uk-child": 4}

PRODUCT_SET = """
mutation SeedProduct($input: ProductSetInput!) {
  productSet(input: $input, synchronous: true) {
    product { id variants(first: 10) { nodes { id sku inventoryItem { id } } } }
    userErrors { field message code }
  }
}"""
SET_QUANTITIES = """
mutation SeedStock($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id }
    userErrors { field message code }
  }
}"""
PRIMARY_LOCATION = "{ location { id } }"


@dataclass(frozen=True)
class SeedVariant:
    sku: str
    size: str
    barcode: str
    price: str
    available: int


@dataclass(frozen=True)
class SeedProduct:
    title: str
    handle: str
    product_type: str
    tags: tuple[str, ...]
    sized: bool
    variants: tuple[SeedVariant, ...]


@dataclass
class StoreSeed:
    shop_id: str
    name: str
    currency: str
    access_token: str
    admin_api_base_url: str
    products: int = 0
    variants: int = 0
    zero_stock_skus: list[str] = field(default_factory=list)
    missing_skus: list[str] = field(default_factory=list)  # parent SKUs this store does not carry
    duplicated_skus: list[str] = field(default_factory=list)  # SKUs carried by two variants of this store
    altered_skus: dict[str, str] = field(default_factory=dict)  # parent SKU → SKU as typed in this store


@dataclass
class SeedSummary:
    base_url: str
    stores: dict[str, StoreSeed]

    @property
    def parent(self) -> StoreSeed:
        return self.stores[PARENT]


def upc_a(eleven_digits: str) -> str:
    """Append the UPC-A check digit: 3 * (odd positions) + (even positions), rounded up to a multiple of 10."""
    odd = sum(int(d) for d in eleven_digits[0::2])
    even = sum(int(d) for d in eleven_digits[1::2])
    return eleven_digits + str((10 - (3 * odd + even) % 10) % 10)


def build_catalog(seed: int = CATALOG_SEED) -> list[SeedProduct]:
    """The parent catalog: ~70 apparel products, 1-5 sizes each, unique SKUs and UPC-A barcodes."""
    rng = random.Random(seed)
    combos = rng.sample([(style, colour) for style in STYLES for colour in COLOURS], PRODUCT_COUNT)
    specs: list[tuple[tuple[str, str, str, int], str, tuple[str, ...]]] = []
    for style, colour in combos:
        if style[0] in ONE_SIZE_STYLES:
            sizes: tuple[str, ...] = ("OS",)
        else:
            count = rng.randint(2, 5)
            start = rng.randint(0, len(SIZES) - count)
            sizes = SIZES[start : start + count]
        specs.append((style, colour, sizes))
    variant_count = sum(len(sizes) for _, _, sizes in specs)
    zero_stock = set(rng.sample(range(variant_count), ZERO_STOCK_VARIANTS))
    products: list[SeedProduct] = []
    index = 0
    for (code, name, product_type, price), colour, sizes in specs:
        variants = []
        for size in sizes:
            barcode = upc_a(f"{84_100_000_000 + index * 37:011d}")
            available = 0 if index in zero_stock else rng.randint(3, 120)
            variants.append(SeedVariant(f"SS-{code}-{colour}-{size}", size, barcode, f"{price}.00", available))
            index += 1
        title = f"{COLOURS[colour]} {name}"
        products.append(
            SeedProduct(
                title=title,
                handle=f"{code.lower()}-{colour.lower()}",
                product_type=product_type,
                tags=("shopsync-demo", product_type.lower(), COLOURS[colour].lower()),
                sized=code not in ONE_SIZE_STYLES,
                variants=tuple(variants),
            )
        )
    return products


def child_catalog(parent: list[SeedProduct], shop_id: str, summary: StoreSeed) -> list[SeedProduct]:
    """The parent catalog as a child store holds it, with that store's documented anomalies."""
    rng = random.Random(f"{CATALOG_SEED}-{shop_id}")
    multi = [(p, v) for p in parent if len(p.variants) > 1 for v in p.variants]
    missing = {v.sku for _, v in rng.sample(multi, MISSING_IN_CHILD.get(shop_id, 0))}
    summary.missing_skus = sorted(missing)
    products = [replace(p, variants=tuple(v for v in p.variants if v.sku not in missing)) for p in parent]
    if shop_id == "eu-child":
        # Two SKUs listed twice: a legacy product re-uses them (two variants sharing one SKU each).
        donors = [v for p in products if p.sized for v in p.variants][:2]
        summary.duplicated_skus = [v.sku for v in donors]
        products.append(
            SeedProduct(
                title="Legacy Import Bundle",
                handle="legacy-import-bundle",
                product_type="Bundles",
                tags=("shopsync-demo", "legacy"),
                sized=True,
                variants=tuple(
                    replace(v, size=f"Legacy {v.size}", barcode=upc_a(v.barcode[:10] + "9")) for v in donors
                ),
            )
        )
    if shop_id == "uk-child":
        target = products[1].variants[0]
        altered = f"{target.sku.lower()} "  # same SKU up to case and trailing whitespace
        summary.altered_skus = {target.sku: altered}
        products[1] = replace(products[1], variants=(replace(target, sku=altered), *products[1].variants[1:]))
    return products


def seed_demo_stores(base_url: str | None = None, *, emulator: ShopifyEmulator | None = None) -> SeedSummary:
    """Create and fill `us-parent`, `eu-child` and `uk-child` through their Admin GraphQL endpoints.

    Give `base_url` of a running emulator (stores are created with the control endpoint), or `emulator` to
    seed in-process through an httpx WSGI transport (stores are created with `add_store`).
    """
    if base_url is None and emulator is None:
        raise ValueError("seed_demo_stores needs base_url or emulator")
    if base_url is not None:
        client = httpx.Client(base_url=base_url.rstrip("/"), timeout=30.0)
    else:
        assert emulator is not None
        client = in_process_http(emulator)
    root = str(client.base_url).rstrip("/")
    parent_catalog = build_catalog()
    summary = SeedSummary(base_url=root, stores={})
    with client:
        for shop_id, name, currency in DEMO_STORES:
            token = f"shpat_local_{shop_id}"
            _create_store(client, emulator if base_url is None else None, (shop_id, name, currency), token)
            store_summary = StoreSeed(shop_id, name, currency, token, f"{root}/stores/{shop_id}")
            catalog = parent_catalog if shop_id == PARENT else child_catalog(parent_catalog, shop_id, store_summary)
            _fill_store(AdminClient(client, shop_id, token), catalog, store_summary)
            summary.stores[shop_id] = store_summary
    return summary


def _create_store(
    client: httpx.Client, emulator: ShopifyEmulator | None, store: tuple[str, str, str], token: str
) -> None:
    shop_id, name, currency = store
    if emulator is not None:
        emulator.add_store(shop_id=shop_id, name=name, currency=currency, access_token=token)
        return
    response = client.post(
        "/_emulator/stores", json={"shop_id": shop_id, "name": name, "currency": currency, "access_token": token}
    )
    if response.status_code != 201:
        raise RuntimeError(f"cannot create store {shop_id}: HTTP {response.status_code} {response.text}")


def _fill_store(admin: AdminClient, catalog: list[SeedProduct], summary: StoreSeed) -> None:
    location = admin.call(PRIMARY_LOCATION, {})["location"]["id"]
    stock: list[dict[str, Any]] = []
    for product in catalog:
        payload = admin.call(PRODUCT_SET, {"input": _product_input(product)})["productSet"]
        if payload["userErrors"]:
            raise RuntimeError(f"productSet {product.handle} failed: {payload['userErrors']}")
        created = payload["product"]["variants"]["nodes"]
        for seeded, node in zip(product.variants, created, strict=True):
            summary.variants += 1
            if seeded.available == 0:
                summary.zero_stock_skus.append(seeded.sku)
                continue
            stock.append(
                {
                    "inventoryItemId": node["inventoryItem"]["id"],
                    "locationId": location,
                    "quantity": seeded.available,
                    "changeFromQuantity": 0,  # fresh items: refuse to overwrite anything already there
                }
            )
        summary.products += 1
    for number, batch in enumerate(_batches(stock, 250)):
        input_ = {
            "name": "available",
            "reason": "correction",
            "referenceDocumentUri": "gid://shopsync/Seed/1",
            "quantities": batch,
        }
        payload = admin.call(SET_QUANTITIES, {"input": input_, "key": f"seed-{summary.shop_id}-{number}"})
        if payload["inventorySetQuantities"]["userErrors"]:
            raise RuntimeError(f"inventorySetQuantities failed: {payload['inventorySetQuantities']['userErrors']}")


def _product_input(product: SeedProduct) -> dict[str, Any]:
    option = "Size"
    return {
        "title": product.title,
        "handle": product.handle,
        "productType": product.product_type,
        "vendor": "shopsync",
        "status": "ACTIVE",
        "tags": list(product.tags),
        "productOptions": [{"name": option, "values": [{"name": v.size} for v in product.variants]}],
        "variants": [
            {
                "optionValues": [{"optionName": option, "name": v.size}],
                "price": v.price,
                "barcode": v.barcode,
                "inventoryPolicy": "DENY",
                "inventoryItem": {"sku": v.sku, "tracked": True},
            }
            for v in product.variants
        ],
    }


def _batches(items: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class AdminClient:
    """A minimal paced Admin GraphQL client: waits when the bucket would not cover the next call."""

    def __init__(self, client: httpx.Client, shop_id: str, token: str) -> None:
        self._client = client
        self._path = f"/stores/{shop_id}/admin/api/{API_VERSION}/graphql.json"
        self._headers = {"X-Shopify-Access-Token": token}
        self._available: float | None = None
        self._restore_rate = 100.0
        self._last_cost: dict[str, int] = {}

    def call(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        expected = self._last_cost.get(query, 50)
        if self._available is not None and self._available < expected:
            time.sleep((expected - self._available) / self._restore_rate)
        response = self._client.post(self._path, json={"query": query, "variables": variables}, headers=self._headers)
        response.raise_for_status()
        body = response.json()
        cost = body.get("extensions", {}).get("cost", {})
        if cost:
            status = cost["throttleStatus"]
            self._available, self._restore_rate = status["currentlyAvailable"], status["restoreRate"]
            self._last_cost[query] = cost["requestedQueryCost"]
        if body.get("errors"):
            raise RuntimeError(f"GraphQL errors: {body['errors']}")
        data: dict[str, Any] = body["data"]
        return data

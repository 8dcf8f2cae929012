"""In-memory state of one emulated shop: catalog, inventory, metafields, orders, bulk operations, uploads."""

from __future__ import annotations

import hashlib
import itertools
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from local.emulator.bucket import LeakyBucket
from local.emulator.faults import FaultInjector
from local.emulator.schema import API_VERSION
from local.emulator.webhooks import StoreWebhooks

QUANTITY_NAMES = (
    "available",
    "on_hand",
    "committed",
    "incoming",
    "reserved",
    "damaged",
    "quality_control",
    "safety_stock",
)
# on_hand = available + committed + unavailable, where "unavailable" is the sum of these states.
UNAVAILABLE_NAMES = ("reserved", "damaged", "quality_control", "safety_stock")
STORED_NAMES = tuple(name for name in QUANTITY_NAMES if name != "on_hand")


def iso(moment: datetime | None) -> str | None:
    """Shopify's DateTime format: UTC, second precision, trailing Z."""
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def handleize(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-") or "product"


@dataclass
class Location:
    id: int
    name: str
    created_at: datetime
    is_primary: bool = False
    is_active: bool = True
    address: dict[str, str | None] = field(default_factory=dict)


@dataclass
class InventoryLevel:
    id: int
    item_id: int
    location_id: int
    created_at: datetime
    updated_at: datetime
    stored: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STORED_NAMES, 0))
    changed_at: dict[str, datetime] = field(default_factory=dict)
    is_active: bool = True

    def quantity(self, name: str) -> int:
        if name == "on_hand":
            unavailable = sum(self.stored[n] for n in UNAVAILABLE_NAMES)
            return self.stored["available"] + self.stored["committed"] + unavailable
        return self.stored[name]

    def set_quantity(self, name: str, value: int, now: datetime) -> dict[str, int]:
        """Set `available` or `on_hand`; both move by the same delta. Returns the delta per affected name."""
        if name not in ("available", "on_hand"):
            raise ValueError(f"cannot set {name!r} directly")
        delta = value - self.quantity(name)
        if delta == 0:
            return {}
        self.stored["available"] += delta
        self.changed_at["available"] = now
        self.updated_at = now
        return {"available": delta, "on_hand": delta}


@dataclass
class InventoryItem:
    id: int
    sku: str | None
    created_at: datetime
    updated_at: datetime
    tracked: bool = True
    requires_shipping: bool = True
    variant_id: int | None = None
    levels: dict[int, InventoryLevel] = field(default_factory=dict)  # by location id


@dataclass
class ProductOption:
    id: int
    name: str
    position: int
    values: list[str] = field(default_factory=list)


@dataclass
class Variant:
    id: int
    product_id: int
    inventory_item_id: int
    created_at: datetime
    updated_at: datetime
    options: list[tuple[str, str]]  # (option name, value) in option order
    position: int = 1
    barcode: str | None = None
    price: str = "0.00"
    compare_at_price: str | None = None
    inventory_policy: str = "DENY"
    taxable: bool = True

    @property
    def title(self) -> str:
        return " / ".join(value for _, value in self.options) or "Default Title"


@dataclass
class Product:
    id: int
    title: str
    handle: str
    created_at: datetime
    updated_at: datetime
    status: str = "ACTIVE"
    vendor: str = ""
    product_type: str = ""
    tags: list[str] = field(default_factory=list)
    description_html: str = ""
    options: list[ProductOption] = field(default_factory=list)
    variant_ids: list[int] = field(default_factory=list)


@dataclass
class InventoryChange:
    name: str
    delta: int
    quantity_after_change: int | None
    item_id: int
    location_id: int
    ledger_document_uri: str | None = None


@dataclass
class AdjustmentGroup:
    id: int
    created_at: datetime
    reason: str
    reference_document_uri: str | None
    changes: list[InventoryChange]


@dataclass
class BulkOperation:
    id: int
    query: str
    created_at: datetime
    group_objects: bool
    type: str = "QUERY"
    status: str = "CREATED"
    error_code: str | None = None
    completed_at: datetime | None = None
    object_count: int = 0
    root_object_count: int = 0
    result: bytes | None = None  # the JSONL file once COMPLETED
    staged_upload_path: str | None = None  # MUTATION: the JSONL of variables
    client_identifier: str | None = None
    polls: int = 0  # status reads seen so far; drives CREATED → RUNNING → COMPLETED

    @property
    def in_progress(self) -> bool:
        return self.status in ("CREATED", "RUNNING", "CANCELING")


@dataclass
class IdempotencyRecord:
    """What an @idempotent mutation answered, replayed for a retry with the same key and input."""

    mutation: str
    fingerprint: str
    outcome: Any


@dataclass
class Metafield:
    """A metafield on a Product, ProductVariant, Order or the Shop, keyed by (owner GID, namespace, key)."""

    id: int
    owner_id: str  # the owner's GID
    namespace: str
    key: str
    type: str
    value: str
    created_at: datetime
    updated_at: datetime

    @property
    def compare_digest(self) -> str:
        raw = f"{self.id}|{self.type}|{self.value}|{self.updated_at.isoformat()}"
        return hashlib.sha256(raw.encode()).hexdigest()


@dataclass
class Customer:
    id: int
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None


@dataclass
class LineItem:
    id: int
    variant_id: int | None  # None: custom item or deleted variant
    sku: str | None
    name: str
    quantity: int
    price: str = "0.00"
    current_quantity: int | None = None
    fulfilled_quantity: int = 0
    selling_plan: dict[str, Any] | None = None  # {"name", "sellingPlanId"}
    custom_attributes: list[dict[str, str]] = field(default_factory=list)
    location_id: int | None = None  # where the quantity was committed (None: stock untouched)
    product_id: int | None = None

    def __post_init__(self) -> None:
        if self.current_quantity is None:
            self.current_quantity = self.quantity


@dataclass
class Order:
    id: int
    number: int
    name: str
    created_at: datetime
    updated_at: datetime
    processed_at: datetime | None = None
    line_items: list[LineItem] = field(default_factory=list)
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    closed_at: datetime | None = None
    test: bool = False
    financial_status: str | None = "PAID"
    fulfillment_status: str = "UNFULFILLED"
    source_name: str = "web"
    app_name: str | None = "Online Store"
    retail_location_id: int | None = None
    email: str | None = None
    phone: str | None = None
    tags: list[str] = field(default_factory=list)
    note: str | None = None
    customer: Customer | None = None
    shipping_address: dict[str, Any] | None = None
    billing_address: dict[str, Any] | None = None
    currency: str = "USD"

    @property
    def total_price(self) -> str:
        total = sum((Decimal(li.price) * (li.current_quantity or 0) for li in self.line_items), Decimal(0))
        return f"{total:.2f}"


@dataclass
class StagedUpload:
    key: str
    filename: str
    mime_type: str
    resource: str
    created_at: datetime
    body: bytes | None = None  # None until the file is uploaded


@dataclass
class StoreStats:
    requests: int = 0
    mutations: Counter[str] = field(default_factory=Counter)
    cost_points_charged: float = 0.0
    throttled: int = 0
    bulk_mutation_lines: Counter[str] = field(default_factory=Counter)  # executed by bulk mutations, free

    def as_json(self) -> dict[str, Any]:
        return {
            "bulk_mutation_lines": dict(self.bulk_mutation_lines),
            "requests": self.requests,
            "mutations": dict(self.mutations),
            "cost_points_charged": self.cost_points_charged,
            "throttled": self.throttled,
        }


class Store:
    """One shop. Every read and write of its catalog happens under `lock` (the HTTP server is threaded)."""

    def __init__(
        self,
        *,
        shop_id: str,
        name: str,
        currency: str,
        access_token: str,
        id_base: int,
        bucket: LeakyBucket,
        now: Callable[[], datetime],
        iana_timezone: str = "UTC",
        webhook_secret: str | None = None,
    ) -> None:
        self.shop_id = shop_id
        self.name = name
        self.currency = currency
        self.access_token = access_token
        self.iana_timezone = iana_timezone
        self.myshopify_domain = f"{shop_id}.myshopify.com"
        self.bucket = bucket
        self.now = now
        self.lock = threading.RLock()
        self.faults = FaultInjector()
        self.stats = StoreStats()
        self.stats_lock = threading.Lock()
        self.shop_number = id_base
        self._ids: Iterator[int] = itertools.count(id_base + 1)
        self.products: dict[int, Product] = {}
        self.variants: dict[int, Variant] = {}
        self.inventory_items: dict[int, InventoryItem] = {}
        self.levels: dict[int, InventoryLevel] = {}
        self.locations: dict[int, Location] = {}
        self.adjustment_groups: dict[int, AdjustmentGroup] = {}
        self.bulk_operations: dict[int, BulkOperation] = {}
        self.orders: dict[int, Order] = {}
        self.order_numbers: Iterator[int] = itertools.count(1001)
        self.customers: dict[int, Customer] = {}
        self.metafields: dict[int, Metafield] = {}
        self.metafield_index: dict[tuple[str, str, str], int] = {}  # (owner GID, namespace, key) -> id
        self.staged_uploads: dict[str, StagedUpload] = {}
        self.webhooks = StoreWebhooks(self.myshopify_domain, webhook_secret or f"shpss_local_{shop_id}", API_VERSION)
        self.idempotency: dict[str, IdempotencyRecord] = {}
        self.primary_location = self.add_location("Warehouse", primary=True)

    def new_id(self) -> int:
        return next(self._ids)

    def add_location(self, name: str, *, primary: bool = False) -> Location:
        location = Location(
            id=self.new_id(),
            name=name,
            created_at=self.now(),
            is_primary=primary,
            address={"address1": "1 Depot Road", "city": "Springfield", "zip": "10001", "countryCode": "US"},
        )
        self.locations[location.id] = location
        return location

    def activate(self, item: InventoryItem, location: Location) -> InventoryLevel:
        """Stock an item at a location (idempotent)."""
        level = item.levels.get(location.id)
        if level is None:
            now = self.now()
            level = InventoryLevel(self.new_id(), item.id, location.id, created_at=now, updated_at=now)
            item.levels[location.id] = level
            self.levels[level.id] = level
        level.is_active = True
        return level

    def product_variants(self, product: Product) -> list[Variant]:
        return [self.variants[vid] for vid in product.variant_ids]

    def product_by_handle(self, handle: str) -> Product | None:
        return next((p for p in self.products.values() if p.handle == handle), None)

    def unique_handle(self, wanted: str, *, exclude: int | None = None) -> str:
        taken = {p.handle for p in self.products.values() if p.id != exclude}
        if wanted not in taken:
            return wanted
        return next(f"{wanted}-{n}" for n in itertools.count(1) if f"{wanted}-{n}" not in taken)

    def variant_quantity(self, variant: Variant) -> int:
        item = self.inventory_items[variant.inventory_item_id]
        return sum(level.quantity("available") for level in item.levels.values() if level.is_active)

    def owner_metafields(self, owner_id: str) -> list[Metafield]:
        return [m for m in self.metafields.values() if m.owner_id == owner_id]

    def metafield_for(self, owner_id: str, namespace: str, key: str) -> Metafield | None:
        found = self.metafield_index.get((owner_id, namespace, key))
        return self.metafields.get(found) if found is not None else None

    def count_request(self) -> None:
        with self.stats_lock:
            self.stats.requests += 1

    def record(self, *, cost: float = 0.0, throttled: bool = False, mutations: list[str] | None = None) -> None:
        with self.stats_lock:
            self.stats.cost_points_charged += cost
            self.stats.throttled += int(throttled)
            self.stats.mutations.update(mutations or [])

"""The emulator as a WSGI app: per-store Admin GraphQL endpoints, bulk result files and control endpoints."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from graphql import FieldNode
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from local.emulator import engine, orders
from local.emulator.bucket import LeakyBucket
from local.emulator.bulk import jsonl_lines, to_jsonl, validate_bulk_mutation, validate_bulk_query
from local.emulator.context import RequestContext
from local.emulator.faults import FaultRule
from local.emulator.ids import gid, parse_gid
from local.emulator.orders import CheckoutResult
from local.emulator.schema import API_VERSION, admin_schema
from local.emulator.state import BulkOperation, Order, Store, iso
from local.emulator.webhooks import LOG_LIMIT, Subscription, WebhookDispatcher, check_loopback, topic_name

log = logging.getLogger(__name__)
# A change and the topics it fires (Shopify also sends orders/updated with the specific ones).
ORDER_TOPICS = {
    "orders/create": ("orders/create",),
    "orders/updated": ("orders/updated",),
    "orders/cancelled": ("orders/cancelled", "orders/updated"),
    "orders/fulfilled": ("orders/fulfilled", "orders/updated"),
}

INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
ID_SPACE_PER_STORE = 1_000_000_000_000  # ids of different stores never collide
Clock = Callable[[], datetime]
WSGIEnviron = dict[str, Any]
StartResponse = Callable[..., Any]

_ROUTES = Map(
    [
        Rule("/stores/<shop_id>/admin/api/<version>/graphql.json", endpoint="graphql", methods=["POST"]),
        Rule("/_emulator/reset", endpoint="reset", methods=["POST"]),
        Rule("/_emulator/stores", endpoint="add_store", methods=["POST"]),
        Rule("/_emulator/stores", endpoint="list_stores", methods=["GET"]),
        Rule("/_emulator/stores/<shop_id>", endpoint="inspect_store", methods=["GET"]),
        Rule("/_emulator/stores/<shop_id>/faults", endpoint="inject_fault", methods=["POST"]),
        Rule("/_emulator/stores/<shop_id>/faults", endpoint="clear_faults", methods=["DELETE"]),
        Rule("/_emulator/stores/<shop_id>/stats", endpoint="stats", methods=["GET"]),
        Rule("/_emulator/bulk/<shop_id>/<int:operation_id>.jsonl", endpoint="bulk_file", methods=["GET"]),
        Rule("/_emulator/uploads/<shop_id>", endpoint="upload", methods=["POST", "PUT"]),
        Rule("/_emulator/stores/<shop_id>/checkout", endpoint="checkout", methods=["POST"]),
        Rule("/_emulator/stores/<shop_id>/webhooks", endpoint="subscribe_webhook", methods=["POST"]),
        Rule("/_emulator/stores/<shop_id>/webhooks", endpoint="webhook_deliveries", methods=["GET"]),
        Rule("/_emulator/stores/<shop_id>/webhook-faults", endpoint="webhook_faults", methods=["POST"]),
        Rule("/_emulator/stores/<shop_id>/orders", endpoint="create_order", methods=["POST"]),
        Rule("/_emulator/stores/<shop_id>/orders/<order_id>", endpoint="update_order", methods=["PATCH"]),
        Rule("/_emulator/stores/<shop_id>/orders/<order_id>/fulfil", endpoint="fulfil_order", methods=["POST"]),
        Rule("/_emulator/stores/<shop_id>/orders/<order_id>/cancel", endpoint="cancel_order", methods=["POST"]),
        Rule("/_emulator/uploads/<shop_id>/<path:key>", endpoint="upload", methods=["POST", "PUT"]),
    ]
)


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(payload), status=status, headers=headers, content_type="application/json; charset=utf-8")


class ShopifyEmulator:
    """Shopify Admin GraphQL (API 2026-07) for several stores, in-process or behind a real HTTP server.

    `clock` returns an aware UTC datetime; when given, it also drives the throttle bucket (tests can move time).
    Bulk operations complete on the `bulk_polls_to_complete`-th status read, or, when `bulk_complete_after_s`
    is set, on the first read after that many seconds.
    """

    def __init__(
        self,
        clock: Clock | None = None,
        *,
        bulk_polls_to_complete: int = 2,
        bulk_complete_after_s: float | None = None,
        webhook_max_attempts: int = 8,
        webhook_backoff_s: float = 0.05,
        webhook_timeout_s: float = 5.0,
    ) -> None:
        self._clock = clock
        self._monotonic: Callable[[], float] = (lambda: clock().timestamp()) if clock else time.monotonic
        self._stores: dict[str, Store] = {}
        self._lock = threading.Lock()
        self.bulk_polls_to_complete = bulk_polls_to_complete
        self.bulk_complete_after_s = bulk_complete_after_s
        self.webhooks = WebhookDispatcher(
            max_attempts=webhook_max_attempts, backoff_s=webhook_backoff_s, timeout_s=webhook_timeout_s
        )
        admin_schema()  # build (or reuse) the schema now rather than inside the first request

    # ---- public API ----------------------------------------------------------------------------------

    def now(self) -> datetime:
        return self._clock() if self._clock else datetime.now(UTC)

    def add_store(
        self,
        shop_id: str,
        *,
        name: str | None = None,
        currency: str = "USD",
        access_token: str | None = None,
        bucket_size: float = 2000,
        restore_rate: float = 100.0,
        iana_timezone: str = "UTC",
        webhook_secret: str | None = None,
    ) -> Store:
        with self._lock:
            if shop_id in self._stores:
                raise ValueError(f"store {shop_id!r} already exists")
            store = Store(
                shop_id=shop_id,
                name=name or shop_id,
                currency=currency,
                access_token=access_token or f"shpat_local_{shop_id}",
                id_base=ID_SPACE_PER_STORE * (len(self._stores) + 1),
                bucket=LeakyBucket(bucket_size, restore_rate, self._monotonic),
                now=self.now,
                iana_timezone=iana_timezone,
                webhook_secret=webhook_secret,
            )
            self._stores[shop_id] = store
            return store

    def store(self, shop_id: str) -> Store:
        with self._lock:
            if shop_id not in self._stores:
                raise KeyError(f"unknown store {shop_id!r}")
            return self._stores[shop_id]

    def inject_fault(
        self,
        shop_id: str,
        kind: str,
        *,
        count: int | None = None,
        rate: float | None = None,
        seed: int | None = None,
        latency_s: float = 0.0,
        retry_after_s: float = 1.0,
    ) -> None:
        rule = FaultRule(kind, count=count, rate=rate, seed=seed, latency_s=latency_s, retry_after_s=retry_after_s)
        self.store(shop_id).faults.add(rule)

    def clear_faults(self, shop_id: str) -> None:
        self.store(shop_id).faults.clear()

    def reset(self) -> None:
        with self._lock:
            self._stores.clear()

    def stats(self, shop_id: str) -> dict[str, Any]:
        store = self.store(shop_id)
        with store.stats_lock:
            stats = store.stats.as_json()
        stats["faults_injected"] = dict(store.faults.injected)
        stats["throttle_status"] = store.bucket.status().as_json()
        stats["webhooks"] = store.webhooks.summary()
        return stats

    def inspect(self, shop_id: str) -> dict[str, Any]:
        """A plain-JSON picture of a store's catalog and stock, for tests and the demo."""
        store = self.store(shop_id)
        with store.lock:
            return _inspect(store)

    # ---- storefront and merchant actions --------------------------------------------------------------

    def checkout(
        self,
        shop_id: str,
        lines: Sequence[Mapping[str, Any]],
        *,
        email: str | None = None,
        phone: str | None = None,
        shipping_address: dict[str, Any] | None = None,
        source_name: str = "web",
    ) -> CheckoutResult:
        """A storefront checkout: an order only when every line can be sold (DENY needs `available`)."""
        store = self.store(shop_id)
        with store.lock:
            result, order = orders.checkout(
                store, lines, email=email, phone=phone, shipping_address=shipping_address, source_name=source_name
            )
            if order is not None:
                self.order_changed(store, order, "orders/create")
        return result

    def create_order(
        self,
        shop_id: str,
        lines: Sequence[Mapping[str, Any]],
        *,
        adjust_inventory: bool = False,
        created_at: datetime | None = None,
        source_name: str = "web",
        customer: Mapping[str, Any] | None = None,
        retail_location_id: str | None = None,
        **fields: Any,
    ) -> str:
        """Seed an order as it would be found in the admin (no stock rule); returns its GID.

        `lines`: {"variant_id": gid, "quantity"} or {"sku", "name", "quantity", "price"} for a line without a variant;
        optional "selling_plan": {"name", "sellingPlanId"} and "properties": {key: value}. Other keyword fields:
        email, phone, note, tags, shipping_address, billing_address, test, financial_status, fulfillment_status.
        `adjust_inventory` commits the quantity of known tracked variants (no availability check).
        """
        store = self.store(shop_id)
        with store.lock:
            now = created_at or store.now()
            items = [orders.seed_line(store, line, adjust_inventory=adjust_inventory, now=now) for line in lines]
            if retail_location_id is not None:
                fields["retail_location_id"] = parse_gid(retail_location_id, "Location")
            if isinstance(fields.get("tags"), str):
                fields["tags"] = [t.strip() for t in fields["tags"].split(",") if t.strip()]
            order = orders.new_order(store, items, now=now, source_name=source_name, customer=customer, **fields)
            self.order_changed(store, order, "orders/create")
            return gid("Order", order.id)

    def fulfil_order(self, shop_id: str, order_id: str | int) -> None:
        """The merchant fulfils the whole order (POS orders are closed as well)."""
        store = self.store(shop_id)
        with store.lock:
            order = self._order(store, order_id)
            orders.fulfil(store, order)
            self.order_changed(store, order, "orders/fulfilled")

    def cancel_order(self, shop_id: str, order_id: str | int, reason: str = "OTHER", *, restock: bool = True) -> None:
        store = self.store(shop_id)
        with store.lock:
            order = self._order(store, order_id)
            orders.cancel(store, order, reason, restock=restock)
            self.order_changed(store, order, "orders/cancelled")

    def update_order(self, shop_id: str, order_id: str | int, **fields: Any) -> None:
        """Edit contact details, addresses, note, tags, customer ({first_name, last_name, email, phone})."""
        store = self.store(shop_id)
        with store.lock:
            order = self._order(store, order_id)
            orders.update(store, order, fields)
            self.order_changed(store, order, "orders/updated")

    def order_json(self, shop_id: str, order_id: str | int) -> dict[str, Any]:
        """The order as Shopify's REST resource (the shape webhooks carry)."""
        store = self.store(shop_id)
        with store.lock:
            return orders.rest_order(store, self._order(store, order_id))

    @staticmethod
    def _order(store: Store, order_id: str | int) -> Order:
        number = order_id if isinstance(order_id, int) else parse_gid(order_id, "Order")
        if number is None and isinstance(order_id, str) and order_id.isdigit():
            number = int(order_id)
        order = store.orders.get(number) if number is not None else None
        if order is None:
            raise KeyError(f"unknown order {order_id!r} in store {store.shop_id!r}")
        return order

    # ---- webhooks --------------------------------------------------------------------------------------

    def subscribe_webhook(self, shop_id: str, topic: str, uri: str, secret: str | None = None) -> str:
        """Deliver `topic` ('orders/create' or ORDERS_CREATE) to a loopback `uri`, signed with `secret`
        (default: the store's webhook secret). Returns the subscription GID."""
        store = self.store(shop_id)
        name = topic_name(topic)
        check_loopback(uri)
        hooks = store.webhooks
        with hooks.lock:
            subscription = Subscription(
                id=store.new_id(),
                topic=name,
                uri=uri,
                secret=secret or hooks.secret,
                created_at=iso(store.now()) or "",
                api_version=hooks.api_version,
            )
            hooks.subscriptions[subscription.id] = subscription
        return gid("WebhookSubscription", subscription.id)

    def webhook_faults(
        self,
        shop_id: str,
        *,
        duplicate: bool | None = None,
        drop_rate: float | None = None,
        delay_s: float | None = None,
        seed: int | None = None,
    ) -> None:
        """Switch webhook faults for a store: duplicate every delivery, drop a share, delay them."""
        faults = self.store(shop_id).webhooks.faults
        if drop_rate is not None and not 0.0 <= drop_rate <= 1.0:
            raise ValueError("drop_rate must be within [0, 1]")
        if delay_s is not None and delay_s < 0:
            raise ValueError("delay_s must be >= 0")
        if duplicate is not None:
            faults.duplicate = duplicate
        if drop_rate is not None:
            faults.drop_rate = drop_rate
        if delay_s is not None:
            faults.delay_s = delay_s
        if seed is not None:
            faults.rng.seed(seed)

    def webhook_deliveries(self, shop_id: str) -> list[dict[str, Any]]:
        """Every delivery of a store (oldest first): ids, topic, status, attempts, responses."""
        summary: list[dict[str, Any]] = self.store(shop_id).webhooks.summary(recent=LOG_LIMIT)["deliveries"]
        return summary

    def wait_for_webhooks(self, timeout: float = 10.0) -> bool:
        """Wait until no delivery is queued, retrying or in flight."""
        return self.webhooks.wait_idle(timeout)

    def close(self) -> None:
        """Stop the webhook threads (tests that create many emulators call this)."""
        self.webhooks.close()

    def order_changed(self, store: Store, order: Order, topic: str) -> None:
        """Emit the order's webhooks (called under the store lock; the payload is the order as it is now)."""
        topics = ORDER_TOPICS.get(topic, (topic,))
        hooks = store.webhooks
        if not any(hooks.matching(t) for t in topics):
            return
        body = json.dumps(orders.rest_order(store, order)).encode()
        event_id = str(uuid.uuid4())
        triggered_at = store.now().strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        for name in topics:
            hooks.emit(self.webhooks, name, body, event_id=event_id, triggered_at=triggered_at)

    # ---- bulk operations -----------------------------------------------------------------------------

    def complete_bulk_operation(self, ctx: RequestContext, op: BulkOperation) -> None:
        """Run a bulk query now and attach its JSONL (called when a status read finds it due)."""
        if op.type == "MUTATION":
            self._complete_bulk_mutation(ctx, op)
            return
        document, problems = validate_bulk_query(admin_schema(), op.query)
        bulk_ctx = RequestContext(self, ctx.store, ctx.base_url, bulk=True)
        op.completed_at = ctx.store.now()
        if document is None:
            op.status, op.error_code = "FAILED", "INTERNAL_SERVER_ERROR"
            log.warning("bulk operation %s has an invalid query: %s", op.id, problems)
            return
        operation = next(d for d in document.definitions if isinstance(d, engine.OperationDefinitionNode))
        result = engine.execute_document(bulk_ctx, document, operation, {})
        if result.errors or result.data is None:
            op.status, op.error_code = "FAILED", "INTERNAL_SERVER_ERROR"
            log.warning("bulk operation %s failed: %s", op.id, [e.message for e in result.errors or []])
            return
        output = to_jsonl(admin_schema(), document, result.data, group_objects=op.group_objects, seed=op.id)
        op.result, op.object_count, op.root_object_count = output.body, output.object_count, output.root_object_count
        op.status = "COMPLETED"

    def _complete_bulk_mutation(self, ctx: RequestContext, op: BulkOperation) -> None:
        """Run the mutation once per JSONL line; the result file has one `{"data", "__lineNumber"}` line each.

        Nothing is charged to the bucket: a bulk mutation costs its `bulkOperationRunMutation` call only.
        """
        store = ctx.store
        op.completed_at = store.now()
        document, problems = validate_bulk_mutation(admin_schema(), op.query)
        upload = store.staged_uploads.get(op.staged_upload_path or "")
        if document is None or upload is None or upload.body is None:
            op.status, op.error_code = "FAILED", "INTERNAL_SERVER_ERROR"
            log.warning("bulk mutation %s cannot run: %s", op.id, [p.message for p in problems])
            return
        operation = next(d for d in document.definitions if isinstance(d, engine.OperationDefinitionNode))
        root = next(s.name.value for s in operation.selection_set.selections if isinstance(s, FieldNode))
        line_ctx = RequestContext(self, store, ctx.base_url)
        out: list[bytes] = []
        for number, variables in jsonl_lines(upload.body):
            line: dict[str, Any]
            if not isinstance(variables, dict):
                line = {"errors": [{"message": f"Invalid JSON on line {number + 1}"}], "__lineNumber": number}
            else:
                result = engine.execute_document(line_ctx, document, operation, variables)
                line = {"data": result.data}
                if result.errors:
                    line["errors"] = [engine.execution_error(e) for e in result.errors]
                line["__lineNumber"] = number
            out.append(json.dumps(line, separators=(",", ":"), ensure_ascii=False).encode() + b"\n")
        with store.stats_lock:
            store.stats.bulk_mutation_lines[root] += len(out)
        op.result = b"".join(out)
        op.object_count = op.root_object_count = len(out)
        op.status = "COMPLETED"

    # ---- WSGI ----------------------------------------------------------------------------------------

    def __call__(self, environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        try:
            endpoint, values = _ROUTES.bind_to_environ(environ).match()
            response = getattr(self, f"_on_{endpoint}")(request, **values)
        except HTTPException as exc:
            response = json_response({"errors": exc.description or exc.name}, status=exc.code or 500)
        return response(environ, start_response)

    def _existing(self, shop_id: str) -> Store:
        try:
            return self.store(shop_id)
        except KeyError:
            raise NotFound(f"unknown store {shop_id!r}") from None

    def _on_graphql(self, request: Request, shop_id: str, version: str) -> Response:
        store = self._existing(shop_id)
        headers = {"X-Shopify-API-Version": API_VERSION}
        if request.headers.get("X-Shopify-Access-Token") != store.access_token:
            return json_response({"errors": INVALID_TOKEN}, status=401, headers=headers)
        store.count_request()
        body = request.get_json(silent=True)
        fault = store.faults.next_fault()
        if fault is not None:
            faulted = self._apply_fault(store, fault, body, headers)
            if faulted is not None:
                return faulted
        prepared = engine.prepare(body)
        if isinstance(prepared, dict):
            return json_response(prepared, headers=headers)
        ctx = RequestContext(self, store, base_url=request.host_url.rstrip("/"))
        outcome = engine.run(ctx, prepared)
        store.record(cost=outcome.charged, throttled=outcome.throttled, mutations=outcome.mutations)
        return json_response(outcome.body, headers=headers)

    def _apply_fault(self, store: Store, fault: FaultRule, body: Any, headers: dict[str, str]) -> Response | None:
        """The faulted answer (nothing executes), or None for pure latency."""
        if fault.sleep_s:
            time.sleep(fault.sleep_s)
        if fault.kind == "latency":
            return None
        if fault.kind == "429":
            message = (
                "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."
            )
            return json_response({"errors": message}, 429, {**headers, "Retry-After": f"{fault.retry_after_s:.1f}"})
        if fault.kind == "throttled":
            prepared = engine.prepare(body)
            requested = 0 if isinstance(prepared, dict) else prepared.requested_cost
            outcome = engine.throttled(requested, store.bucket.status())
            store.record(throttled=True)
            return json_response(outcome.body, headers=headers)
        if fault.kind == "500":
            return json_response({"errors": "Internal Server Error"}, 500, headers)
        return json_response({"errors": "Service Unavailable"}, 503, headers)  # "5xx" and an expired "timeout"

    def _on_bulk_file(self, request: Request, shop_id: str, operation_id: int) -> Response:
        store = self._existing(shop_id)
        with store.lock:
            op = store.bulk_operations.get(operation_id)
            body = op.result if op is not None and op.status == "COMPLETED" else None
        if body is None:
            raise NotFound("no result file for this bulk operation")
        return Response(body, content_type="application/jsonl")

    def _on_upload(self, request: Request, shop_id: str, key: str | None = None) -> Response:
        """A staged upload target: multipart form (Shopify's `parameters` + `file`) or the raw body."""
        store = self._existing(shop_id)
        upload_file = request.files.get("file")
        key = request.form.get("key") or key
        body = upload_file.read() if upload_file is not None else request.get_data()
        with store.lock:
            upload = store.staged_uploads.get(key or "")
            if upload is None:
                return Response(
                    "<?xml version='1.0' encoding='UTF-8'?><Error><Code>AccessDenied</Code>"
                    "<Message>No staged upload target for this key.</Message></Error>",
                    status=403,
                    content_type="application/xml",
                )
            upload.body = body
        location = f"{request.host_url.rstrip('/')}/_emulator/uploads/{shop_id}/{upload.key}"
        xml = (
            f"<?xml version='1.0' encoding='UTF-8'?><PostResponse><Location>{location}</Location>"
            f"<Bucket>shopsync-emulator</Bucket><Key>{upload.key}</Key></PostResponse>"
        )
        return Response(xml, status=201, content_type="application/xml")

    def _on_checkout(self, request: Request, shop_id: str) -> Response:
        self._existing(shop_id)
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("lines"), list):
            return json_response({"errors": "expected a JSON object with lines: [{variant_id, quantity}]"}, 400)
        options = {k: body[k] for k in ("email", "phone", "shipping_address", "source_name") if k in body}
        result = self.checkout(shop_id, body["lines"], **options)
        if not result.ok:
            status = 409 if result.error == "OUT_OF_STOCK" else 422
            return json_response(result.as_json(), status)
        assert result.order_id is not None
        return json_response({"order": self.order_json(shop_id, result.order_id), **result.as_json()}, 201)

    def _on_create_order(self, request: Request, shop_id: str) -> Response:
        self._existing(shop_id)
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("lines"), list):
            return json_response({"errors": "expected a JSON object of create_order arguments with lines"}, 400)
        if isinstance(body.get("created_at"), str):
            body["created_at"] = datetime.fromisoformat(body["created_at"].replace("Z", "+00:00"))
        try:
            order_id = self.create_order(shop_id, **body)
        except (TypeError, ValueError, KeyError) as exc:
            return json_response({"errors": str(exc)}, 400)
        return json_response({"order": self.order_json(shop_id, order_id)}, 201)

    def _order_action(self, shop_id: str, action: Callable[[], None], order_id: str) -> Response:
        self._existing(shop_id)
        try:
            action()
        except KeyError as exc:
            raise NotFound(str(exc)) from None
        except (TypeError, ValueError) as exc:
            return json_response({"errors": str(exc)}, 400)
        return json_response({"order": self.order_json(shop_id, order_id)})

    def _on_update_order(self, request: Request, shop_id: str, order_id: str) -> Response:
        fields = request.get_json(silent=True)
        if not isinstance(fields, dict):
            return json_response({"errors": "expected a JSON object of order fields"}, 400)
        return self._order_action(shop_id, lambda: self.update_order(shop_id, order_id, **fields), order_id)

    def _on_fulfil_order(self, request: Request, shop_id: str, order_id: str) -> Response:
        return self._order_action(shop_id, lambda: self.fulfil_order(shop_id, order_id), order_id)

    def _on_cancel_order(self, request: Request, shop_id: str, order_id: str) -> Response:
        body = request.get_json(silent=True) or {}
        reason = str(body.get("reason", "OTHER"))
        restock = bool(body.get("restock", True))
        return self._order_action(
            shop_id, lambda: self.cancel_order(shop_id, order_id, reason, restock=restock), order_id
        )

    # ---- control endpoints (mirror the Python methods) ------------------------------------------------

    def _on_reset(self, request: Request) -> Response:
        self.reset()
        return json_response({"ok": True})

    def _on_add_store(self, request: Request) -> Response:
        kwargs = request.get_json(silent=True)
        if not isinstance(kwargs, dict):
            return json_response({"errors": "expected a JSON object of add_store arguments"}, 400)
        try:
            store = self.add_store(**kwargs)
        except TypeError as exc:
            return json_response({"errors": str(exc)}, 400)
        except ValueError as exc:
            return json_response({"errors": str(exc)}, 409)
        return json_response(_store_summary(store), 201)

    def _on_list_stores(self, request: Request) -> Response:
        with self._lock:
            stores = list(self._stores.values())
        return json_response({"stores": [_store_summary(s) for s in stores]})

    def _on_inspect_store(self, request: Request, shop_id: str) -> Response:
        self._existing(shop_id)
        return json_response(self.inspect(shop_id))

    def _on_inject_fault(self, request: Request, shop_id: str) -> Response:
        self._existing(shop_id)
        kwargs = request.get_json(silent=True)
        if not isinstance(kwargs, dict):
            return json_response({"errors": "expected a JSON object of inject_fault arguments"}, 400)
        try:
            self.inject_fault(shop_id, **kwargs)
        except (TypeError, ValueError) as exc:
            return json_response({"errors": str(exc)}, 400)
        return json_response({"faults": self.store(shop_id).faults.describe()}, 201)

    def _on_clear_faults(self, request: Request, shop_id: str) -> Response:
        self._existing(shop_id)
        self.clear_faults(shop_id)
        return json_response({"faults": []})

    def _on_subscribe_webhook(self, request: Request, shop_id: str) -> Response:
        self._existing(shop_id)
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return json_response({"errors": "expected {topic, uri, secret?}"}, 400)
        try:
            subscription = self.subscribe_webhook(shop_id, **body)
        except (TypeError, ValueError) as exc:
            return json_response({"errors": str(exc)}, 400)
        return json_response({"id": subscription}, 201)

    def _on_webhook_deliveries(self, request: Request, shop_id: str) -> Response:
        self._existing(shop_id)
        return json_response({"deliveries": self.webhook_deliveries(shop_id)})

    def _on_webhook_faults(self, request: Request, shop_id: str) -> Response:
        self._existing(shop_id)
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return json_response({"errors": "expected {duplicate?, drop_rate?, delay_s?, seed?}"}, 400)
        try:
            self.webhook_faults(shop_id, **body)
        except (TypeError, ValueError) as exc:
            return json_response({"errors": str(exc)}, 400)
        return json_response({"ok": True})

    def _on_stats(self, request: Request, shop_id: str) -> Response:
        self._existing(shop_id)
        return json_response(self.stats(shop_id))


def _store_summary(store: Store) -> dict[str, Any]:
    return {
        "shop_id": store.shop_id,
        "name": store.name,
        "currency": store.currency,
        "myshopify_domain": store.myshopify_domain,
        "admin_api_path": f"/stores/{store.shop_id}",
        "bucket_size": store.bucket.capacity,
        "restore_rate": store.bucket.restore_rate,
    }


def _inspect(store: Store) -> dict[str, Any]:
    def variant_json(variant_id: int) -> dict[str, Any]:
        variant = store.variants[variant_id]
        item = store.inventory_items[variant.inventory_item_id]
        return {
            "id": gid("ProductVariant", variant.id),
            "title": variant.title,
            "sku": item.sku,
            "barcode": variant.barcode,
            "price": variant.price,
            "inventory_policy": variant.inventory_policy,
            "inventory_item_id": gid("InventoryItem", item.id),
            "tracked": item.tracked,
            "updated_at": iso(variant.updated_at),
            "inventory": {
                gid("Location", location_id): {
                    "active": level.is_active,
                    **{name: level.quantity(name) for name in ("available", "on_hand", *level.stored)},
                }
                for location_id, level in item.levels.items()
            },
        }

    return {
        **_store_summary(store),
        "locations": [
            {"id": gid("Location", loc.id), "name": loc.name, "primary": loc.is_primary, "active": loc.is_active}
            for loc in store.locations.values()
        ],
        "products": [
            {
                "id": gid("Product", product.id),
                "title": product.title,
                "handle": product.handle,
                "status": product.status,
                "tags": product.tags,
                "updated_at": iso(product.updated_at),
                "variants": [variant_json(vid) for vid in product.variant_ids],
            }
            for product in store.products.values()
        ],
        "bulk_operations": [
            {"id": gid("BulkOperation", op.id), "status": op.status, "object_count": op.object_count}
            for op in store.bulk_operations.values()
        ],
    }

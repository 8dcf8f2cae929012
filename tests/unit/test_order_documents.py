"""The order reads feed one mapping, so they select the same fields; the job's search string; webhook
signatures and the stream hand-off sample."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import graphql
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent

from shopsync.orders.order_import import orders_query
from shopsync.orders.webhooks import is_delivery, signature_matches
from shopsync.shopify.documents import load_document
from shopsync.store.orders import WebhookDelivery
from tests.factories import load_event


def _order_selection(document: str, path: tuple[str, ...]) -> str:
    (operation,) = graphql.parse(document).definitions
    assert isinstance(operation, graphql.OperationDefinitionNode)
    selection = operation.selection_set
    for name in path:
        (field,) = [s for s in selection.selections if isinstance(s, graphql.FieldNode) and s.name.value == name]
        assert field.selection_set is not None
        selection = field.selection_set
    return graphql.print_ast(selection)


def test_orders_page_and_order_by_id_select_the_same_order_fields() -> None:
    page = _order_selection(load_document("OrdersPage"), ("orders", "nodes"))
    single = _order_selection(load_document("OrderById"), ("order",))
    assert page == single


def test_the_remaining_lines_are_read_with_the_same_line_fields() -> None:
    first_page = _order_selection(load_document("OrdersPage"), ("orders", "nodes", "lineItems", "nodes"))
    by_id = _order_selection(load_document("OrderById"), ("order", "lineItems", "nodes"))
    rest = _order_selection(load_document("OrderLineItemsPage"), ("order", "lineItems", "nodes"))
    assert first_page == by_id == rest


def test_window_query_overlaps_the_watermark_in_whole_utc_seconds() -> None:
    watermark = datetime(2026, 11, 2, 12, 0, 30, 500_000, tzinfo=UTC)
    end = datetime(2026, 11, 2, 13, 15, 0, 900_000, tzinfo=UTC)
    assert (
        orders_query(watermark, end, timedelta(minutes=5))
        == "updated_at:>'2026-11-02T11:55:30Z' AND updated_at:<='2026-11-02T13:15:00Z'"
    )
    assert orders_query(None, end, timedelta(minutes=5)) == "updated_at:<='2026-11-02T13:15:00Z'"


def test_signature_is_base64_hmac_sha256_of_the_raw_body() -> None:
    body = b'{"id": 5001}'
    good = base64.b64encode(hmac.new(b"key", body, hashlib.sha256).digest()).decode()
    assert signature_matches(body, good, "key")
    assert not signature_matches(body, good, "other-key")
    assert not signature_matches(body + b" ", good, "key")
    assert not signature_matches(body, None, "key")
    assert not signature_matches(body, "", "key")


def test_the_stream_sample_is_a_delivery_the_consumer_reads() -> None:
    event = load_event("order_webhook_stream.json")
    (record,) = DynamoDBStreamEvent(event).records
    image = record.dynamodb.new_image if record.dynamodb else {}
    assert is_delivery(image)
    delivery = WebhookDelivery.model_validate(image)
    assert (delivery.shop_id, delivery.topic, delivery.shopify_order_id) == (
        "eu-child",
        "orders/create",
        "gid://shopify/Order/5001",
    )

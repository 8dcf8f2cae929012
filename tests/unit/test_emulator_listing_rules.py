"""Pure rules behind the new emulator features: metafield values, tags, bulk mutation validation, webhook signing."""

import base64
import hashlib
import hmac

import pytest

from local.emulator.bulk import validate_bulk_mutation
from local.emulator.metafields import normalise_namespace, valid_type, value_problem
from local.emulator.resolvers.listing import split_tags
from local.emulator.schema import admin_schema
from local.emulator.webhooks import check_loopback, enum_topic, sign, topic_name


@pytest.mark.parametrize(
    ("type_name", "value", "ok"),
    [
        ("json", '{"status": "active"}', True),
        ("json", "{nope", False),
        ("list.single_line_text_field", '["a"]', True),
        ("list.single_line_text_field", '"a"', False),
        ("number_integer", "-12", True),
        ("number_integer", "1.5", False),
        ("boolean", "true", True),
        ("boolean", "yes", False),
        ("date", "2026-12-01", True),
        ("date", "01/12/2026", False),
        ("date_time", "2026-12-01T10:00:00Z", True),
        ("single_line_text_field", "two\nlines", False),
        ("multi_line_text_field", "two\nlines", True),
        ("url", "https://example.com", True),
    ],
)
def test_metafield_values_are_checked_against_their_type(type_name, value, ok):
    assert (value_problem(type_name, value) is None) is ok


def test_metafield_types_and_app_namespaces():
    assert valid_type("json") and valid_type("list.product_reference") and not valid_type("text")
    assert normalise_namespace(None) == "app--shopsync"
    assert normalise_namespace("$app:preorder") == "app--shopsync--preorder"
    assert normalise_namespace("HC_PREORDER") == "HC_PREORDER"


def test_tags_from_lists_or_comma_strings():
    assert split_tags("HC:Pre-Order, a ,,b") == ["HC:Pre-Order", "a", "b"]
    assert split_tags(["x, y", "X", " "]) == ["x", "y"]


@pytest.mark.parametrize(
    ("mutation", "message"),
    [
        ('mutation { tagsAdd(id: "gid://shopify/Product/1", tags: ["a"]) { node { id } } }', None),
        ("query { shop { id } }", "Invalid operation type. Only `mutation` operations are supported."),
        (
            'mutation { a: tagsAdd(id: "1", tags: []) { node { id } } b: tagsRemove(id: "1", tags: []) '
            "{ node { id } } }",
            "You must specify a single top level mutation.",
        ),
        (
            'mutation { bulkOperationCancel(id: "1") { bulkOperation { id } } }',
            "You must use an allowed mutation name.",
        ),
        ("mutation {", "Failed to parse the mutation - syntax error, unexpected end of file at [1, 11]"),
    ],
)
def test_bulk_mutation_validation(mutation, message):
    document, problems = validate_bulk_mutation(admin_schema(), mutation)
    assert [p.message for p in problems] == ([message] if message else [])
    assert (document is None) is (message is not None)


def test_webhook_signature_topics_and_loopback():
    body = b'{"id": 1}'
    expected = base64.b64encode(hmac.new(b"secret", body, hashlib.sha256).digest()).decode()
    assert sign(body, "secret") == expected
    assert topic_name("ORDERS_CREATE") == "orders/create" == topic_name("orders/create")
    assert enum_topic("orders/cancelled") == "ORDERS_CANCELLED"
    for uri in ("http://127.0.0.1:8080/h", "http://localhost/h", "http://[::1]:9/h"):
        check_loopback(uri)
    for uri in ("https://example.com/h", "http://10.0.0.1/h", "ftp://127.0.0.1/h"):
        with pytest.raises(ValueError):
            check_loopback(uri)

"""Properties of order payload parsing: whatever an order node (GraphQL) or a webhook body (REST JSON) holds, the
parser never raises; it yields an order the rules can validate, or every reason it could not be read, and the payload
is kept whole for the failed record.

Seeded and bounded (`derandomize=True`): the same examples on every run, a few seconds in all.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shopsync.errors import InvalidRequest
from shopsync.models.orders import FailedOrder, FailureReason, OrderProblem
from shopsync.orders.node import GRAPHQL_INT_MAX
from shopsync.orders.rules import LineMatch, line_presell, order_status, raw_payload, read_order, validate
from shopsync.orders.webhooks import webhook_order_gid
from tests.unit.test_order_rules import ADDRESS, order_node

PROPERTY = settings(
    max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow], database=None
)
ORDER_GID = re.compile(r"gid://shopify/Order/([1-9][0-9]*)")
NOW = datetime(2026, 12, 4, tzinfo=UTC)

# --- strategies ---------------------------------------------------------------------------------------------------

# Any code point, unpaired surrogates included: a JSON "\ud800" escape decodes to one.
odd_text = st.text(st.characters(exclude_categories=()), max_size=12)
huge_ints = st.sampled_from([-(2**63), -1, 0, GRAPHQL_INT_MAX, GRAPHQL_INT_MAX + 1, 2**63, 10**40])
json_leaves = st.one_of(
    st.none(), st.booleans(), st.integers(), huge_ints, st.floats(allow_nan=True, allow_infinity=True), odd_text
)
json_values = st.recursive(
    json_leaves,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(odd_text, children, max_size=3),
    max_leaves=10,
)
# Plausible values: what Shopify could send, odd unicode and the ends of the ranges included.
plausible_text = st.text(max_size=12)
plausible_times = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(9000, 1, 1), timezones=st.just(UTC))
PLAUSIBLE = {
    "time": plausible_times.map(lambda moment: moment.isoformat().replace("+00:00", "Z")),
    "email": st.one_of(
        st.emails(),
        st.sampled_from(["ada@example.com", "ada\u200b@example.com", "ada\x00@example.com", "ädä@exämple.de", " "]),
        plausible_text,
        st.none(),
    ),
    "phone": st.one_of(st.sampled_from(["+44 20 7946 0000", "☎", "\u202e0100", ""]), plausible_text, st.none()),
    "quantity": st.one_of(st.integers(0, 5), st.sampled_from([GRAPHQL_INT_MAX])),
    "text": plausible_text,
}
# Anything: the plausible values, the implausible ones, or any JSON value at all.
ANY = {
    "time": st.one_of(
        PLAUSIBLE["time"],
        st.datetimes().map(datetime.isoformat),  # no offset
        st.sampled_from(["9999-12-31T23:59:59Z", "0001-01-01T00:00:00+14:00", "2026-02-30T00:00:00Z", "2026-11-02"]),
        json_values,
    ),
    "email": st.one_of(PLAUSIBLE["email"], odd_text, json_values),
    "phone": st.one_of(PLAUSIBLE["phone"], odd_text, json_values),
    "quantity": st.one_of(PLAUSIBLE["quantity"], st.integers(), huge_ints, json_values),
    "text": st.one_of(odd_text, json_values),
}


@st.composite
def line_nodes(draw: st.DrawFn, index: int, values: dict[str, st.SearchStrategy[Any]]) -> Any:
    return {
        "id": f"gid://shopify/LineItem/{9000 + index}",
        "sku": draw(st.one_of(st.none(), values["text"])),
        "name": draw(values["text"]),
        "quantity": draw(values["quantity"]),
        "currentQuantity": draw(values["quantity"]),
        "variant": draw(st.sampled_from([{"id": "gid://shopify/ProductVariant/101", "sku": "SKU"}, None])),
        "sellingPlan": draw(st.one_of(st.none(), st.fixed_dictionaries({"name": values["text"]}))),
        "customAttributes": draw(st.lists(st.fixed_dictionaries({"key": values["text"], "value": values["text"]}))),
    }


@st.composite
def order_nodes(draw: st.DrawFn, garbage: bool) -> Any:
    """Order nodes from the values above; with `garbage`, some keys then dropped and some values replaced by any JSON
    value, at any depth."""
    values = ANY if garbage else PLAUSIBLE
    node = order_node(
        createdAt=draw(values["time"]),
        updatedAt=draw(values["time"]),
        processedAt=draw(values["time"]),
        cancelledAt=draw(st.one_of(st.none(), values["time"])),
        email=draw(values["email"]),
        phone=draw(values["phone"]),
        sourceName=draw(st.sampled_from(["web", "pos", "", None])),
        tags=draw(st.lists(values["text"], max_size=3)),
    )
    node["shippingAddress"] = {**ADDRESS, "phone": draw(values["phone"]), "city": draw(values["text"])}
    node["lineItems"] = {
        "pageInfo": {"hasNextPage": draw(st.booleans()), "endCursor": draw(values["text"])},
        "nodes": [draw(line_nodes(index, values)) for index in range(draw(st.integers(0, 4)))],
    }
    for _ in range(draw(st.integers(1, 3)) if garbage else 0):
        _mutate(draw, node)
    return node


def _mutate(draw: st.DrawFn, node: dict[str, Any]) -> None:
    target: Any = node
    while isinstance(target, dict | list) and target and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(target) if isinstance(target, dict) else range(len(target))))
        if not isinstance(target[key], dict | list):
            break
        target = target[key]
    if isinstance(target, dict) and target:
        key = draw(st.sampled_from(sorted(target)))
        if draw(st.booleans()):
            del target[key]
        else:
            target[key] = draw(json_values)


payloads = st.one_of(order_nodes(garbage=False), order_nodes(garbage=True), json_values)


# --- properties ---------------------------------------------------------------------------------------------------


@PROPERTY
@given(payloads)
def test_any_payload_is_read_or_failed_with_reasons_and_never_lost(node: Any) -> None:
    read = read_order(node)  # never raises

    assert read.node is node
    stored = raw_payload(read.node)
    assert stored.isascii()  # storable whatever the node held (unpaired surrogates are escaped)
    assert raw_payload(json.loads(stored)) == stored  # text, not values: NaN != NaN
    assert read.legacy_id.isdigit()
    if read.shopify_order_id is not None:
        assert ORDER_GID.fullmatch(read.shopify_order_id)
        assert read.shopify_order_id.rsplit("/", 1)[1] == read.legacy_id
    if read.order is None:
        assert read.problems
        assert {problem.reason for problem in read.problems} == {FailureReason.UNREADABLE_FIELD}
    else:
        assert read.problems == ()
        assert read.order.legacy_id == read.legacy_id
    # The failed record it would become validates and serializes (DynamoDB takes UTF-8 only).
    record = FailedOrder(
        order_id=f"us-parent-{read.legacy_id}",
        shop_id="us-parent",
        shopify_order_id=read.shopify_order_id or f"gid://shopify/Order/{read.legacy_id}",
        name=read.name,
        problems=list(read.problems),
        raw_payload=stored,
        first_failed_at=NOW,
        last_failed_at=NOW,
        attempts=1,
    )
    record.model_dump_json().encode("utf-8")


@PROPERTY
@given(order_nodes(garbage=False), st.data())
def test_a_readable_order_validates_and_stores_without_raising(node: Any, data: st.DataObject) -> None:
    order = read_order(node).order
    if order is None:
        return
    matches = {line.line_id: data.draw(st.sampled_from([LineMatch("101"), LineMatch(None)])) for line in order.lines}

    problems = validate(order, matches)

    assert all(isinstance(problem, OrderProblem) for problem in problems)
    order_status(order)
    order.content_hash()
    order.model_dump_json().encode("utf-8")
    for moment in (order.created_at, order.updated_at):
        assert moment.tzinfo is not None
        assert moment + timedelta(days=365) > moment - timedelta(days=365)
    for line in order.lines:
        assert 0 <= line.quantity <= GRAPHQL_INT_MAX and 0 <= line.current_quantity <= GRAPHQL_INT_MAX
        line_presell(line, None, None)
    if order.contact.email is not None and FailureReason.MALFORMED_EMAIL not in {p.reason for p in problems}:
        assert order.contact.email.isprintable() and "@" in order.contact.email


UNREADABLE_VALUES: dict[str, Any] = {
    "id": "gid://shopify/Product/1",
    "createdAt": "2026-11-02T10:00:00",
    "updatedAt": 1_700_000_000,
    "email": "\ud800@example.com",
    "customer": "Ada",
    "shippingAddress": ["1 Analytical Way"],
    "tags": "gift",
    "totalPriceSet": {"shopMoney": {"amount": 40}},
}


@PROPERTY
@given(st.lists(st.sampled_from(sorted(UNREADABLE_VALUES)), min_size=1, unique=True), st.sampled_from([-1, 2**31]))
def test_every_unreadable_field_is_a_reason(fields: list[str], quantity: int) -> None:
    node = order_node(**{field: UNREADABLE_VALUES[field] for field in fields})
    node["lineItems"]["nodes"][0]["quantity"] = quantity

    read = read_order(node)

    assert read.order is None
    named = {problem.message.split(":", 1)[0].split(".", 1)[0] for problem in read.problems}
    assert named == {*fields, "lineItems"}


def test_a_node_without_an_order_id_is_kept_under_its_own_key() -> None:
    first, second = read_order({"name": "#1"}), read_order({"name": "#2"})
    assert first.shopify_order_id is second.shopify_order_id is None
    assert first.legacy_id != second.legacy_id
    assert first.legacy_id.startswith("0")  # never a Shopify id
    assert read_order({"name": "#1"}).legacy_id == first.legacy_id


def test_a_repeated_line_or_a_legacy_id_of_another_order_is_unreadable() -> None:
    node = order_node(legacyResourceId="5002")
    node["lineItems"]["nodes"].append(copy.deepcopy(node["lineItems"]["nodes"][0]))
    read = read_order(node)
    assert read.order is None
    assert read.legacy_id == "5001"  # the GID is what a retry re-reads
    assert [problem.message for problem in read.problems] == [
        "legacyResourceId 5002 is not the number of gid://shopify/Order/5001",
        "line gid://shopify/LineItem/9001 appears more than once",
    ]


# --- webhook bodies -----------------------------------------------------------------------------------------------

webhook_bodies = st.one_of(
    st.binary(max_size=64),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.fixed_dictionaries(
        {},
        optional={
            "id": st.one_of(st.integers(), huge_ints, json_leaves),
            "admin_graphql_api_id": st.one_of(
                st.sampled_from(["gid://shopify/Order/5001", "gid://shopify/Order/x"]), json_leaves
            ),
        },
    ).map(lambda body: json.dumps(body).encode()),
    st.integers(1, 5).map(lambda depth: b"[" * 10**depth),  # json.loads raised RecursionError
)


@PROPERTY
@given(webhook_bodies)
def test_a_webhook_body_names_an_order_or_is_refused_with_a_reason(body: bytes) -> None:
    try:
        gid = webhook_order_gid(body)
    except InvalidRequest as refused:
        assert str(refused)
        return
    match = ORDER_GID.fullmatch(gid)
    assert match and 0 < int(match.group(1)) < 2**64

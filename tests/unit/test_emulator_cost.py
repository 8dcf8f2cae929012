"""Query cost: the observed page-size factor and the recorded requestedQueryCost of real Shopify calls."""

import json
from pathlib import Path

import pytest
from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse

from local.emulator.cost import QueryCost, page_multiplier
from local.emulator.engine import _coerce_variables
from local.emulator.schema import admin_schema

RECORDINGS = Path(__file__).resolve().parents[2] / "local" / "emulator" / "recordings"
SAMPLES = json.loads((RECORDINGS / "cost-samples.json").read_text())["samples"]


def cost_of(query: str, variables: dict | None = None) -> QueryCost:
    document = parse(query)
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    coerced = _coerce_variables(operation, variables or {})
    assert isinstance(coerced, dict), coerced
    return QueryCost(admin_schema(), operation, fragments, coerced)


@pytest.mark.parametrize(
    ("page_size", "factor"), [(0, 0), (1, 1), (2, 1), (5, 3), (10, 4), (50, 7), (100, 9), (250, 11)]
)
def test_page_size_factor_is_twice_the_natural_log_rounded_down(page_size, factor):
    assert page_multiplier(page_size) == factor


@pytest.mark.parametrize("sample", SAMPLES, ids=[f"{s['source'].split('/')[-1]}:{s['case']}" for s in SAMPLES])
def test_requested_cost_matches_the_recording(sample):
    assert cost_of(sample["query"], sample["variables"]).requested() == sample["requestedQueryCost"]


@pytest.mark.parametrize(
    "recording",
    [
        "inventorySetQuantities-quantity-bounds.json",
        "inventorySetQuantities-name-validation.json",
        "inventory-reason-validation.json",
    ],
)
def test_inventory_mutation_costs_match_every_recorded_case(recording):
    cases = json.loads((RECORDINGS / recording).read_text())
    checked = 0
    for group in ("cases", "acceptedReasonCases", "invalidReasonCases"):
        for case in (cases.get(group) or {}).values():
            requested = case["response"]["extensions"]["cost"]["requestedQueryCost"]
            assert cost_of(case["query"], case["variables"]).requested() == requested
            checked += 1
    assert checked >= 3


def test_mutation_payload_objects_are_free_but_nested_connections_are_charged():
    query = """mutation($input: ProductSetInput!) { productSet(input: $input) {
        product { id title variants(first: 10) { nodes { id inventoryItem { id } } } } userErrors { field } } }"""
    # 10 for the mutation + variants: 2 + m(10)=4 * (variant 1 + inventoryItem 1)
    assert cost_of(query, {"input": {"title": "x"}}).requested() == 10 + 2 + 4 * 2


def test_actual_cost_uses_the_number_of_nodes_returned():
    cost = cost_of("{ products(first: 250) { nodes { id } } }")
    assert cost.requested() == 13
    assert cost.actual({"products": {"nodes": [{"id": "a"}] * 10}}) == 2 + 4
    assert cost.actual({"products": {"nodes": []}}) == 3  # an empty page costs one node, as recorded


def test_nodes_and_edges_selected_together_are_both_charged():
    assert (
        cost_of(
            "{ products(first: 5) { nodes { id } edges { cursor node { id } } pageInfo { hasNextPage } } }"
        ).requested()
        == 8
    )

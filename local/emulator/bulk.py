"""Bulk query rules and the JSONL result file (https://shopify.dev/docs/api/usage/bulk-operations/queries).

Messages are the ones Shopify returns (bulk-operations/bulk-operation-run-query-validators.json). Every node of
a nested connection becomes its own line carrying `__parentId`; with `groupObjects: false` the lines are
shuffled (seeded), so clients must not expect children right after their parent.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    is_leaf_type,
    parse,
    validate,
)

from local.emulator.cost import is_connection, response_key
from local.emulator.validation import shopify_validation_error

MAX_CONNECTIONS = 5
MAX_NESTED_DEPTH = 2  # connections below the root connection


@dataclass
class _Walk:
    connections: int = 0
    nodes_selected: list[str] = field(default_factory=list)
    without_parent_id: list[str] = field(default_factory=list)
    too_deep: bool = False
    inside_list: bool = False


def validate_bulk_query(schema: GraphQLSchema, query: str) -> tuple[DocumentNode | None, list[str]]:
    """The parsed document, or the user-error messages Shopify would return for it."""
    if not query.strip():
        return None, ["Invalid bulk query: syntax error, unexpected end of file"]
    try:
        document = parse(query)
    except GraphQLError as exc:
        return None, [f"Invalid bulk query: syntax error, {exc.message.removeprefix('Syntax Error: ')}"]
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if any(op.operation != OperationType.QUERY for op in operations):
        return None, ["Invalid operation type. Only `query` operations are supported."]
    errors = validate(schema, document)
    if errors:
        return None, [f"Invalid bulk query: {shopify_validation_error(document, e)['message']}" for e in errors]
    root = schema.query_type
    assert root is not None
    problems: list[str] = []
    selection = operations[0].selection_set
    if any(isinstance(s, FieldNode) and s.name.value in ("node", "nodes") for s in selection.selections):
        problems.append("Bulk queries cannot contain a top level `node` field.")
    walk = _Walk()
    _walk(selection, root, walk, depth=0, in_list=False)
    if walk.connections == 0:
        problems.append("Bulk queries must contain at least one connection.")
    if walk.nodes_selected:
        names = ", ".join(f"'{n}'" for n in walk.nodes_selected)
        first = walk.nodes_selected[0]
        problems.append(
            "All connection fields in a bulk query must select their contents using 'edges' > 'node', e.g: "
            f"'{first} {{ edges {{ node {{'. Selecting via 'nodes' is not supported. "
            f"Invalid connection fields: {names}."
        )
    if walk.connections > MAX_CONNECTIONS:
        problems.append(f"Bulk queries cannot contain more than {MAX_CONNECTIONS} connections.")
    if walk.too_deep:
        problems.append(
            f"Bulk queries cannot contain connections with a nesting depth greater than {MAX_NESTED_DEPTH}."
        )
    if walk.without_parent_id:
        problems.append(
            "The parent 'node' field for a nested connection must select the 'id' field without an alias and must be "
            f"of 'ID' return type. Connection fields without 'id': {', '.join(walk.without_parent_id)}."
        )
    if walk.inside_list:
        problems.append("Queries that contain a connection field within a list field are not currently supported.")
    return (None if problems else document), problems


def _walk(
    selection_set: SelectionSetNode | None, parent: GraphQLNamedType, walk: _Walk, depth: int, in_list: bool
) -> None:
    if selection_set is None or not isinstance(parent, GraphQLObjectType):
        return
    for selection in selection_set.selections:
        if not isinstance(selection, FieldNode) or selection.name.value not in parent.fields:
            continue
        field_type = parent.fields[selection.name.value].type
        named = get_named_type(field_type)
        if is_leaf_type(named):
            continue
        if not is_connection(named):
            _walk(selection.selection_set, named, walk, depth, in_list or _is_list(field_type))
            continue
        walk.connections += 1
        walk.inside_list |= in_list
        walk.too_deep |= depth > MAX_NESTED_DEPTH
        node_selection = _edge_node_selection(selection, walk)
        if node_selection is None:
            continue
        node_type = get_named_type(_edge_node_type(named))
        if _has_nested_connection(node_selection, node_type) and not _selects_plain_id(node_selection):
            walk.without_parent_id.append(selection.name.value)
        _walk(node_selection, node_type, walk, depth + 1, in_list=False)


def _is_list(field_type: Any) -> bool:
    inner = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
    return isinstance(inner, GraphQLList)


def _edge_node_type(connection: GraphQLNamedType) -> Any:
    assert isinstance(connection, GraphQLObjectType)
    edge = get_named_type(connection.fields["edges"].type)
    assert isinstance(edge, GraphQLObjectType)
    return edge.fields["node"].type


def _edge_node_selection(connection_field: FieldNode, walk: _Walk) -> SelectionSetNode | None:
    for selection in connection_field.selection_set.selections if connection_field.selection_set else ():
        if not isinstance(selection, FieldNode):
            continue
        if selection.name.value == "nodes":
            walk.nodes_selected.append(connection_field.name.value)
        if selection.name.value == "edges" and selection.selection_set:
            for inner in selection.selection_set.selections:
                if isinstance(inner, FieldNode) and inner.name.value == "node":
                    return inner.selection_set
    return None


def _has_nested_connection(selection_set: SelectionSetNode, node_type: GraphQLNamedType) -> bool:
    if not isinstance(node_type, GraphQLObjectType):
        return False
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode) and selection.name.value in node_type.fields:
            named = get_named_type(node_type.fields[selection.name.value].type)
            if is_connection(named) or (
                not is_leaf_type(named)
                and selection.selection_set is not None
                and _has_nested_connection(selection.selection_set, named)
            ):
                return True
    return False


def _selects_plain_id(selection_set: SelectionSetNode) -> bool:
    return any(isinstance(s, FieldNode) and s.name.value == "id" and s.alias is None for s in selection_set.selections)


# ---- JSONL -------------------------------------------------------------------------------------------


@dataclass
class BulkResult:
    body: bytes
    object_count: int
    root_object_count: int


def to_jsonl(
    schema: GraphQLSchema, document: DocumentNode, data: Mapping[str, Any], *, group_objects: bool, seed: int
) -> BulkResult:
    root = schema.query_type
    assert root is not None
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    lines: list[dict[str, Any]] = []
    roots = 0
    for selection in operation.selection_set.selections:
        if not isinstance(selection, FieldNode):
            continue
        named = get_named_type(root.fields[selection.name.value].type)
        if not is_connection(named):
            continue
        node_selection = _edge_node_selection(selection, _Walk())
        node_type = get_named_type(_edge_node_type(named))
        for node in _edge_nodes(data.get(response_key(selection))):
            roots += 1
            lines.extend(_object_lines(node_selection, node_type, node, parent_id=None))
    if not group_objects:
        random.Random(seed).shuffle(lines)
    body = b"".join(json.dumps(line, separators=(",", ":"), ensure_ascii=False).encode() + b"\n" for line in lines)
    return BulkResult(body=body, object_count=len(lines), root_object_count=roots)


def _edge_nodes(page: Any) -> list[Mapping[str, Any]]:
    if not isinstance(page, Mapping):
        return []
    return [e["node"] for e in page.get("edges") or [] if isinstance(e, Mapping) and isinstance(e.get("node"), Mapping)]


def _object_lines(
    selection_set: SelectionSetNode | None, node_type: GraphQLNamedType, node: Mapping[str, Any], parent_id: str | None
) -> list[dict[str, Any]]:
    line: dict[str, Any] = {}
    children: list[dict[str, Any]] = []
    own_id = node.get("id") if isinstance(node.get("id"), str) else parent_id
    line.update(_inline(selection_set, node_type, node, own_id, children))
    if parent_id is not None:
        line["__parentId"] = parent_id
    return [line, *children]


def _inline(
    selection_set: SelectionSetNode | None,
    parent: GraphQLNamedType,
    value: Mapping[str, Any],
    owner_id: str | None,
    children: list[dict[str, Any]],
) -> dict[str, Any]:
    """Copy a result object, moving nested connections out as child lines owned by `owner_id`."""
    result: dict[str, Any] = {}
    fields = parent.fields if isinstance(parent, GraphQLObjectType) else {}
    for selection in selection_set.selections if selection_set else ():
        if not isinstance(selection, FieldNode):
            continue
        key = response_key(selection)
        if key not in value:
            continue
        definition = fields.get(selection.name.value)
        named = get_named_type(definition.type) if definition else None
        if named is not None and is_connection(named):
            node_selection = _edge_node_selection(selection, _Walk())
            node_type = get_named_type(_edge_node_type(named))
            for child in _edge_nodes(value[key]):
                children.extend(_object_lines(node_selection, node_type, child, parent_id=owner_id))
        elif named is not None and not is_leaf_type(named) and isinstance(value[key], Mapping):
            result[key] = _inline(selection.selection_set, named, value[key], owner_id, children)
        else:
            result[key] = value[key]
    return result


# ---- bulk mutations ----------------------------------------------------------------------------------

# Mutation roots a bulk mutation may run: those the recordings show accepted (customerCreate,
# metaobjectDefinitionCreate, metafieldsSet, productCreate) plus the catalog mutations Shopify documents for bulk
# imports. Roots the emulator does not implement are accepted and fail per line with NOT_SUPPORTED_BY_EMULATOR.
BULK_MUTATION_ROOTS = frozenset(
    {
        "collectionAddProducts",
        "collectionCreate",
        "collectionUpdate",
        "customerCreate",
        "customerUpdate",
        "inventorySetQuantities",
        "metafieldsSet",
        "metaobjectDefinitionCreate",
        "metaobjectUpsert",
        "priceListFixedPricesAdd",
        "productCreate",
        "productSet",
        "productUpdate",
        "productVariantsBulkCreate",
        "productVariantsBulkUpdate",
        "publishablePublish",
        "publishableUnpublish",
        "tagsAdd",
        "tagsRemove",
    }
)
MAX_BULK_MUTATION_CONNECTIONS = 1


@dataclass
class BulkMutationProblem:
    message: str
    code: str | None
    field: list[str] | None


def validate_bulk_mutation(
    schema: GraphQLSchema, mutation: str
) -> tuple[DocumentNode | None, list[BulkMutationProblem]]:
    """The parsed mutation, or the user errors Shopify returns for it (bulk-operation-run-mutation-*.json)."""
    try:
        document = parse(mutation)
    except GraphQLError as exc:
        return None, [BulkMutationProblem(_parse_failure(exc), "INVALID_MUTATION", None)]
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].operation != OperationType.MUTATION:
        message = "Invalid operation type. Only `mutation` operations are supported."
        return None, [BulkMutationProblem(message, "INVALID_MUTATION", None)]
    roots = [s for s in operations[0].selection_set.selections if isinstance(s, FieldNode)]
    if len(roots) != 1 or len(operations[0].selection_set.selections) != 1:
        return None, [BulkMutationProblem("You must specify a single top level mutation.", None, ["mutation"])]
    if roots[0].name.value not in BULK_MUTATION_ROOTS:
        return None, [BulkMutationProblem("You must use an allowed mutation name.", None, ["mutation"])]
    problems = _mutation_shape_problems(schema, document, roots[0])
    return (None, problems) if problems else (document, [])


def _mutation_shape_problems(
    schema: GraphQLSchema, document: DocumentNode, root: FieldNode
) -> list[BulkMutationProblem]:
    errors = validate(schema, document)
    if errors:
        messages = [f"Invalid mutation: {shopify_validation_error(document, e)['message']}" for e in errors]
        return [BulkMutationProblem(m, "INVALID_MUTATION", None) for m in messages]
    mutation_root = schema.mutation_type
    assert mutation_root is not None
    walk = _Walk()
    payload_type = get_named_type(mutation_root.fields[root.name.value].type)
    _walk(root.selection_set, payload_type, walk, depth=0, in_list=False)
    if walk.connections > MAX_BULK_MUTATION_CONNECTIONS:
        message = f"Bulk mutations cannot contain more than {MAX_BULK_MUTATION_CONNECTIONS} connection."
        return [BulkMutationProblem(message, None, ["mutation"])]
    return []


def _parse_failure(error: GraphQLError) -> str:
    detail = error.message.removeprefix("Syntax Error: ")
    found = detail.rsplit("found ", 1)[-1].rstrip(".") if "found " in detail else None
    unexpected = "end of file" if found in (None, "<EOF>") else found
    location = ""
    if error.locations:
        location = f" at [{error.locations[0].line}, {error.locations[0].column}]"
    return f"Failed to parse the mutation - syntax error, unexpected {unexpected}{location}"


def jsonl_lines(body: bytes) -> list[tuple[int, Any]]:
    """(line number from 0, parsed variables or the JSONDecodeError) for every non-blank line."""
    lines: list[tuple[int, Any]] = []
    for number, raw in enumerate(body.decode("utf-8", errors="replace").splitlines()):
        if not raw.strip():
            continue
        try:
            lines.append((number, json.loads(raw)))
        except json.JSONDecodeError as exc:
            lines.append((number, exc))
    return lines

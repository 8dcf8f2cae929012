"""Query cost like Shopify's calculated cost, calibrated on the live 2026-04 recordings.

Rules (reference §7.2, observed): scalars and enums 0; an object 1; lists of objects are not multiplied;
a connection costs 2 + m(page size) * (cost of one node), with m(n) = max(1, floor(2·ln n)) and m(0) = 0;
pageInfo and cursors are free; a mutation root field costs 10, its payload object and the payload's direct
object children are free (deeper selections are charged as usual).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInt,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    is_leaf_type,
    value_from_ast,
)

MUTATION_FIELD_COST = 10
CONNECTION_BASE_COST = 2
MAX_QUERY_COST = 1000
# Money values are priced like scalars (observed: `priceSet { shopMoney { amount } }` adds nothing).
FREE_OBJECT_TYPES = frozenset({"MoneyV2", "MoneyBag"})


def page_multiplier(page_size: int) -> int:
    if page_size <= 0:
        return 0
    return max(1, math.floor(2 * math.log(page_size)))


def is_connection(named_type: GraphQLNamedType) -> bool:
    return (
        isinstance(named_type, GraphQLObjectType)
        and named_type.name.endswith("Connection")
        and "pageInfo" in named_type.fields
        and "edges" in named_type.fields
    )


def response_key(node: FieldNode) -> str:
    return node.alias.value if node.alias else node.name.value


class QueryCost:
    """Requested cost before execution, actual cost from the data that came back."""

    def __init__(
        self,
        schema: GraphQLSchema,
        operation: OperationDefinitionNode,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.operation = operation
        self.fragments = fragments
        self.variables = variables
        root = schema.get_root_type(operation.operation)
        if root is None:
            raise ValueError(f"schema has no {operation.operation.value} root")
        self.root_type = root
        self.is_mutation = operation.operation == OperationType.MUTATION

    # ---- requested -------------------------------------------------------------------------------------

    def requested(self) -> int:
        if not self.is_mutation:
            return self._selection_cost(self.operation.selection_set, self.root_type)
        return sum(
            self._mutation_field_cost(node, self.root_type)
            for node in self._fields(self.operation.selection_set, self.root_type)
        )

    def _mutation_field_cost(self, node: FieldNode, parent: GraphQLNamedType) -> int:
        payload_type = self._field_type(node, parent)
        cost = MUTATION_FIELD_COST
        if payload_type is None or node.selection_set is None:
            return cost
        for child in self._fields(node.selection_set, payload_type):
            child_type = self._field_type(child, payload_type)
            if child_type is None or is_leaf_type(child_type):
                continue
            own_object_cost = 0 if is_connection(child_type) else 1  # the payload's direct objects are free
            cost += self._field_cost(child, payload_type) - own_object_cost
        return cost

    def _selection_cost(self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType) -> int:
        if selection_set is None:
            return 0
        base = 0
        by_condition: dict[str, int] = {}
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                base += self._field_cost(selection, parent)
                continue
            condition, inner = self._fragment_parts(selection, parent)
            cost = self._selection_cost(inner, condition)
            if condition is parent:
                base += cost
            else:  # selections on different concrete types: only one of them applies to an object
                by_condition[condition.name] = by_condition.get(condition.name, 0) + cost
        return base + max(by_condition.values(), default=0)

    def _field_cost(self, node: FieldNode, parent: GraphQLNamedType) -> int:
        named = self._field_type(node, parent)
        if named is None or is_leaf_type(named) or named.name in FREE_OBJECT_TYPES:
            return 0
        if is_connection(named):
            node_cost = self._connection_node_cost(node.selection_set, named)
            return CONNECTION_BASE_COST + page_multiplier(self._page_size(node)) * node_cost
        return 1 + self._selection_cost(node.selection_set, named)

    def _connection_node_cost(self, selection_set: SelectionSetNode | None, connection: GraphQLNamedType) -> int:
        costs = [0]
        for node in self._fields(selection_set, connection):
            item_type = self._field_type(node, connection)
            if item_type is None:
                continue
            if node.name.value == "nodes":
                costs.append(1 + self._selection_cost(node.selection_set, item_type))
            elif node.name.value == "edges":
                for edge_field in self._fields(node.selection_set, item_type):
                    node_type = self._field_type(edge_field, item_type)
                    if edge_field.name.value == "node" and node_type is not None:
                        costs.append(1 + self._selection_cost(edge_field.selection_set, node_type))
        return sum(costs)  # `nodes` and `edges { node }` are charged separately when both are selected

    # ---- actual ----------------------------------------------------------------------------------------

    def actual(self, data: Mapping[str, Any] | None) -> int:
        if data is None:
            return self.requested() if not self.is_mutation else MUTATION_FIELD_COST * self._root_field_count()
        if not self.is_mutation:
            return self._selection_actual(self.operation.selection_set, self.root_type, [data])
        total = 0
        for node in self._fields(self.operation.selection_set, self.root_type):
            total += MUTATION_FIELD_COST
            payload = data.get(response_key(node))
            payload_type = self._field_type(node, self.root_type)
            if not isinstance(payload, Mapping) or payload_type is None:
                continue
            for child in self._fields(node.selection_set, payload_type):
                child_type = self._field_type(child, payload_type)
                value = payload.get(response_key(child))
                if child_type is None or is_leaf_type(child_type) or value is None:
                    continue
                own_object_cost = 0 if is_connection(child_type) else 1
                total += self._field_actual(child, payload_type, [payload]) - own_object_cost
        return total

    def _root_field_count(self) -> int:
        return len(self._fields(self.operation.selection_set, self.root_type))

    def _selection_actual(
        self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType, instances: Sequence[Mapping[str, Any]]
    ) -> int:
        if selection_set is None:
            return 0
        base = 0
        by_condition: dict[str, int] = {}
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                base += self._field_actual(selection, parent, instances)
                continue
            condition, inner = self._fragment_parts(selection, parent)
            matching = [i for i in instances if i.get("__typename") in (None, condition.name) or condition is parent]
            cost = self._selection_actual(inner, condition, matching)
            if condition is parent:
                base += cost
            else:
                by_condition[condition.name] = by_condition.get(condition.name, 0) + cost
        return base + max(by_condition.values(), default=0)

    def _field_actual(self, node: FieldNode, parent: GraphQLNamedType, instances: Sequence[Mapping[str, Any]]) -> int:
        named = self._field_type(node, parent)
        if named is None or is_leaf_type(named) or named.name in FREE_OBJECT_TYPES:
            return 0
        key = response_key(node)
        values = [i[key] for i in instances if key in i and i[key] is not None]
        if is_connection(named):
            return self._connection_actual(node, named, values)
        objects = [v for value in values for v in (value if isinstance(value, list) else [value]) if v is not None]
        if not objects:
            return 1  # a null object is still charged, its selections are not
        return 1 + self._selection_actual(node.selection_set, named, objects)

    def _connection_actual(self, node: FieldNode, connection: GraphQLNamedType, pages: list[Any]) -> int:
        page_nodes: list[list[Mapping[str, Any]]] = [self._page_items(node, connection, page) for page in pages]
        returned = max((len(items) for items in page_nodes), default=0)
        if returned == 0:
            # Shopify charges an empty page what it would have cost to fill one node.
            return CONNECTION_BASE_COST + page_multiplier(min(self._page_size(node), 1)) * (
                self._connection_node_cost(node.selection_set, connection)
            )
        all_items = [item for items in page_nodes for item in items]
        costs = [0]
        for selected in self._fields(node.selection_set, connection):
            item_type = self._field_type(selected, connection)
            if item_type is None:
                continue
            if selected.name.value == "nodes":
                costs.append(1 + self._selection_actual(selected.selection_set, item_type, all_items))
            elif selected.name.value == "edges":
                for edge_field in self._fields(selected.selection_set, item_type):
                    node_type = self._field_type(edge_field, item_type)
                    if edge_field.name.value == "node" and node_type is not None:
                        costs.append(1 + self._selection_actual(edge_field.selection_set, node_type, all_items))
        return CONNECTION_BASE_COST + page_multiplier(returned) * sum(costs)

    def _page_items(self, node: FieldNode, connection: GraphQLNamedType, page: Any) -> list[Mapping[str, Any]]:
        if not isinstance(page, Mapping):
            return []
        for selected in self._fields(node.selection_set, connection):
            key = response_key(selected)
            if selected.name.value == "nodes" and isinstance(page.get(key), list):
                return [n for n in page[key] if isinstance(n, Mapping)]
            if selected.name.value == "edges" and isinstance(page.get(key), list):
                node_keys = [
                    response_key(f) for f in self._fields(selected.selection_set, connection) if f.name.value == "node"
                ]
                items: list[Mapping[str, Any]] = []
                for edge in page[key]:
                    if isinstance(edge, Mapping):  # an edge counts even when only its cursor was selected
                        items.append(next((edge[k] for k in node_keys if isinstance(edge.get(k), Mapping)), {}))
                return items
        return []

    # ---- AST helpers -----------------------------------------------------------------------------------

    def _page_size(self, node: FieldNode) -> int:
        for argument in node.arguments or ():
            if argument.name.value in ("first", "last"):
                value = value_from_ast(argument.value, GraphQLInt, dict(self.variables))
                if isinstance(value, int):
                    return value
        return 0

    def _field_type(self, node: FieldNode, parent: GraphQLNamedType) -> GraphQLNamedType | None:
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return None
        field = parent.fields.get(node.name.value)
        return None if field is None else get_named_type(field.type)

    def _fragment_parts(
        self, selection: Any, parent: GraphQLNamedType
    ) -> tuple[GraphQLNamedType, SelectionSetNode | None]:
        if isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            selection_set = selection.selection_set
        elif isinstance(selection, FragmentSpreadNode):
            fragment = self.fragments.get(selection.name.value)
            if fragment is None:
                return parent, None
            condition = fragment.type_condition
            selection_set = fragment.selection_set
        else:
            return parent, None
        named = self.schema.get_type(condition.name.value) if condition is not None else parent
        return (named or parent), selection_set

    def _fields(self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType) -> list[FieldNode]:
        """Fields of a selection set with fragments on the same type flattened in."""
        if selection_set is None:
            return []
        fields: list[FieldNode] = []
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                fields.append(selection)
            else:
                _, inner = self._fragment_parts(selection, parent)
                fields.extend(self._fields(inner, parent))
        return fields

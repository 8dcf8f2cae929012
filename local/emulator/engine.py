"""One Admin GraphQL request: parse, validate, cost, throttle, execute, answer in Shopify's shapes."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLResolveInfo,
    OperationDefinitionNode,
    OperationType,
    coerce_input_value,
    execute,
    is_non_null_type,
    parse,
    type_from_ast,
    validate,
    value_from_ast,
)

from local.emulator.bucket import ThrottleStatus
from local.emulator.context import RequestContext
from local.emulator.cost import MAX_QUERY_COST, QueryCost
from local.emulator.resolvers import MUTATION_ROOT, QUERY_ROOT
from local.emulator.schema import admin_schema
from local.emulator.validation import merge_missing_arguments, shopify_validation_error

log = logging.getLogger(__name__)

Problems = list[tuple[list[str], str]]
THROTTLED_ERROR = {
    "message": "Throttled",
    "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
}


@dataclass
class PreparedOperation:
    document: DocumentNode
    operation: OperationDefinitionNode
    variables: dict[str, Any]
    cost: QueryCost
    requested_cost: int


@dataclass
class Outcome:
    """A GraphQL answer (HTTP 200) before it is serialised."""

    body: dict[str, Any]
    mutations: list[str] = field(default_factory=list)
    charged: float = 0.0
    throttled: bool = False


def unsupported(info: GraphQLResolveInfo) -> GraphQLError:
    return GraphQLError(
        f"Field '{info.field_name}' on type '{info.parent_type.name}' is not supported by the shopsync emulator",
        extensions={"code": "NOT_SUPPORTED_BY_EMULATOR"},
    )


def resolve_field(source: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
    """Views are dicts: a missing key is an unemulated field (an error), a callable is evaluated lazily."""
    if not isinstance(source, Mapping) or info.field_name not in source:
        raise unsupported(info)
    value = source[info.field_name]
    return value(info, **args) if callable(value) else value


def prepare(body: Any) -> PreparedOperation | dict[str, Any]:
    """Parse, validate and cost a request body; a dict is an error response to return as is."""
    parsed = _parse_and_validate(body)
    if isinstance(parsed, dict):
        return parsed
    document, operation = parsed
    raw_variables = body.get("variables") or {}
    if not isinstance(raw_variables, Mapping):
        return {"errors": [{"message": "Variables must be an object", "extensions": {"code": "BAD_REQUEST"}}]}
    variables = _coerce_variables(operation, raw_variables)
    if isinstance(variables, list):
        return {"errors": variables}
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    cost = QueryCost(admin_schema(), operation, fragments, variables)
    return PreparedOperation(document, operation, dict(raw_variables), cost, cost.requested())


def _parse_and_validate(body: Any) -> tuple[DocumentNode, OperationDefinitionNode] | dict[str, Any]:
    if not isinstance(body, Mapping) or not isinstance(body.get("query"), str):
        return {"errors": [{"message": "No query string was present", "extensions": {"code": "BAD_REQUEST"}}]}
    try:
        document = parse(body["query"])
    except GraphQLError as exc:
        return {"errors": [_syntax_error(exc)]}
    errors = validate(admin_schema(), document)
    if errors:
        formatted = [shopify_validation_error(document, e) for e in errors]
        return {"errors": merge_missing_arguments(formatted)}
    operation = _select_operation(document, body.get("operationName"))
    return operation if isinstance(operation, dict) else (document, operation)


def run(ctx: RequestContext, prepared: PreparedOperation) -> Outcome:
    """Charge the bucket, execute under the store lock, refund what was not used."""
    store = ctx.store
    requested = prepared.requested_cost
    if requested > MAX_QUERY_COST:
        message = f"Query cost is {requested}, which exceeds the single query max cost limit ({MAX_QUERY_COST})."
        error = {
            "message": message,
            "extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": MAX_QUERY_COST},
        }
        return Outcome({"errors": [error], "extensions": cost_extension(requested, None, store.bucket.status())})
    granted, status = store.bucket.try_take(requested)
    if not granted:
        return throttled(requested, status)
    with store.lock:
        result = execute_document(ctx, prepared.document, prepared.operation, prepared.variables)
    actual = min(requested, prepared.cost.actual(result.data))
    status = store.bucket.refund(requested - actual)
    body: dict[str, Any] = {}
    if result.errors:
        body["errors"] = [execution_error(e) for e in result.errors]
    body["data"] = result.data
    body["extensions"] = cost_extension(requested, actual, status)
    if ctx.search_extensions:
        body["extensions"]["search"] = ctx.search_extensions
    mutations = []
    if prepared.operation.operation == OperationType.MUTATION:
        mutations = [s.name.value for s in prepared.operation.selection_set.selections if hasattr(s, "name")]
    return Outcome(body, mutations=mutations, charged=actual)


def execute_document(
    ctx: RequestContext, document: DocumentNode, operation: OperationDefinitionNode, variables: Mapping[str, Any]
) -> ExecutionResult:
    root = MUTATION_ROOT if operation.operation == OperationType.MUTATION else QUERY_ROOT
    result = execute(
        admin_schema(),
        document,
        root_value=root,
        context_value=ctx,
        variable_values=dict(variables),
        operation_name=operation.name.value if operation.name else None,
        field_resolver=resolve_field,
    )
    if not isinstance(result, ExecutionResult):  # only async resolvers return awaitables; none are used
        raise TypeError("emulator resolvers must be synchronous")
    return result


def throttled(requested: int, status: ThrottleStatus) -> Outcome:
    body = {"errors": [THROTTLED_ERROR], "extensions": cost_extension(requested, None, status)}
    return Outcome(body, throttled=True)


def cost_extension(requested: int, actual: int | None, status: ThrottleStatus) -> dict[str, Any]:
    return {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": status.as_json(),
        }
    }


def _select_operation(document: DocumentNode, name: Any) -> OperationDefinitionNode | dict[str, Any]:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name:
        chosen = next((op for op in operations if op.name and op.name.value == name), None)
        if chosen is None:
            return {"errors": [{"message": f'No operation named "{name}"', "extensions": {"code": "BAD_REQUEST"}}]}
        return chosen
    if len(operations) > 1:
        return {"errors": [{"message": "An operation name is required"}]}
    return operations[0]


def _coerce_variables(
    operation: OperationDefinitionNode, raw: Mapping[str, Any]
) -> dict[str, Any] | list[dict[str, Any]]:
    """Variables coerced like graphql-core, errors reported in Shopify's INVALID_VARIABLE shape."""
    schema = admin_schema()
    values: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        var_type = type_from_ast(schema, definition.type)
        location = None
        if definition.loc is not None:
            source_location = definition.loc.source.get_location(definition.loc.start)
            location = {"line": source_location.line, "column": source_location.column}
        if var_type is None:
            continue
        if name not in raw:
            if definition.default_value is not None:
                values[name] = value_from_ast(definition.default_value, var_type)  # type: ignore[arg-type]
            elif is_non_null_type(var_type):
                errors.append(
                    _invalid_variable(name, str(var_type), None, [([], "Expected value to not be null")], location)
                )
            continue
        problems: Problems = []

        def on_error(path: list[str | int], _invalid: Any, error: GraphQLError, sink: Problems = problems) -> None:
            sink.append(_problem([str(p) for p in path], error))

        coerced = coerce_input_value(raw[name], var_type, on_error)  # type: ignore[arg-type]
        if problems:
            errors.append(_invalid_variable(name, str(var_type), raw[name], problems, location))
        else:
            values[name] = coerced
    return errors or values


def _problem(path: list[str], error: GraphQLError) -> tuple[list[str], str]:
    """Shopify names the offending input field in the path and says "Field is not defined on <Type>"."""
    unknown = re.match(r"^Field '(?P<field>[^']+)' is not defined by type '(?P<type>[^']+)'", error.message)
    if unknown:
        return [*path, unknown["field"]], f"Field is not defined on {unknown['type']}"
    return path, error.message


def _invalid_variable(
    name: str, type_name: str, value: Any, problems: Problems, location: dict[str, int] | None
) -> dict[str, Any]:
    message = f"Variable ${name} of type {type_name} was provided invalid value"
    if len(problems) == 1 and problems[0][0]:
        message += f" for {'.'.join(problems[0][0])} ({problems[0][1]})"
    error: dict[str, Any] = {"message": message}
    if location:
        error["locations"] = [location]
    error["extensions"] = {
        "code": "INVALID_VARIABLE",
        "value": value,
        "problems": [{"path": path, "explanation": explanation} for path, explanation in problems],
    }
    return error


def _syntax_error(error: GraphQLError) -> dict[str, Any]:
    formatted: dict[str, Any] = {"message": f"syntax error, {error.message.removeprefix('Syntax Error: ')}"}
    if error.locations:
        formatted["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    formatted["extensions"] = {"code": "parseError"}
    return formatted


def execution_error(error: GraphQLError) -> dict[str, Any]:
    original = error.original_error
    if original is not None and not isinstance(original, GraphQLError):
        # A bug in the emulator: answer like Shopify's generic 500-in-200, keep the cause for debugging.
        log.error("emulator resolver failed at %s", error.path, exc_info=original)
        formatted = GraphQLError(
            "Internal error. Looks like something went wrong on our end.",
            nodes=error.nodes,
            path=error.path,
            extensions={"code": "INTERNAL_SERVER_ERROR", "emulatorException": repr(original)},
        ).formatted
        return dict(formatted)
    return dict(error.formatted)

"""graphql-core validation errors rewritten in Shopify's shapes (messages, codes and path as recorded)."""

from __future__ import annotations

import re
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    Node,
    ObjectFieldNode,
    OperationDefinitionNode,
    Visitor,
    visit,
)

_RULES: list[tuple[re.Pattern[str], Any]] = [
    (
        re.compile(r"^Cannot query field '(?P<field>[^']+)' on type '(?P<type>[^']+)'"),
        lambda m: (
            f"Field '{m['field']}' doesn't exist on type '{m['type']}'",
            {"code": "undefinedField", "typeName": m["type"], "fieldName": m["field"]},
        ),
    ),
    (
        re.compile(r"^Unknown argument '(?P<arg>[^']+)' on field '(?P<type>[^'.]+)\.(?P<field>[^']+)'"),
        lambda m: (
            f"Field '{m['field']}' doesn't accept argument '{m['arg']}'",
            {"code": "argumentNotAccepted", "name": m["field"], "typeName": "Field", "argumentName": m["arg"]},
        ),
    ),
    (
        re.compile(r"^Unknown argument '(?P<arg>[^']+)' on directive '@(?P<directive>[^']+)'"),
        lambda m: (
            f"Directive '{m['directive']}' doesn't accept argument '{m['arg']}'",
            {"code": "argumentNotAccepted", "name": m["directive"], "typeName": "Directive", "argumentName": m["arg"]},
        ),
    ),
    (
        re.compile(r"^Field '(?P<field>[^']+)' argument '(?P<arg>[^']+)' of type .* is required"),
        lambda m: (
            f"Field '{m['field']}' is missing required arguments: {m['arg']}",
            {"code": "missingRequiredArguments", "className": "Field", "name": m["field"], "arguments": m["arg"]},
        ),
    ),
    (
        re.compile(
            r"^Field '(?P<type>[^.']+)\.(?P<field>[^']+)' of required type '(?P<argtype>[^']+)' was not provided"
        ),
        lambda m: (
            f"Argument '{m['field']}' on InputObject '{m['type']}' is required. Expected type {m['argtype']}",
            {
                "code": "missingRequiredInputObjectAttribute",
                "argumentName": m["field"],
                "argumentType": m["argtype"],
                "inputObjectType": m["type"],
            },
        ),
    ),
    (
        re.compile(r"^Field '(?P<field>[^']+)' is not defined by type '(?P<type>[^']+)'"),
        lambda m: (
            f"InputObject '{m['type']}' doesn't accept argument '{m['field']}'",
            {"code": "argumentNotAccepted", "name": m["type"], "typeName": "InputObject", "argumentName": m["field"]},
        ),
    ),
    (
        re.compile(r"^Variable '\$(?P<var>[^']+)' is never used(?: in operation '(?P<op>[^']+)')?"),
        lambda m: (
            f"Variable ${m['var']} is declared by {m['op'] or 'anonymous query'} but not used",
            {"code": "variableNotUsed", "variableName": m["var"]},
        ),
    ),
    (
        re.compile(r"^Variable '\$(?P<var>[^']+)' is not defined(?: by operation '(?P<op>[^']+)')?"),
        lambda m: (
            f"Variable ${m['var']} is used by {m['op'] or 'anonymous query'} but not declared",
            {"code": "variableNotDefined", "variableName": m["var"]},
        ),
    ),
    (
        re.compile(
            r"^Field '(?P<field>[^']+)' must not have a selection since type '(?P<type>[^']+)' has no subfields"
        ),
        lambda m: (
            f"Selections can't be made on scalars (field '{m['field']}' returns {m['type']} but has selections)",
            {"code": "selectionMismatch", "nodeName": f"field '{m['field']}'", "typeName": m["type"]},
        ),
    ),
    (
        re.compile(r"^Field '(?P<field>[^']+)' of type '(?P<type>[^']+)' must have a selection of subfields"),
        lambda m: (
            f"Field must have selections (field '{m['field']}' returns {m['type']} but has no selections.)",
            {"code": "selectionMismatch", "nodeName": f"field '{m['field']}'", "typeName": m["type"]},
        ),
    ),
    (
        re.compile(r"^Unknown type '(?P<type>[^']+)'"),
        lambda m: (
            f"No such type {m['type']}, so it can't be a fragment condition",
            {"code": "undefinedType", "typeName": m["type"]},
        ),
    ),
]


def shopify_validation_error(document: DocumentNode, error: GraphQLError) -> dict[str, Any]:
    message, extensions = error.message, {"code": "validationError"}
    for pattern, rewrite in _RULES:
        match = pattern.match(error.message)
        if match:
            message, extensions = rewrite(match)
            break
    else:
        if "cannot represent" in message or "Expected value of type" in message or "Expected type" in message:
            extensions = {"code": "argumentLiteralsIncompatible"}
    formatted: dict[str, Any] = {"message": message}
    if error.locations:
        formatted["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    path = ast_path(document, error.nodes[0]) if error.nodes else None
    if path:
        formatted["path"] = path
    formatted["extensions"] = extensions
    return formatted


def merge_missing_arguments(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Shopify reports all missing arguments of one field in a single error (graphql-core: one each)."""
    merged: list[dict[str, Any]] = []
    by_field: dict[tuple[Any, ...], dict[str, Any]] = {}
    for error in errors:
        extensions = error.get("extensions", {})
        if extensions.get("code") != "missingRequiredArguments":
            merged.append(error)
            continue
        key = (tuple(error.get("path", ())), extensions.get("name"))
        if key in by_field:
            first = by_field[key]
            first["extensions"]["arguments"] += f", {extensions['arguments']}"
            first["message"] = (
                f"Field '{extensions['name']}' is missing required arguments: {first['extensions']['arguments']}"
            )
            continue
        by_field[key] = error
        merged.append(error)
    return merged


def ast_path(document: DocumentNode, target: Node) -> list[str] | None:
    """Shopify's validation path: ["query Name", field, …, argument], built from the AST."""

    class PathFinder(Visitor):
        def __init__(self) -> None:
            super().__init__()
            self.stack: list[str] = []
            self.found: list[str] | None = None

        def enter(self, node: Node, *_: Any) -> Any:
            label = _label(node)
            if label is not None:
                self.stack.append(label)
            if node is target:
                self.found = list(self.stack)
                return self.BREAK
            return None

        def leave(self, node: Node, *_: Any) -> Any:
            if _label(node) is not None:
                self.stack.pop()
            return None

    finder = PathFinder()
    visit(document, finder)
    return finder.found


def _label(node: Node) -> str | None:
    if isinstance(node, OperationDefinitionNode):
        name = f" {node.name.value}" if node.name else ""
        return f"{node.operation.value}{name}"
    if isinstance(node, FragmentDefinitionNode):
        return f"fragment {node.name.value}"
    if isinstance(node, FieldNode | ArgumentNode | ObjectFieldNode):
        return node.name.value
    return None

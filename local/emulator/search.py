"""Shopify search syntax for connection `query:` arguments (https://shopify.dev/api/usage/search-syntax).

Terms `field:value` are AND-ed by whitespace (or `AND`), `OR` binds looser, `NOT term` / `-term` negate,
parentheses group, comparators `:>` `:>=` `:<` `:<=`, values may be quoted ('…' or "…"), some fields take
comma lists. Unknown fields are dropped from the filter and reported as warnings, like Shopify does
(the filter silently widens, which is exactly what clients must notice).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any, Generic, Literal, TypeVar, cast

T = TypeVar("T")
FieldKind = Literal["text", "keyword", "time", "id", "number", "bool", "tag", "tag_not", "enum"]
Comparator = Literal[":", ":>", ":>=", ":<", ":<="]

INVALID_FIELD_MESSAGE = "Invalid search field for this query."


class SearchSyntaxError(ValueError):
    """A filter Shopify refuses outright (top-level BAD_REQUEST), e.g. an unparseable timestamp."""


@dataclass(frozen=True)
class SearchField(Generic[T]):
    """How one search field reads an object. `get` returns a value or a list of values (any may match)."""

    kind: FieldKind
    get: Callable[[T], Any]
    accepted: frozenset[str] | None = None  # for enums: values outside it warn and match nothing


@dataclass(frozen=True)
class Term:
    field: str | None  # None: free text
    comparator: Comparator
    value: str


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class All:
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class AnyOf:
    operands: tuple[Node, ...]


Node = Term | Not | All | AnyOf


@dataclass
class CompiledSearch(Generic[T]):
    query: str | None
    tree: Node | None
    fields: Mapping[str, SearchField[T]]
    now: datetime
    warnings: list[dict[str, str]] = field(default_factory=list)

    def matches(self, obj: T) -> bool:
        return self.tree is None or self._eval(self.tree, obj)

    def filter(self, objects: Iterable[T]) -> list[T]:
        return [o for o in objects if self.matches(o)]

    def extension(self, path: list[str]) -> dict[str, Any] | None:
        """The `extensions.search` entry Shopify adds when a filter was (partly) ignored."""
        if not self.warnings or self.tree is None:
            return None
        return {"path": path, "query": self.query, "parsed": describe(self.tree), "warnings": self.warnings}

    def _eval(self, node: Node, obj: T) -> bool:
        if isinstance(node, Not):
            return not self._eval(node.operand, obj)
        if isinstance(node, All):
            return all(self._eval(n, obj) for n in node.operands)
        if isinstance(node, AnyOf):
            return any(self._eval(n, obj) for n in node.operands)
        return self._term(node, obj)

    def _term(self, term: Term, obj: T) -> bool:
        spec = self.fields.get(term.field or "default")
        if spec is None:
            return True  # dropped from the filter (a warning was recorded at compile time)
        if spec.accepted is not None and not all(v.lower() in spec.accepted for v in _split_list(term.value)):
            return False
        raw = spec.get(obj)
        values = raw if isinstance(raw, list | tuple | set | frozenset) else [raw]
        if spec.kind == "tag_not":
            return not _tag_match(values, term.value)
        if spec.kind == "tag":
            return _tag_match(values, term.value)
        return any(self._compare(spec.kind, value, term) for value in values)

    def _compare(self, kind: FieldKind, actual: Any, term: Term) -> bool:
        if actual is None:
            return False
        if kind == "time":
            return _compare_time(actual, term, self.now)
        if kind in ("id", "number"):
            return any(_compare_ordered(actual, _as_number(v, kind), term.comparator) for v in _split_list(term.value))
        if kind == "bool":
            return str(actual).lower() == term.value.lower()
        if kind == "text":
            return _text_match(str(actual), term.value)
        return any(_keyword_match(str(actual), v) for v in _split_list(term.value))


def compile_search(query: str | None, fields: Mapping[str, SearchField[T]], now: datetime) -> CompiledSearch[T]:
    tree = _Parser(_tokenize(query or "")).parse()
    compiled = CompiledSearch(query=query, tree=tree, fields=fields, now=now)
    for term in _terms(tree):
        name = term.field or "default"
        spec = fields.get(name)
        if spec is None:
            compiled.warnings.append({"field": name, "message": INVALID_FIELD_MESSAGE, "code": "invalid_field"})
        elif spec.kind == "time":
            _parse_time(term.value, term.field or name, now)  # raises SearchSyntaxError early
        elif spec.accepted is not None:
            for value in _split_list(term.value):
                if value.lower() not in spec.accepted:
                    compiled.warnings.append(
                        {
                            "field": name,
                            "message": f"Input `{value}` is not an accepted value.",
                            "code": "invalid_value",
                        }
                    )
    return compiled


def describe(node: Node) -> dict[str, Any]:
    if isinstance(node, Term):
        key = {":": "match_all", ":>": "range_gt", ":>=": "range_gte", ":<": "range_lt", ":<=": "range_lte"}
        return {"field": node.field or "default", key[node.comparator]: node.value}
    if isinstance(node, Not):
        return {"not": describe(node.operand)}
    if isinstance(node, All):
        return {"and": [describe(n) for n in node.operands]}
    return {"or": [describe(n) for n in node.operands]}


# ---- tokens and parser -------------------------------------------------------------------------------

_TERM = re.compile(r"^(?P<neg>-)?(?:(?P<field>[A-Za-z_][\w.]*)(?P<cmp>:>=|:<=|:>|:<|:))?(?P<value>.*)$", re.S)


def _tokenize(query: str) -> list[str]:
    tokens: list[str] = []
    current: list[str] = []
    quote: str | None = None
    for char in query:
        if quote:
            current.append(char)
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
            current.append(char)
        elif char.isspace() or char in "()":
            if current:
                tokens.append("".join(current))
                current = []
            if char in "()":
                tokens.append(char)
        else:
            current.append(char)
    if current:
        tokens.append("".join(current))
    return tokens


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.pos = 0

    def parse(self) -> Node | None:
        if not self.tokens:
            return None
        node = self._or()
        while self.pos < len(self.tokens):  # stray ")": keep going rather than fail like a strict parser
            self.pos += 1
            if self.pos < len(self.tokens):
                node = All((node, self._or()))
        return node

    def _peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _or(self) -> Node:
        operands = [self._and()]
        while self._peek() == "OR":
            self.pos += 1
            operands.append(self._and())
        return operands[0] if len(operands) == 1 else AnyOf(tuple(operands))

    def _and(self) -> Node:
        operands = [self._unary()]
        while (token := self._peek()) is not None and token not in ("OR", ")"):
            if token == "AND":
                self.pos += 1
                continue
            operands.append(self._unary())
        return operands[0] if len(operands) == 1 else All(tuple(operands))

    def _unary(self) -> Node:
        token = self._peek()
        if token == "NOT":
            self.pos += 1
            return Not(self._unary())
        if token == "(":
            self.pos += 1
            node = self._or()
            if self._peek() == ")":
                self.pos += 1
            return node
        self.pos += 1
        return _term(token or "")


def _term(token: str) -> Node:
    match = _TERM.match(token)
    assert match is not None  # the pattern accepts any string
    value = _unquote(match["value"])
    comparator = cast(Comparator, match["cmp"] or ":")
    term = Term(match["field"], comparator, value) if match["field"] else Term(None, ":", _unquote(token))
    return Not(term) if match["neg"] and match["field"] else term


def _terms(node: Node | None) -> list[Term]:
    if node is None:
        return []
    if isinstance(node, Term):
        return [node]
    if isinstance(node, Not):
        return _terms(node.operand)
    return [t for operand in node.operands for t in _terms(operand)]


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _split_list(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


# ---- comparisons -------------------------------------------------------------------------------------


def _normalise(value: str) -> str:
    return value.strip().casefold()


def _keyword_match(actual: str, wanted: str) -> bool:
    if wanted.endswith("*"):
        return _normalise(actual).startswith(_normalise(wanted[:-1]))
    return _normalise(actual) == _normalise(wanted)


def _text_match(actual: str, wanted: str) -> bool:
    """Free text: every word of the query appears in the value (prefix match with a trailing *)."""
    words = re.findall(r"\w+", actual.casefold())
    for raw in wanted.casefold().split():
        prefix = raw.endswith("*")
        token = raw.rstrip("*")
        if not any(w.startswith(token) if prefix else token in w for w in words):
            return False
    return True


def _tag_match(values: Iterable[Any], wanted: str) -> bool:
    tags = {_normalise(str(v)) for v in values}
    return any(_normalise(tag) in tags for tag in _split_list(wanted) or [wanted])


def _as_number(value: str, kind: str) -> float:
    if kind == "id":
        value = value.rsplit("/", 1)[-1]
    try:
        return float(value)
    except ValueError:
        return float("nan")  # never equal, never ordered: the term matches nothing


def _compare_ordered(actual: Any, wanted: float, comparator: Comparator) -> bool:
    number = float(actual)
    return {
        ":": number == wanted,
        ":>": number > wanted,
        ":>=": number >= wanted,
        ":<": number < wanted,
        ":<=": number <= wanted,
    }[comparator]


def _parse_time(value: str, field_name: str, now: datetime) -> tuple[datetime, datetime]:
    """The [start, end) interval a time value denotes: an instant, a whole day or a whole year."""
    text = value.strip()
    if text.lower() == "now":
        return now, now
    try:
        if re.fullmatch(r"\d{4}", text):
            start = datetime(int(text), 1, 1, tzinfo=UTC)
            return start, start.replace(year=start.year + 1)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            day = date.fromisoformat(text)
            start = datetime.combine(day, time(), tzinfo=UTC)
            return start, datetime.combine(date.fromordinal(day.toordinal() + 1), time(), tzinfo=UTC)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise SearchSyntaxError(f"Invalid timestamp for query filter `{field_name}`.") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment, moment


def _compare_time(actual: datetime, term: Term, now: datetime) -> bool:
    start, end = _parse_time(term.value, term.field or "default", now)
    moment = actual.replace(microsecond=0)  # Shopify timestamps have second precision
    if term.comparator == ":":
        return start <= moment < end if end > start else moment == start
    if term.comparator == ":>":
        return moment > start if end == start else moment >= end
    if term.comparator == ":>=":
        return moment >= start
    if term.comparator == ":<":
        return moment < start
    return moment <= start if end == start else moment < end

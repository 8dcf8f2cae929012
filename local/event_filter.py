"""Lambda event filtering (FilterCriteria), the EventBridge pattern syntax, for the local stream poller.

A pattern is a JSON object mirroring the record; its leaves are lists of matchers, any of which may match:
literal values, {"prefix"}, {"suffix"}, {"equals-ignore-case"}, {"wildcard"}, {"anything-but"}, {"numeric"},
{"exists"}; "$or" combines alternative sub-patterns. A record matches the criteria if any filter matches.
Patterns are compiled once, so a typo in template.yaml fails at start-up rather than silently dropping records.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

Matcher = Callable[[Any], bool]


class FilterPatternError(ValueError):
    pass


class _Missing:
    """The value of a key the record does not have (only {"exists": false} matches it)."""


MISSING = _Missing()

_STRING_OPERATORS = {"prefix", "suffix", "equals-ignore-case", "wildcard"}
_NUMERIC_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def compile_filters(patterns: Sequence[Mapping[str, Any]]) -> Callable[[Mapping[str, Any]], bool]:
    """One predicate for a function's FilterCriteria; no filters means every record passes."""
    if not patterns:
        return lambda record: True
    compiled = [compile_pattern(pattern) for pattern in patterns]
    return lambda record: any(matches(record) for matches in compiled)


def compile_pattern(pattern: Mapping[str, Any]) -> Matcher:
    if not isinstance(pattern, Mapping):
        raise FilterPatternError(f"a pattern must be an object, got {pattern!r}")
    checks: list[Matcher] = []
    for key, expected in pattern.items():
        if key == "$or":
            checks.append(_any_of([compile_pattern(alternative) for alternative in expected]))
        else:
            checks.append(_field_check(key, expected))
    return lambda value: all(check(value) for check in checks)


def _any_of(alternatives: list[Matcher]) -> Matcher:
    return lambda value: any(alternative(value) for alternative in alternatives)


def _field_check(key: str, expected: Any) -> Matcher:
    if isinstance(expected, Mapping):
        nested = compile_pattern(expected)
        return lambda value: nested(_child(value, key))
    if not isinstance(expected, list) or not expected:
        raise FilterPatternError(f"{key}: leaf patterns are non-empty lists of matchers, got {expected!r}")
    leaf_matchers = [_leaf_matcher(matcher) for matcher in expected]

    def check(value: Any) -> bool:
        actual = _child(value, key)
        candidates = actual if isinstance(actual, list) and actual else [actual]
        return any(match(candidate) for match in leaf_matchers for candidate in candidates)

    return check


def _child(value: Any, key: str) -> Any:
    return value.get(key, MISSING) if isinstance(value, Mapping) else MISSING


def _leaf_matcher(matcher: Any) -> Matcher:
    if not isinstance(matcher, Mapping):
        return lambda actual: actual is not MISSING and _equal(actual, matcher)
    if len(matcher) != 1:
        raise FilterPatternError(f"a matcher object has exactly one operator, got {matcher!r}")
    ((name, argument),) = matcher.items()
    if name == "exists":
        return lambda actual: (actual is not MISSING) is bool(argument)
    match_present = _present_value_matcher(name, argument)
    return lambda actual: actual is not MISSING and match_present(actual)


def _present_value_matcher(name: str, argument: Any) -> Matcher:
    if name in _STRING_OPERATORS:
        if not isinstance(argument, str):
            raise FilterPatternError(f"{name} takes a string, got {argument!r}")
        return _string_matcher(name, argument)
    if name == "anything-but":
        return _anything_but(argument)
    if name == "numeric":
        return _numeric(argument)
    raise FilterPatternError(f"matcher {name!r} is not supported locally")


def _string_matcher(name: str, text: str) -> Matcher:
    match name:
        case "prefix":
            return lambda actual: isinstance(actual, str) and actual.startswith(text)
        case "suffix":
            return lambda actual: isinstance(actual, str) and actual.endswith(text)
        case "equals-ignore-case":
            return lambda actual: isinstance(actual, str) and actual.casefold() == text.casefold()
        case _:  # wildcard: only "*" is special
            regex = re.compile(".*".join(re.escape(part) for part in text.split("*")), re.DOTALL)
            return lambda actual: isinstance(actual, str) and regex.fullmatch(actual) is not None


def _anything_but(argument: Any) -> Matcher:
    if isinstance(argument, Mapping):
        excluded = _present_value_matcher(*_single_item(argument))
        return lambda actual: not excluded(actual)
    excluded_values = argument if isinstance(argument, list) else [argument]
    return lambda actual: not any(_equal(actual, value) for value in excluded_values)


def _numeric(argument: Any) -> Matcher:
    if not isinstance(argument, list) or len(argument) % 2:
        raise FilterPatternError(f"numeric takes operator/number pairs, got {argument!r}")
    comparisons = []
    for symbol, bound in zip(argument[::2], argument[1::2], strict=True):
        if symbol not in _NUMERIC_OPERATORS or not _is_number(bound):
            raise FilterPatternError(f"numeric: bad comparison {symbol!r} {bound!r}")
        comparisons.append((_NUMERIC_OPERATORS[symbol], float(bound)))
    # JSON numbers only: DynamoDB's {"N": "5"} is a string, and AWS does not compare it numerically either.
    return lambda actual: _is_number(actual) and all(compare(float(actual), bound) for compare, bound in comparisons)


def _single_item(mapping: Mapping[str, Any]) -> tuple[str, Any]:
    if len(mapping) != 1:
        raise FilterPatternError(f"expected one operator, got {mapping!r}")
    ((name, argument),) = mapping.items()
    return name, argument


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _equal(actual: Any, expected: Any) -> bool:
    if _is_number(actual) and _is_number(expected):
        return float(actual) == float(expected)
    return type(actual) is type(expected) and actual == expected

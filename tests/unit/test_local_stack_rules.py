"""Pure rules of the local stack: FilterCriteria patterns, schedule expressions, template intrinsics."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from local.event_filter import FilterPatternError, compile_filters, compile_pattern
from local.scheduler import CronExpression, ScheduledFunction, ScheduleExpressionError
from local.template import SamTemplate, ScheduleEvent, TemplateError

MODIFY_PRODUCT: dict[str, Any] = {
    "eventName": "MODIFY",
    "dynamodb": {
        "Keys": {"PK": {"S": "PRODUCT#1"}, "SK": {"S": "SHOP#eu-child"}},
        "NewImage": {"type": {"S": "association"}, "PK": {"S": "PRODUCT#1"}, "qty": {"N": "5"}},
        "OldImage": {"type": {"S": "association"}},
    },
    "tags": ["a", "b"],
    "size": 7,
}


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"eventName": ["MODIFY"]}, True),
        ({"eventName": ["INSERT", "REMOVE"]}, False),
        ({"dynamodb": {"NewImage": {"type": {"S": ["association", "membership"]}}}}, True),
        ({"dynamodb": {"NewImage": {"PK": {"S": [{"prefix": "PRODUCT#"}]}}}}, True),
        ({"dynamodb": {"Keys": {"SK": {"S": [{"suffix": "#uk-child"}]}}}}, False),
        ({"dynamodb": {"NewImage": {"type": {"S": [{"anything-but": ["listing"]}]}}}}, True),
        ({"dynamodb": {"NewImage": {"type": {"S": [{"anything-but": {"prefix": "assoc"}}]}}}}, False),
        ({"dynamodb": {"NewImage": {"missing": {"S": [{"anything-but": "x"}]}}}}, False),  # needs the field
        ({"dynamodb": {"NewImage": {"missing": [{"exists": False}]}}}, True),
        ({"dynamodb": {"OldImage": {"type": [{"exists": True}]}}}, True),
        ({"dynamodb": {"NewImage": {"type": {"S": [{"equals-ignore-case": "ASSOCIATION"}]}}}}, True),
        ({"dynamodb": {"NewImage": {"type": {"S": [{"wildcard": "as*tion"}]}}}}, True),
        ({"dynamodb": {"NewImage": {"qty": {"N": [{"numeric": [">", 1]}]}}}}, False),  # N is a string
        ({"size": [{"numeric": [">", 1, "<=", 7]}]}, True),
        ({"size": [7.0]}, True),
        ({"tags": ["b"]}, True),  # any element of an array
        ({"$or": [{"eventName": ["INSERT"]}, {"size": [7]}]}, True),
        ({"eventName": ["MODIFY"], "size": [8]}, False),  # every field must match
    ],
)
def test_filter_patterns_match_like_lambda_event_filtering(pattern: dict[str, Any], expected: bool) -> None:
    assert compile_pattern(pattern)(MODIFY_PRODUCT) is expected


def test_filters_are_alternatives_and_no_filters_accept_everything() -> None:
    listing_or_remove = compile_filters([{"eventName": ["REMOVE"]}, {"size": [7]}])
    assert listing_or_remove(MODIFY_PRODUCT)
    assert compile_filters([])(MODIFY_PRODUCT)


@pytest.mark.parametrize(
    "pattern",
    [{"eventName": "MODIFY"}, {"eventName": [{"cidr": "10.0.0.0/24"}]}, {"size": [{"numeric": [">"]}]}],
)
def test_invalid_or_unsupported_patterns_fail_at_start_up(pattern: dict[str, Any]) -> None:
    with pytest.raises(FilterPatternError):
        compile_pattern(pattern)


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("0 3 * * ? *", "2026-12-04T04:12", "2026-12-05T03:00"),
        ("*/15 * * * ? *", "2026-12-04T04:12", "2026-12-04T04:15"),
        ("0 9 ? * MON-FRI *", "2026-12-04T10:00", "2026-12-07T09:00"),  # Friday → Monday
        ("30 6 1 JAN,JUL ? *", "2026-12-04T00:00", "2027-01-01T06:30"),
        ("0 0 ? * 1 *", "2026-12-04T00:00", "2026-12-06T00:00"),  # 1 = Sunday
    ],
)
def test_cron_next_run(expression: str, after: str, expected: str) -> None:
    moment = datetime.fromisoformat(after).replace(tzinfo=UTC)
    assert CronExpression.parse(expression).next_after(moment) == datetime.fromisoformat(expected).replace(tzinfo=UTC)


@pytest.mark.parametrize("expression", ["0 3 * * * *", "0 3 L * ? *", "rate(5 fortnights)", "cron(0 3 * *)"])
def test_bad_or_unsupported_schedule_expressions_are_rejected(expression: str) -> None:
    event = ScheduleEvent(name="S", expression=expression, input=None, enabled=True, timezone="UTC")
    with pytest.raises(ScheduleExpressionError):
        if expression.startswith(("rate", "cron")):
            ScheduledFunction.parse("Fn", event)
        else:
            CronExpression.parse(expression)


class Names:
    def ref(self, logical_id: str) -> str:
        return f"local-{logical_id}"

    def get_att(self, logical_id: str, attribute: str) -> str:
        return f"local-{logical_id}.{attribute}"


TEMPLATE = SamTemplate(
    {
        "Parameters": {"Environment": {"Type": "String", "AllowedValues": ["dev", "prod"], "Default": "dev"}},
        "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Environment"}, "prod"]}},
        "Globals": {"Function": {"Timeout": 30, "Environment": {"Variables": {"A": "global", "B": "global"}}}},
        "Resources": {
            "Fn": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "CodeUri": "functions/some_job/",
                    "Handler": "app.lambda_handler",
                    "Environment": {
                        "Variables": {
                            "B": "own",
                            "QUEUE": {"Fn::Sub": "${Queue.Arn}|${Queue}|${AWS::Region}|${!Literal}"},
                            "LEVEL": {"Fn::If": ["IsProd", "INFO", "DEBUG"]},
                            "FLAG": True,
                        }
                    },
                },
            },
            "Queue": {"Type": "AWS::SQS::Queue"},
        },
    }
)


def test_function_spec_merges_globals_and_resolves_intrinsics_to_local_names() -> None:
    spec = TEMPLATE.function("Fn")
    assert (spec.module, spec.attribute, spec.timeout_seconds) == ("functions.some_job.app", "lambda_handler", 30)
    assert TEMPLATE.function_environment(spec, Names()) == {
        "A": "global",
        "B": "own",
        "QUEUE": "local-Queue.Arn|local-Queue|us-east-1|${Literal}",
        "LEVEL": "DEBUG",
        "FLAG": "true",
    }


def test_parameters_are_checked_against_allowed_values() -> None:
    with pytest.raises(TemplateError):
        SamTemplate(TEMPLATE.document, {"Environment": "staging"})
    assert SamTemplate(TEMPLATE.document, {"Environment": "prod"}).condition("IsProd")

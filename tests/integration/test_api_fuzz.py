"""The API against its own OpenAPI document, with generated requests (schemathesis, bounded and derandomized):
never a 5xx, every 4xx a JSON body with a `reason`, and nothing stored from a request that was refused.

The requests go through the local stack's API Gateway proxy-event mapping into functions/api/app.lambda_handler,
in-process, with the demo stores registered in moto and the emulator behind them."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from werkzeug.wrappers import Request

from functions.api.app import lambda_handler as api_handler
from local.api_gateway import Route, lambda_response, proxy_event
from shopsync.api.app import openapi_json
from shopsync.settings import get_settings
from shopsync.store import functions
from tests.factories import lambda_context

EXAMPLES_PER_OPERATION = 5
PROXY_ROUTE = Route.from_template_path("/{proxy+}", "ANY", "ApiFunction")

schema = schemathesis.openapi.from_dict(json.loads(openapi_json()))


def api_gateway(environ: dict[str, Any], start_response: Any) -> Any:
    """A WSGI app doing what API Gateway does for the API function: proxy event in, proxy response out."""
    request = Request(environ)
    path_parameters = {"proxy": request.path.lstrip("/")}  # {proxy+} takes any path, also one with a newline
    event = proxy_event(request, PROXY_ROUTE, path_parameters, stage="test")
    return lambda_response(api_handler(event, lambda_context()))(environ, start_response)


schema.app = api_gateway


def stored_items() -> int:
    table = boto3.resource("dynamodb").Table(get_settings().table_name)
    return sum(page["Count"] for page in _scan_pages(table))


def _scan_pages(table: Any) -> Any:
    response = table.scan(Select="COUNT")
    yield response
    while "LastEvaluatedKey" in response:
        response = table.scan(Select="COUNT", ExclusiveStartKey=response["LastEvaluatedKey"])
        yield response


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_generated_requests_are_answered_or_refused_with_a_reason(case, demo_shops, monkeypatch):
    # Given: "run now" hands the run to its job function, which moto does not have: the hand-off is accepted
    monkeypatch.setattr(functions, "invoke_async", lambda function_name, payload: None)
    # And: what the table holds before the request
    before = stored_items()
    # When: the generated request reaches the API function
    response = case.call()
    # Then: never a server error
    assert response.status_code < 500, (case.method, case.formatted_path, response.text)
    # And: a refusal says why, as JSON, and stores nothing
    if 400 <= response.status_code < 500:
        body = response.json()
        assert isinstance(body, dict) and body.get("reason"), (case.method, case.formatted_path, response.text)
        assert stored_items() == before, (case.method, case.formatted_path, response.status_code)

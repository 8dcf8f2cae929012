"""Security guard rails of the deployment: IAM on every API route except Shopify's HMAC-signed webhook route."""

from __future__ import annotations

import json
from typing import Any

from local.template import load_document
from shopsync.api.app import openapi_json

RESOURCES: dict[str, Any] = load_document()["Resources"]


def api_events() -> list[tuple[str, dict[str, Any]]]:
    return [
        (function, event["Properties"])
        for function, resource in RESOURCES.items()
        if resource["Type"] == "AWS::Serverless::Function"
        for event in resource["Properties"].get("Events", {}).values()
        if event["Type"] == "Api"
    ]


def test_only_the_shopify_webhook_route_skips_iam_and_the_api_serves_it() -> None:
    # Given: the API routes that do not require IAM (Shopify cannot sign SigV4; it signs its deliveries with HMAC)
    open_routes = [
        (function, properties["Path"], properties["Method"])
        for function, properties in api_events()
        if properties.get("Auth", {}).get("Authorizer", "AWS_IAM") != "AWS_IAM"
    ]
    # Then: exactly the webhook route, POST only, on the API function whose app verifies the HMAC there
    assert open_routes == [("ApiFunction", "/webhooks/shopify", "POST")]
    assert "post" in json.loads(openapi_json())["paths"]["/webhooks/shopify"]

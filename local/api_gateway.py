"""API Gateway (REST, Lambda proxy integration) in front of the template's Api events, on loopback.

Each request becomes the proxy event API Gateway would send (resource, path, pathParameters, headers and
multi-value variants, query string, body with isBase64Encoded, requestContext with an IAM caller identity) and
the handler's answer is mapped back the way API Gateway maps it. Locally every request is treated as signed by
one local IAM user: AWS_IAM authorisation is not checked. `GET /health` is answered here, not by a function.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from local.http_server import BackgroundServer
from local.lambda_runtime import LocalLambdaRuntime
from local.template import LOCAL_ACCOUNT_ID

log = logging.getLogger("local.api")

MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway's request payload quota
HEALTH_PATH = "/health"
LOCAL_API_ID = "local"
LOCAL_CALLER = {
    "accountId": LOCAL_ACCOUNT_ID,
    "caller": "AIDALOCALDEVELOPER00",
    "user": "AIDALOCALDEVELOPER00",
    "userArn": f"arn:aws:iam::{LOCAL_ACCOUNT_ID}:user/local-developer",
    "accessKey": "AKIALOCALDEVELOPER00",
}


@dataclass(frozen=True)
class Route:
    resource: str  # the template path, e.g. /{proxy+}
    method: str  # ANY or an HTTP method
    function_name: str
    pattern: re.Pattern[str]

    @classmethod
    def from_template_path(cls, resource: str, method: str, function_name: str) -> Route:
        regex = ""
        for segment in resource.strip("/").split("/"):
            if greedy := re.fullmatch(r"\{(\w+)\+\}", segment):
                regex += f"/(?P<{greedy.group(1)}>.+)"
            elif parameter := re.fullmatch(r"\{(\w+)\}", segment):
                regex += f"/(?P<{parameter.group(1)}>[^/]+)"
            else:
                regex += "/" + re.escape(segment)
        return cls(resource, method, function_name, re.compile(regex or "/"))

    @property
    def specificity(self) -> tuple[int, int, int]:
        """API Gateway prefers literal segments over {parameters} over {greedy+}, and a method over ANY."""
        segments = self.resource.strip("/").split("/")
        literals = sum(not segment.startswith("{") for segment in segments)
        greedy = sum(segment.endswith("+}") for segment in segments)
        return (literals, -greedy, self.method != "ANY")


class ApiGatewayShim:
    """WSGI app: HTTP request → REST proxy event → handler (in-process) → HTTP response."""

    def __init__(self, runtime: LocalLambdaRuntime, *, stage: str, ready: bool = True) -> None:
        self._runtime = runtime
        self._stage = stage
        self._health: dict[str, Any] | None = {"status": "ok"} if ready else None
        routes = [
            Route.from_template_path(event.path, event.method, name)
            for name in runtime.function_names
            for event in runtime.spec(name).api_routes
        ]
        self.routes = sorted(routes, key=lambda route: route.specificity, reverse=True)

    def mark_ready(self, **details: Any) -> None:
        """From now on /health answers 200 with these details."""
        self._health = {"status": "ok", **details}

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        started = time.monotonic()
        response = self._respond(request)
        elapsed_ms = (time.monotonic() - started) * 1000
        log.info(
            "%s %s -> %d (%.0f ms)", request.method, request.full_path.rstrip("?"), response.status_code, elapsed_ms
        )
        return response(environ, start_response)

    def _respond(self, request: Request) -> Response:
        if request.path == HEALTH_PATH and request.method == "GET":
            if self._health is None:
                return _json_response(503, {"status": "starting"})
            return _json_response(200, self._health)
        if request.content_length and request.content_length > MAX_PAYLOAD_BYTES:
            return _json_response(413, {"message": "Request Too Long"})
        for route in self.routes:
            match = route.pattern.fullmatch(request.path)
            if match and route.method in {"ANY", request.method}:
                event = proxy_event(request, route, match.groupdict(), self._stage)
                return self._invoke(route.function_name, event)
        # What API Gateway answers for a path or method no resource defines.
        return _json_response(
            403,
            {"message": "Missing Authentication Token"},
            {"x-amzn-ErrorType": "MissingAuthenticationTokenException"},
        )

    def _invoke(self, function_name: str, event: dict[str, Any]) -> Response:
        result = self._runtime.invoke(function_name, event)
        if result.failed or not _is_proxy_response(result.payload):
            # API Gateway's answer to a failed function or a malformed proxy response.
            return _json_response(502, {"message": "Internal server error"})
        return lambda_response(result.payload)


def proxy_event(request: Request, route: Route, path_parameters: Mapping[str, str], stage: str) -> dict[str, Any]:
    headers: dict[str, list[str]] = {}
    for name, value in request.headers.items():
        headers.setdefault(name, []).append(value)
    query: dict[str, list[str]] = {name: request.args.getlist(name) for name in request.args}
    body, is_base64 = _event_body(request.get_data())
    now = datetime.now(UTC)
    source_ip = request.remote_addr or "127.0.0.1"
    user_agent = request.headers.get("User-Agent")
    return {
        "resource": route.resource,
        "path": request.path,
        "httpMethod": request.method,
        # With repeated headers or parameters, API Gateway keeps the last value in the single-value maps.
        "headers": {name: values[-1] for name, values in headers.items()} or None,
        "multiValueHeaders": headers or None,
        "queryStringParameters": {name: values[-1] for name, values in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": dict(path_parameters) or None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": LOCAL_API_ID,
            "resourcePath": route.resource,
            "httpMethod": request.method,
            "extendedRequestId": uuid.uuid4().hex,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            # The path as requested: locally there is no stage prefix (like a custom domain), so resolvers that
            # derive their base path from it (Powertools' Swagger page) point at the local URLs.
            "path": request.path,
            "accountId": LOCAL_ACCOUNT_ID,
            "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
            "stage": stage,
            "domainPrefix": request.host.split(".")[0],
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "requestId": str(uuid.uuid4()),
            "identity": {
                "cognitoIdentityPoolId": None,
                "cognitoIdentityId": None,
                "principalOrgId": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "sourceIp": source_ip,
                "userAgent": user_agent,
                **LOCAL_CALLER,
            },
            "domainName": request.host,
            "apiId": LOCAL_API_ID,
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }


def lambda_response(payload: Mapping[str, Any]) -> Response:
    body = payload.get("body") or ""
    data = base64.b64decode(body) if payload.get("isBase64Encoded") else str(body).encode()
    response = Response(data, status=int(payload["statusCode"]))
    response.headers.pop("Content-Type")
    for name, value in (payload.get("headers") or {}).items():
        response.headers[name] = str(value)
    for name, values in (payload.get("multiValueHeaders") or {}).items():
        response.headers.remove(name)  # API Gateway merges both maps; the multi-value one wins for a name
        for value in values:
            response.headers.add(name, str(value))
    if "Content-Type" not in response.headers:
        response.headers["Content-Type"] = "application/json"  # API Gateway's default
    return response


def _event_body(data: bytes) -> tuple[str | None, bool]:
    if not data:
        return None, False
    try:
        return data.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(data).decode(), True


def _is_proxy_response(payload: Any) -> bool:
    return isinstance(payload, dict) and isinstance(payload.get("statusCode"), int)


def _json_response(status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json", headers=dict(headers or {}))


def serve_api(shim: ApiGatewayShim, port: int = 0) -> BackgroundServer:
    server = BackgroundServer(shim, port=port, name="api-gateway")
    server.start()
    return server

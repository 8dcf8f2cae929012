"""The Lambda Invoke API on loopback, so application code calls `lambda.invoke` exactly as it does in AWS.

The stack points AWS_ENDPOINT_URL_LAMBDA here; function names are the template's logical ids (what the local
environment sets PRODUCT_IMPORT_FUNCTION etc. to). Full ARNs and qualifiers are accepted and ignored.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from local.http_server import BackgroundServer
from local.lambda_runtime import LocalLambdaRuntime
from local.template import function_arn

# Lambda's payload quotas: asynchronous invocations are much smaller than synchronous ones.
MAX_ASYNC_PAYLOAD_BYTES = 256 * 1024
MAX_SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024

_ROUTES = Map([Rule("/2015-03-31/functions/<path:function_name>/invocations", methods=["POST"], endpoint="invoke")])


class LambdaInvokeApi:
    """WSGI app implementing Invoke (RequestResponse, Event, DryRun) on a LocalLambdaRuntime."""

    def __init__(self, runtime: LocalLambdaRuntime) -> None:
        self._runtime = runtime

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        try:
            _, arguments = _ROUTES.bind_to_environ(environ).match()
            response = self._invoke(request, _function_name(arguments["function_name"]))
        except NotFound:
            response = _aws_error(404, "UnknownOperationException", f"no local Lambda operation at {request.path}")
        except HTTPException as error:
            response = _aws_error(error.code or 400, "InvalidRequestContentException", str(error))
        return response(environ, start_response)

    def _invoke(self, request: Request, function_name: str) -> Response:
        invocation_type = request.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        event = _read_event(request, function_name, invocation_type, self._runtime.function_names)
        if isinstance(event, Response):
            return event
        match invocation_type:
            case "DryRun":
                return Response(status=204)
            case "Event":
                self._runtime.invoke_async(function_name, event)
                return Response(status=202)
            case "RequestResponse":
                result = self._runtime.invoke(function_name, event)
                response = Response(
                    json.dumps(result.error if result.failed else result.payload),
                    status=200,
                    content_type="application/json",
                    headers={"X-Amz-Executed-Version": "$LATEST", "X-Amzn-RequestId": result.request_id},
                )
                if result.failed:
                    response.headers["X-Amz-Function-Error"] = "Unhandled"
                return response
            case _:
                return _aws_error(400, "InvalidParameterValueException", f"bad InvocationType {invocation_type!r}")


def _read_event(request: Request, function_name: str, invocation_type: str, known: list[str]) -> Any:
    """The JSON payload, or the error Response Lambda would answer instead."""
    if function_name not in known:
        return _aws_error(404, "ResourceNotFoundException", f"Function not found: {function_arn(function_name)}")
    body = request.get_data()
    limit = MAX_ASYNC_PAYLOAD_BYTES if invocation_type == "Event" else MAX_SYNC_PAYLOAD_BYTES
    if len(body) > limit:
        return _aws_error(413, "RequestTooLargeException", f"Request must be smaller than {limit} bytes")
    try:
        return json.loads(body) if body else {}
    except json.JSONDecodeError as error:
        return _aws_error(400, "InvalidRequestContentException", f"Could not parse request body into json: {error}")


def _function_name(raw: str) -> str:
    """name | name:qualifier | account:function:name | arn:aws:lambda:region:account:function:name[:qualifier]."""
    name = unquote(raw)
    if ":function:" in name:
        name = name.split(":function:", 1)[1]
    return name.split(":", 1)[0]


def _aws_error(status: int, error_type: str, message: str) -> Response:
    # botocore reads the error code from this header for rest-json services.
    return Response(
        json.dumps({"Type": "User", "message": message}),
        status=status,
        content_type="application/json",
        headers={"x-amzn-ErrorType": error_type},
    )


def serve_lambda_api(runtime: LocalLambdaRuntime, port: int = 0) -> BackgroundServer:
    server = BackgroundServer(LambdaInvokeApi(runtime), port=port, name="lambda-invoke")
    server.start()
    return server

"""The resolver: routers, error mapping (every error is JSON with a reason), OpenAPI."""

from __future__ import annotations

import traceback
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from shopsync.api import associations, diagnosis, docs, jobs, orders, preorder, presell, products, shops
from shopsync.errors import ShopsyncError
from shopsync.observability import logger

API_TITLE = "shopsync"
API_VERSION = "1.0.0"


app = APIGatewayRestResolver(enable_validation=True)
app.include_router(shops.router)
app.include_router(jobs.router)
app.include_router(presell.router)
app.include_router(products.router)
app.include_router(associations.router)
app.include_router(preorder.router)
app.include_router(orders.router)
app.include_router(diagnosis.router)
app.include_router(docs.router)
app.enable_swagger(path="/swagger", title=API_TITLE, version=API_VERSION, swagger_base_url=docs.SWAGGER_BASE_URL)


def _json(status: int, body: dict[str, Any]) -> Response[dict[str, Any]]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


@app.exception_handler(ShopsyncError)
def handle_domain_error(error: ShopsyncError) -> Response[dict[str, Any]]:
    logger.info("request refused", extra={"status": error.status_code, "reason": error.reason})
    return _json(error.status_code, {"error": type(error).__name__, "reason": error.reason, **error.details})


@app.exception_handler(RequestValidationError)
def handle_validation_error(error: RequestValidationError) -> Response[dict[str, Any]]:
    problems = [
        {"loc": list(problem.get("loc", ())), "msg": problem.get("msg", ""), "type": problem.get("type", "")}
        for problem in error.errors()
    ]
    reason = "; ".join(f"{'.'.join(str(p) for p in problem['loc'])}: {problem['msg']}" for problem in problems)
    return _json(422, {"error": "ValidationError", "reason": reason or "invalid request", "detail": problems})


@app.exception_handler(RequestUnsupportedContentType)
def handle_unsupported_content_type(error: RequestUnsupportedContentType) -> Response[dict[str, Any]]:
    content_type = app.current_event.headers.get("content-type")
    return _json(415, {"error": "UnsupportedMediaType", "reason": f"content-type {content_type!r} is not accepted"})


@app.exception_handler(ValueError)
def handle_unreadable_body(error: ValueError) -> Response[dict[str, Any]]:
    """The request validation could not read the body (multipart without its boundary, bytes that are not UTF-8):
    the caller's fault. A ValueError from anywhere else is a bug and stays one."""
    frames = traceback.extract_tb(error.__traceback__)
    if not any(frame.filename.endswith("openapi_validation.py") and frame.name == "_get_body" for frame in frames):
        raise error
    return _json(400, {"error": "InvalidRequest", "reason": f"the body cannot be read: {error}"})


@app.not_found
def handle_unknown_route(_error: Exception) -> Response[dict[str, Any]]:
    """A path or method the API does not have: JSON with a reason like every other refusal."""
    event = app.current_event
    return _json(404, {"error": "NotFound", "reason": f"no route for {event.http_method} {event.path}"})


def openapi_json() -> str:
    return app.get_openapi_json_schema(title=API_TITLE, version=API_VERSION)

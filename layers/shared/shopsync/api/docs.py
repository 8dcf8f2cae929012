"""API documentation: the OpenAPI document comes from the resolver (`/swagger?format=json`), the Swagger UI page at
`/swagger` loads its script and styles from `/swagger/assets/`, served from files shipped in the layer
(swagger_ui/SOURCE.md), never from a CDN."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path as PathParam
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from shopsync.errors import NotFound

ASSETS_DIR = Path(__file__).resolve().parent / "swagger_ui"
# Relative, so the page finds its assets under the stage prefix in API Gateway (/dev/swagger → /dev/swagger/assets)
# as well as locally (/swagger → /swagger/assets).
SWAGGER_BASE_URL = "swagger/assets"
# The names Powertools' Swagger page asks for → the swagger-ui-dist files (already minified) and their types.
ASSETS = {
    "swagger-ui-bundle.min.js": ("swagger-ui-bundle.js", "application/javascript; charset=utf-8"),
    "swagger-ui.min.css": ("swagger-ui.css", "text/css; charset=utf-8"),
}

router = APIGatewayRouter()


@lru_cache(maxsize=len(ASSETS))
def _asset_text(file_name: str) -> str:
    return (ASSETS_DIR / file_name).read_text(encoding="utf-8")


@router.get("/swagger/assets/<asset>", include_in_schema=False)
def swagger_asset(asset: Annotated[str, PathParam(max_length=64)]) -> Response[str]:
    if asset not in ASSETS:
        raise NotFound(f"no Swagger UI asset {asset}", asset=asset)
    file_name, content_type = ASSETS[asset]
    return Response(
        status_code=200,
        content_type=content_type,
        body=_asset_text(file_name),
        headers={"Cache-Control": "public, max-age=86400"},
    )

"""Path parameters several routers share, declared once so validation and OpenAPI agree."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path

ProductIdPath = Annotated[str, Path(pattern=r"^\d{1,20}$", description="catalog product id (parent variant id)")]

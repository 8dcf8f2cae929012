"""Shopify access tokens from Secrets Manager (cached briefly; never logged)."""

from __future__ import annotations

import json

from aws_lambda_powertools.utilities import parameters

from shopsync.settings import get_settings


class SecretUnavailable(Exception):
    pass


def get_access_token(secret_name: str) -> str:
    """The token stored in the secret: a plain string, or JSON with an "access_token" key."""
    try:
        value = parameters.get_secret(secret_name, max_age=get_settings().secret_cache_seconds)
    except parameters.exceptions.GetParameterError as error:
        # The message names the secret only; the provider's error text never holds the value.
        raise SecretUnavailable(f"secret {secret_name!r} could not be read") from error
    text = value.decode() if isinstance(value, bytes) else str(value)
    if text.lstrip().startswith("{"):
        try:
            token = json.loads(text).get("access_token", "")
        except json.JSONDecodeError as error:
            raise SecretUnavailable(f"secret {secret_name!r} is not valid JSON") from error
    else:
        token = text.strip()
    if not token:
        raise SecretUnavailable(f"secret {secret_name!r} holds no access token")
    return str(token)


def clear_cache() -> None:
    parameters.clear_caches()

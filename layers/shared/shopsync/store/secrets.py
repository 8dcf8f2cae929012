"""Shopify access tokens and webhook keys from Secrets Manager (cached briefly; never logged)."""

from __future__ import annotations

import json

from aws_lambda_powertools.utilities import parameters

from shopsync.settings import get_settings


class SecretUnavailable(Exception):
    pass


def _secret_value(secret_name: str, json_key: str) -> str:
    """The secret as a plain string, or the `json_key` member when it holds a JSON object."""
    try:
        value = parameters.get_secret(secret_name, max_age=get_settings().secret_cache_seconds)
    except parameters.exceptions.GetParameterError as error:
        # The message names the secret only; the provider's error text never holds the value.
        raise SecretUnavailable(f"secret {secret_name!r} could not be read") from error
    text = value.decode() if isinstance(value, bytes) else str(value)
    if text.lstrip().startswith("{"):
        try:
            found = json.loads(text).get(json_key, "")
        except json.JSONDecodeError as error:
            raise SecretUnavailable(f"secret {secret_name!r} is not valid JSON") from error
    else:
        found = text.strip()
    if not found:
        raise SecretUnavailable(f"secret {secret_name!r} holds no {json_key.replace('_', ' ')}")
    return str(found)


def get_access_token(secret_name: str) -> str:
    """The Admin API token: the secret's text, or its "access_token" JSON member."""
    return _secret_value(secret_name, "access_token")


def get_webhook_secret(secret_name: str) -> str:
    """The key a store signs its webhooks with: the secret's text, or its "webhook_secret" JSON member."""
    return _secret_value(secret_name, "webhook_secret")


def clear_cache() -> None:
    parameters.clear_caches()

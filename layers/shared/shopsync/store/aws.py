"""Lazily built, cached boto3 clients. Clients (unlike resources) are thread-safe, which the local stack relies on."""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_scheduler import EventBridgeSchedulerClient

# boto3's session is not safe to build clients from concurrently.
_session_lock = threading.Lock()
_RETRIES = Config(retries={"max_attempts": 5, "mode": "standard"})


@lru_cache(maxsize=1)
def dynamodb_client() -> DynamoDBClient:
    with _session_lock:
        return boto3.session.Session().client("dynamodb", config=_RETRIES)


@lru_cache(maxsize=1)
def lambda_client() -> LambdaClient:
    with _session_lock:
        return boto3.session.Session().client("lambda", config=_RETRIES)


@lru_cache(maxsize=1)
def scheduler_client() -> EventBridgeSchedulerClient:
    with _session_lock:
        return boto3.session.Session().client("scheduler", config=_RETRIES)


def reset_clients() -> None:
    """Forget cached clients (tests point the environment at a new moto endpoint)."""
    dynamodb_client.cache_clear()
    lambda_client.cache_clear()
    scheduler_client.cache_clear()

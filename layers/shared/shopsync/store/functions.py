"""Asynchronous invocation of the job Lambdas ("run now")."""

from __future__ import annotations

import json
from typing import Any

from shopsync.store.aws import lambda_client


class InvokeFailed(Exception):
    pass


def invoke_async(function_name: str, payload: dict[str, Any]) -> None:
    response = lambda_client().invoke(
        FunctionName=function_name, InvocationType="Event", Payload=json.dumps(payload).encode()
    )
    if response.get("StatusCode") != 202:
        raise InvokeFailed(f"{function_name} did not accept the invocation (status {response.get('StatusCode')})")

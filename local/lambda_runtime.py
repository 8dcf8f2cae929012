"""The template's functions run in this process, with Lambda's invocation semantics.

Synchronous invocations return the handler's result or its error payload. Asynchronous invocations (the
Invoke API's "Event" type, schedules) run on a background thread, are retried per the function's
EventInvokeConfig MaximumRetryAttempts and then go to its OnFailure queue as an invocation record, as in AWS.

One invocation at a time per function, like a function with a single execution environment: Powertools keeps
per-invocation state (appended log keys, the metric buffer) in module globals, which concurrent invocations of
the same handler would mix up.
"""

from __future__ import annotations

import importlib
import json
import logging
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3

from local.lambda_context import LambdaContext
from local.template import FunctionSpec, ResourceNames

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

Handler = Callable[[Any, Any], Any]

log = logging.getLogger("local.lambda")


class UnknownFunction(LookupError):
    pass


@dataclass(frozen=True)
class InvocationResult:
    request_id: str
    payload: Any  # the handler's return value, JSON round-tripped as Lambda does
    error: dict[str, Any] | None  # Lambda's error payload (errorMessage, errorType, stackTrace) when it failed

    @property
    def failed(self) -> bool:
        return self.error is not None


class FailureDestinations:
    """Sends records to the template's on-failure queues (SQS in moto)."""

    def __init__(self, names: ResourceNames) -> None:
        self._names = names
        self._client_lock = threading.Lock()
        self._client: SQSClient | None = None

    def send(self, queue_logical_id: str, record: Mapping[str, Any]) -> None:
        with self._client_lock:
            if self._client is None:
                self._client = boto3.client("sqs")
            client = self._client
        client.send_message(QueueUrl=self._names.ref(queue_logical_id), MessageBody=json.dumps(record, default=str))


class LocalLambdaRuntime:
    def __init__(
        self,
        functions: Mapping[str, FunctionSpec],
        destinations: FailureDestinations,
        *,
        handlers: Mapping[str, Handler] | None = None,
        async_retry_delay_seconds: float = 1.0,
    ) -> None:
        """`handlers` replaces the template's handler of some functions (tests use stand-ins)."""
        self._functions = dict(functions)
        self._destinations = destinations
        self._handlers: dict[str, Handler] = dict(handlers or {})
        self._function_locks = {name: threading.Lock() for name in self._functions}
        self._import_lock = threading.Lock()
        self._async_retry_delay_seconds = async_retry_delay_seconds
        self._in_flight = 0
        self._in_flight_changed = threading.Condition()

    @property
    def function_names(self) -> list[str]:
        return list(self._functions)

    def spec(self, function_name: str) -> FunctionSpec:
        try:
            return self._functions[function_name]
        except KeyError:
            raise UnknownFunction(function_name) from None

    def handler(self, function_name: str) -> Handler:
        spec = self.spec(function_name)
        with self._import_lock:
            if function_name not in self._handlers:
                # Imported on first use, like a cold start: the functions need not exist to start the stack.
                module = importlib.import_module(spec.module)
                self._handlers[function_name] = getattr(module, spec.attribute)
            return self._handlers[function_name]

    def invoke(self, function_name: str, event: Any) -> InvocationResult:
        """RequestResponse: run now, on this thread, and return what the handler returned or raised."""
        spec = self.spec(function_name)
        context = LambdaContext.for_function(spec)
        request = json.loads(json.dumps(event))  # the handler gets its own copy, as over the wire
        try:
            handler = self.handler(function_name)
        except Exception as error:  # Lambda reports a broken module as a function error too
            log.exception("%s could not be imported", function_name)
            return InvocationResult(context.aws_request_id, None, _error_payload(error, "Runtime.ImportModuleError"))
        with self._function_locks[function_name]:
            try:
                result = handler(request, context)
                payload = json.loads(json.dumps(result))
            except Exception as error:
                log.exception("%s failed (request %s)", function_name, context.aws_request_id)
                return InvocationResult(context.aws_request_id, None, _error_payload(error))
        if context.timed_out:
            # Lambda would have stopped the function at the deadline; a thread cannot be stopped, so say so.
            log.error("%s ran past its %d s timeout", function_name, spec.timeout_seconds)
            timeout_error = {
                "errorType": "Sandbox.Timedout",
                "errorMessage": f"Task timed out after {spec.timeout_seconds:.2f} seconds",
            }
            return InvocationResult(context.aws_request_id, None, timeout_error)
        return InvocationResult(context.aws_request_id, payload, None)

    def invoke_async(self, function_name: str, event: Any) -> None:
        """Event: accepted now, run in the background with retries, then the on-failure destination."""
        self.spec(function_name)  # unknown functions fail the caller, not the background thread
        with self._in_flight_changed:
            self._in_flight += 1
        threading.Thread(
            target=self._run_async, args=(function_name, event), name=f"async-{function_name}", daemon=True
        ).start()

    def wait_until_idle(self, timeout_seconds: float = 10.0) -> bool:
        """True once every asynchronous invocation (retries and on-failure delivery included) has finished."""
        with self._in_flight_changed:
            return self._in_flight_changed.wait_for(lambda: self._in_flight == 0, timeout=timeout_seconds)

    def _run_async(self, function_name: str, event: Any) -> None:
        try:
            config = self.spec(function_name).async_config
            attempts = 1 + config.maximum_retry_attempts
            for attempt in range(1, attempts + 1):
                result = self.invoke(function_name, event)
                if not result.failed:
                    return
                if attempt < attempts:
                    time.sleep(self._async_retry_delay_seconds)
            log.error("%s: asynchronous invocation failed %d times", function_name, attempts)
            if config.on_failure_queue_logical_id:
                record = self._invocation_record(function_name, event, result, attempts)
                self._destinations.send(config.on_failure_queue_logical_id, record)
        except Exception:
            log.exception("%s: asynchronous invocation could not be completed", function_name)
        finally:
            with self._in_flight_changed:
                self._in_flight -= 1
                self._in_flight_changed.notify_all()

    def _invocation_record(
        self, function_name: str, event: Any, result: InvocationResult, attempts: int
    ) -> dict[str, Any]:
        context = LambdaContext.for_function(self.spec(function_name))
        return {
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "requestContext": {
                "requestId": result.request_id,
                "functionArn": f"{context.invoked_function_arn}:$LATEST",
                "condition": "RetriesExhausted",
                "approximateInvokeCount": attempts,
            },
            "requestPayload": event,
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "responsePayload": result.error,
        }


def _error_payload(error: BaseException, error_type: str | None = None) -> dict[str, Any]:
    return {
        "errorMessage": str(error),
        "errorType": error_type or type(error).__name__,
        "stackTrace": traceback.format_tb(error.__traceback__),
    }

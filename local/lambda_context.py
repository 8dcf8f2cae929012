"""The `context` object a handler receives, with a real deadline taken from the template's Timeout."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

from local.template import FunctionSpec, function_arn


@dataclass
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int
    timeout_seconds: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    _deadline: float = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds

    @classmethod
    def for_function(cls, spec: FunctionSpec) -> LambdaContext:
        return cls(
            function_name=spec.logical_id, memory_limit_in_mb=spec.memory_mb, timeout_seconds=spec.timeout_seconds
        )

    @property
    def invoked_function_arn(self) -> str:
        return function_arn(self.function_name)

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"local/[{self.function_version}]{self.aws_request_id}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))

    @property
    def timed_out(self) -> bool:
        return time.monotonic() > self._deadline

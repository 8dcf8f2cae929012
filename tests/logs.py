"""Every log line a run writes, for the checks that no token or secret is ever logged."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from shopsync.observability import logger


class CapturedLogLines(logging.Handler):
    """Log lines as the functions write them (Powertools' JSON), from shopsync and the libraries."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logger.registered_formatter)

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@contextmanager
def captured_log_lines() -> Iterator[list[str]]:
    """The lines logged at INFO and above anywhere in the process while the block runs."""
    captured = CapturedLogLines()
    root = logging.getLogger()
    root_level = root.level
    root.addHandler(captured)
    root.setLevel(logging.INFO)
    try:
        yield captured.lines
    finally:
        root.removeHandler(captured)
        root.setLevel(root_level)


def leaked(lines: Iterable[str], secrets: Iterable[str]) -> list[tuple[str, str]]:
    """(secret, line) for every line holding one of the secrets."""
    wanted = [secret for secret in secrets if secret]
    return [(secret, line) for line in lines for secret in wanted if secret in line]

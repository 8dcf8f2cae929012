"""Test environment: set before any handler or shared module is imported, so nothing talks to real AWS."""

from __future__ import annotations

import os

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "TABLE_NAME": "shopsync-test",
        "ENVIRONMENT": "test",
        "POWERTOOLS_SERVICE_NAME": "shopsync",
        "POWERTOOLS_METRICS_NAMESPACE": "ShopSync",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_DEV": "false",
        "DEADLINE_MARGIN_MS": "10000",
        "BULK_POLL_INTERVAL_S": "0.2",
    }
)
for _endpoint in [name for name in os.environ if name.startswith("AWS_ENDPOINT_URL")]:
    del os.environ[_endpoint]

from collections.abc import Iterator  # noqa: E402

import pytest  # noqa: E402
from moto import mock_aws  # noqa: E402

from shopsync.observability import metrics  # noqa: E402
from shopsync.process import reset_process_state  # noqa: E402
from shopsync.settings import get_settings  # noqa: E402
from tests.factories import create_table_from_template  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_state() -> Iterator[None]:
    reset_process_state()
    metrics.clear_metrics()
    yield
    metrics.clear_metrics()


@pytest.fixture
def aws_table() -> Iterator[str]:
    """moto in-process with the table built from template.yaml."""
    with mock_aws():
        reset_process_state()
        yield create_table_from_template(get_settings().table_name)
    reset_process_state()


_FIGURE = "figure: "


@pytest.fixture
def report_figure(record_property):
    """Tests that measure something (e.g. the storm's sell-through) print it in the run's summary. Recorded as a
    report property, so it also reaches the summary from xdist workers."""
    return lambda name, value: record_property(_FIGURE + name, value)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    figures = [
        (name.removeprefix(_FIGURE), value)
        for report in terminalreporter.stats.get("passed", []) + terminalreporter.stats.get("failed", [])
        for name, value in getattr(report, "user_properties", [])
        if name.startswith(_FIGURE)
    ]
    if figures:
        terminalreporter.section("measured by tests")
        for name, value in figures:
            terminalreporter.write_line(f"{name}: {value}")

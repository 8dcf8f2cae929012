"""The pre-order sync's EMF metrics: how late its pushes land and how many oversells Shopify's compare-and-set
refused."""

from __future__ import annotations

from datetime import timedelta

from shopsync.jobs.clock import utc_now
from shopsync.observability import metrics
from shopsync.preorder.sync import STALE_QUANTITY, SyncReport, _emit_metrics


def _emitted() -> dict[str, list[float]]:
    serialized = metrics.serialize_metric_set()
    names = [m["Name"] for m in serialized["_aws"]["CloudWatchMetrics"][0]["Metrics"]]
    return {name: serialized[name] if isinstance(serialized[name], list) else [serialized[name]] for name in names}


def test_sync_emits_its_lag_and_the_oversells_it_prevented() -> None:
    # Given a sync asked for 3 s ago that pushed one listing and had two moves refused as stale
    report = SyncReport(
        pushed=["1001/us-parent"],
        failed={
            "1001/eu-child": f"{STALE_QUANTITY}; will re-read and retry (changeFromQuantity mismatch)",
            "1001/uk-child": f"{STALE_QUANTITY}; will re-read and retry (changeFromQuantity mismatch)",
            "1002/uk-child": "ShopifyUserErrors: Variant is locked",
        },
    )
    # When its metrics are emitted
    _emit_metrics(report, utc_now() - timedelta(seconds=3))
    # Then the lag is the time since it was asked for, and only the stale moves count as oversells prevented
    emitted = _emitted()
    assert 3 <= emitted["SyncLag"][0] < 10
    assert emitted["OversellPrevented"] == [2]


def test_a_sync_that_pushed_nothing_has_no_lag() -> None:
    _emit_metrics(SyncReport(unchanged=["1001/us-parent"]), utc_now())
    emitted = _emitted()
    assert "SyncLag" not in emitted and emitted["OversellPrevented"] == [0]

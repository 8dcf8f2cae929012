"""One order's checklist: imported or failed (every reason), its versions, and whether the order import job for its
store is switched on and healthy."""

from __future__ import annotations

from datetime import datetime

from shopsync.diagnosis.products import job_findings
from shopsync.errors import NotFound
from shopsync.jobs.control import store_status
from shopsync.models.diagnosis import Finding, JobHealth, OrderDiagnosis, OrderVersionSummary, Severity, SuggestedAction
from shopsync.models.jobs import JobName
from shopsync.models.orders import order_id_for
from shopsync.store import orders as order_store
from shopsync.store import shops as shop_store


def _reimport(shop_id: str, legacy_id: str, why: str) -> SuggestedAction:
    return SuggestedAction(description=why, method="POST", path=f"/shops/{shop_id}/orders/{legacy_id}/import")


def diagnose_order(shop_id: str, legacy_id: str, now: datetime) -> OrderDiagnosis:
    if shop_store.get_shop(shop_id) is None:
        raise NotFound(f"shop {shop_id} is not registered", shop_id=shop_id)
    order_id = order_id_for(shop_id, legacy_id)
    detail = order_store.get_order_detail(order_id)
    health = JobHealth(job=JobName.ORDER_IMPORT, status=store_status(JobName.ORDER_IMPORT, shop_id, now))
    findings: list[Finding] = []
    if detail is None:
        findings.append(
            Finding(
                check="order",
                severity=Severity.ERROR,
                shop_id=shop_id,
                message=f"order {legacy_id} of {shop_id} was neither imported nor recorded as failed",
                action=_reimport(shop_id, legacy_id, "read it from Shopify and import it now"),
            )
        )
    else:
        if detail.failure is not None:
            failure = detail.failure
            retry = (
                f"next automatic retry {failure.next_attempt_at:%Y-%m-%d %H:%M} UTC"
                if failure.next_attempt_at
                else "no automatic retry left"
            )
            reasons = "; ".join(f"{problem.reason}: {problem.message}" for problem in failure.problems)
            findings.append(
                Finding(
                    check="order",
                    severity=Severity.ERROR,
                    shop_id=shop_id,
                    message=f"import failed {failure.attempts} time(s) ({retry}): {reasons}",
                    action=_reimport(shop_id, legacy_id, "fix the order in Shopify, then re-import it"),
                )
            )
        if detail.current_version is not None:
            current = detail.versions[0] if detail.versions else None
            status = f", {current.status}" if current else ""
            findings.append(
                Finding(
                    check="order",
                    severity=Severity.OK,
                    shop_id=shop_id,
                    message=f"imported: version {detail.current_version} of {len(detail.versions)}{status}",
                )
            )
    findings += job_findings(health, f"orders of {shop_id} are not imported (webhooks still are)")
    versions = [
        OrderVersionSummary(
            version=version.version,
            status=version.status,
            tags=version.tags,
            imported_at=version.imported_at,
            superseded_at=version.superseded_at,
        )
        for version in (detail.versions if detail else [])
    ]
    return OrderDiagnosis(
        order_id=order_id,
        shop_id=shop_id,
        imported=detail is not None and detail.current_version is not None,
        current_version=detail.current_version if detail else None,
        versions=versions,
        failure=detail.failure if detail else None,
        jobs=[health],
        findings=findings,
    )

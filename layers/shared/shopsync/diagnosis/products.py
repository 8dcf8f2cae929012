"""Seed 001's checklist for one product, answered from what is stored: in the catalog? linked to which stores, and
if not, why (identifier, duplicate, association job off or failing)? in the pre-sell catalog, and why? what each
store shows against what it should? and is every job that touches it healthy?"""

from __future__ import annotations

from datetime import datetime

from shopsync.catalog.audit import ProductAudit, StoreAudit, audit_product
from shopsync.catalog.presell import Action
from shopsync.errors import NotFound
from shopsync.jobs.control import store_status
from shopsync.models.diagnosis import Finding, JobHealth, ProductDiagnosis, Severity, StoreListing, SuggestedAction
from shopsync.models.jobs import JobName, RunStatus
from shopsync.models.listing import ListingFields, ListingState, PushStatus
from shopsync.models.shop import ShopRole
from shopsync.preorder.listing import delisted_fields, listed_fields
from shopsync.store import listings as listing_store
from shopsync.store import shops as shop_store


def _run_job(job: JobName, shop_id: str | None, why: str) -> SuggestedAction:
    body = {"shop_id": shop_id} if shop_id else {}
    return SuggestedAction(description=why, method="POST", path=f"/jobs/{job.value}/runs", body=body)


def _enable_job(job: JobName, shop_id: str) -> SuggestedAction:
    return SuggestedAction(
        description=f"enable {job.value} for {shop_id}",
        method="PATCH",
        path=f"/jobs/{job.value}",
        body={"shop_id": shop_id, "enabled": True},
    )


def _resync(product_id: str, shop_id: str) -> SuggestedAction:
    return SuggestedAction(
        description=f"push the listing to {shop_id} now",
        method="POST",
        path=f"/products/{product_id}/sync?shop={shop_id}",
    )


def job_findings(health: JobHealth, consequence: str) -> list[Finding]:
    """Is the job that should have done it switched on, and did its last runs succeed?"""
    job, status = health.job, health.status
    where = status.shop_id
    if not status.store_enabled:
        message = f"{job.value} is disabled for {where}: {consequence}"
        return [
            Finding(
                check="job", severity=Severity.ERROR, shop_id=where, message=message, action=_enable_job(job, where)
            )
        ]
    if not status.enabled:
        message = f"the {job.value} schedule is off: {consequence}"
        action = SuggestedAction(
            description=f"turn the {job.value} schedule on",
            method="PATCH",
            path=f"/jobs/{job.value}",
            body={"enabled": True},
        )
        return [Finding(check="job", severity=Severity.ERROR, shop_id=where, message=message, action=action)]
    last = status.last_run
    if last is not None and last.status is RunStatus.FAILED:
        message = f"the last {job.value} run for {where} ({last.run_id}) failed: {last.error}"
        action = _run_job(job, where, f"run {job.value} for {where} again once the cause is fixed")
        return [Finding(check="job", severity=Severity.ERROR, shop_id=where, message=message, action=action)]
    if not status.healthy:
        since = f"since {status.last_success_at:%Y-%m-%d %H:%M} UTC" if status.last_success_at else "ever"
        message = f"{job.value} has not finished a run for {where} within twice its period ({since}): {consequence}"
        action = _run_job(job, where, f"run {job.value} for {where} now")
        return [Finding(check="job", severity=Severity.WARNING, shop_id=where, message=message, action=action)]
    return []


def _presell_findings(audit: ProductAudit) -> list[Finding]:
    membership, evaluation = audit.membership, audit.evaluation
    member = membership is not None and membership.is_member
    if member:
        assert membership is not None
        po_item = membership.decision_po_item
        message = (
            f"in the pre-sell catalog as {membership.category}, promise date {membership.promise_date or 'none'}, "
            f"from PO item {f'{po_item.external_id}/{po_item.item_id}' if po_item else 'none'}, "
            f"PO ATP {evaluation.po_atp}, online ATP {evaluation.online_atp}"
        )
    elif evaluation.active_po_item is None:
        message = "not in the pre-sell catalog: no open PO item with ATP and a future arrival date"
    elif evaluation.online_atp > 0:
        message = f"not in the pre-sell catalog: in stock (online ATP {evaluation.online_atp})"
    else:
        cause = membership.removal_cause if membership else None
        message = f"not in the pre-sell catalog{f': {cause}' if cause else ''}"
    findings = [Finding(check="presell", severity=Severity.INFO, message=message)]
    if evaluation.next_refresh_action not in (Action.KEEP, Action.NONE):
        findings.append(
            Finding(
                check="presell",
                severity=Severity.WARNING,
                message=(
                    f"the stored membership is out of date: the next catalog refresh will "
                    f"{evaluation.next_refresh_action.value} it"
                ),
                action=_run_job(JobName.CATALOG_REFRESH, None, "refresh the pre-sell catalog now"),
            )
        )
    return findings


def _should_show(audit: ProductAudit, linked: bool, state: ListingState | None) -> ListingFields | None:
    membership = audit.membership
    if membership is not None and membership.is_member and linked:
        return listed_fields(membership, quantity=0)
    if state is not None and state.listed:
        return delisted_fields(state.restore, state.pushed)
    return None


def _same_listing(shown: ListingFields, wanted: ListingFields) -> bool:
    """Quantities are left out: they are shared between the stores at push time, not decided per store here."""
    return shown.model_dump(exclude={"quantity"}) == wanted.model_dump(exclude={"quantity"})


def _store_listing(audit: ProductAudit, store: StoreAudit, state: ListingState | None) -> StoreListing:
    return StoreListing(
        shop_id=store.shop_id,
        role=store.role,
        linked=store.association.linked,
        not_linked_reason=store.association.reason,
        push_status=state.status if state else None,
        shows=state.pushed if state else None,
        should_show=_should_show(audit, store.association.linked, state),
        error=state.error if state else None,
        next_attempt_at=state.next_attempt_at if state else None,
        updated_at=state.updated_at if state else None,
    )


def _listing_findings(product_id: str, listing: StoreListing) -> list[Finding]:
    shop_id = listing.shop_id
    if listing.push_status is PushStatus.FAILED:
        retry = f"; retried automatically at {listing.next_attempt_at:%H:%M} UTC" if listing.next_attempt_at else ""
        message = f"the last push to {shop_id} failed: {listing.error}{retry}"
        return [
            Finding(
                check="listing",
                severity=Severity.ERROR,
                shop_id=shop_id,
                message=message,
                action=_resync(product_id, shop_id),
            )
        ]
    if listing.should_show is None:
        return []
    if listing.shows is None or listing.push_status is PushStatus.PENDING:
        message = f"{shop_id} should show the pre-sell listing but nothing has been pushed there yet"
        return [
            Finding(
                check="listing",
                severity=Severity.WARNING,
                shop_id=shop_id,
                message=message,
                action=_resync(product_id, shop_id),
            )
        ]
    if not _same_listing(listing.shows, listing.should_show):
        message = (
            f"{shop_id} shows {listing.shows.status}/{listing.shows.inventory_policy}/{listing.shows.promise_date} "
            f"but should show {listing.should_show.status}/{listing.should_show.inventory_policy}/"
            f"{listing.should_show.promise_date}"
        )
        return [
            Finding(
                check="listing",
                severity=Severity.WARNING,
                shop_id=shop_id,
                message=message,
                action=_resync(product_id, shop_id),
            )
        ]
    return [Finding(check="listing", severity=Severity.OK, shop_id=shop_id, message=f"{shop_id} shows what it should")]


def _association_findings(product_id: str, store: StoreAudit, health: JobHealth | None) -> list[Finding]:
    if store.association.linked:
        return []
    reason = store.association.reason or "not linked"
    if health is None:  # the parent: only product import links it
        action = _run_job(JobName.PRODUCT_IMPORT, store.shop_id, "import the parent catalog")
        return [
            Finding(check="association", severity=Severity.ERROR, shop_id=store.shop_id, message=reason, action=action)
        ]
    job_problems = job_findings(health, f"new child variants are not linked in {store.shop_id}")
    if health.status.last_success_at is None:
        action = _run_job(JobName.ASSOCIATION, store.shop_id, f"link {store.shop_id}'s variants now")
    else:  # the job ran and could not match it: the identifiers are the problem
        action = SuggestedAction(
            description=f"fix the identifier in {store.shop_id} or the parent, then rerun association; or link by hand",
            method="PUT",
            path=f"/products/{product_id}/shops/{store.shop_id}",
        )
    finding = Finding(
        check="association",
        severity=Severity.ERROR,
        shop_id=store.shop_id,
        message=f"not linked to {store.shop_id}: {reason}",
        action=action,
    )
    return [finding, *job_problems]


def _not_in_catalog(product_id: str, parent_id: str | None, now: datetime) -> ProductDiagnosis:
    findings = [
        Finding(
            check="catalog",
            severity=Severity.ERROR,
            message=f"product {product_id} is not in the catalog (the catalog ids are the parent variants' ids)",
            action=_run_job(JobName.PRODUCT_IMPORT, parent_id, "import the parent catalog"),
        )
    ]
    jobs = []
    if parent_id is not None:
        product_import = JobHealth(
            job=JobName.PRODUCT_IMPORT, status=store_status(JobName.PRODUCT_IMPORT, parent_id, now)
        )
        jobs.append(product_import)
        findings += job_findings(product_import, "parent products are not imported")
    return ProductDiagnosis(
        product_id=product_id, in_catalog=False, presell_member=False, stores=[], jobs=jobs, findings=findings
    )


def diagnose_product(product_id: str, now: datetime) -> ProductDiagnosis:
    parent = shop_store.get_parent_shop()
    try:
        audit = audit_product(product_id, now)
    except NotFound:
        return _not_in_catalog(product_id, parent.shop_id if parent else None, now)

    states = listing_store.product_sync_inputs(product_id).states
    jobs: list[JobHealth] = []
    findings = [
        Finding(
            check="catalog", severity=Severity.OK, message=f"{audit.title} ({audit.variant_title}) is in the catalog"
        )
    ]
    findings += _presell_findings(audit)
    if parent is not None:
        refresh = JobHealth(
            job=JobName.CATALOG_REFRESH, status=store_status(JobName.CATALOG_REFRESH, parent.shop_id, now)
        )
        jobs.append(refresh)
        findings += job_findings(refresh, "pre-sell membership and promise dates go stale")
    stores = []
    for store in audit.stores:
        association_health = None
        if store.role is ShopRole.CHILD:
            association_health = JobHealth(
                job=JobName.ASSOCIATION, status=store_status(JobName.ASSOCIATION, store.shop_id, now)
            )
            jobs.append(association_health)
        findings += _association_findings(product_id, store, association_health)
        listing = _store_listing(audit, store, states.get(store.shop_id))
        stores.append(listing)
        findings += _listing_findings(product_id, listing)
        if listing.should_show is not None:
            sweep = JobHealth(
                job=JobName.PREORDER_SWEEP, status=store_status(JobName.PREORDER_SWEEP, store.shop_id, now)
            )
            jobs.append(sweep)
            findings += job_findings(sweep, f"failed pushes to {store.shop_id} are not retried")
    member = audit.membership is not None and audit.membership.is_member
    return ProductDiagnosis(
        product_id=product_id, in_catalog=True, presell_member=member, stores=stores, jobs=jobs, findings=findings
    )

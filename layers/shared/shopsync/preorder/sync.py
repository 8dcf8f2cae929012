"""Push the pre-sell catalog to every linked store: only what differs from what was last pushed, batched per store.

For a batch of products, per store, in three phases so the stores together never offer more than the PO ATP:
1. lower quantities (donors of a rebalance, delisted variants) — compare-and-set, so a sale in between fails the
   move instead of overselling;
2. listing fields — inventory policy and the HC_PREORDER metafield (one productVariantsBulkUpdate per product, or
   metafieldsSet in 25s when only the metafield changed), then the product tags (tagsAdd / tagsRemove);
3. raise quantities out of what phase 1 freed, only where phase 2 succeeded (DENY is in place before stock is).
A store that fails is recorded as FAILED with Shopify's error and retried by the sweep; other stores go on.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, Field

from shopsync.catalog import presell
from shopsync.jobs.clock import utc_now
from shopsync.models.listing import ListingFields, ListingState, PushStatus, RestoreState
from shopsync.models.presell import Membership
from shopsync.models.shop import Shop
from shopsync.observability import logger, metrics
from shopsync.preorder.listing import delisted_fields, listed_fields
from shopsync.preorder.quantities import StoreQuantity, plan_moves
from shopsync.preorder.shopify_listing import QuantityChange, StaleQuantity, StoreListingClient, VariantSnapshot
from shopsync.settings import get_settings
from shopsync.shopify.client import ShopifyClient
from shopsync.shopify.errors import ShopifyError
from shopsync.store import listings as listing_store
from shopsync.store import secrets
from shopsync.store import shops as shop_store

# A compare-and-set of `available` refused: orders changed the quantity since it was read.
STALE_QUANTITY = "quantity changed in Shopify meanwhile"


_Work = TypeVar("_Work")


@dataclass
class Target:
    """One (product, store) this sync looks at."""

    product_id: str
    shop: Shop
    state: ListingState
    wanted_listed: bool
    desired: ListingFields | None = None
    known_available: int | None = None
    error: str | None = None
    touched: bool = False
    in_scope: bool = True  # False: another store of the product, counted in the quantity ledger but not pushed
    held: int = 0  # units of this store's imported pre-orders holding PO units, within the current listing

    @property
    def key(self) -> str:
        return f"{self.product_id}/{self.shop.shop_id}"

    @property
    def net_granted(self) -> int:
        """What the store's grant still claims from the PO ATP: imported pre-orders already left the ATP."""
        return max(0, self.state.granted - self.held)


class SyncReport(BaseModel):
    """What a sync did, per "<product>/<shop>"."""

    pushed: list[str] = Field(default_factory=list)
    unchanged: list[str] = Field(default_factory=list)
    failed: dict[str, str] = Field(default_factory=dict, description="Shopify's error per listing; retried later")
    shopify_calls: int = 0
    shopify_cost: float = 0.0


@dataclass
class _ProductPlan:
    product_id: str
    membership: Membership | None
    po_atp: int
    targets: dict[str, Target]


@dataclass(frozen=True)
class _QuantityStep:
    """A compare-and-set of one store's `available`, and what it does to the ledger."""

    target: Target
    change_from: int
    to: int
    granted_delta: int


class _Sessions:
    """One Shopify client per store for the whole sync (they share the store's cost bucket)."""

    def __init__(self, time_left_s: Callable[[], float]) -> None:
        self._time_left_s = time_left_s
        self._by_shop: dict[str, StoreListingClient] = {}

    def get(self, shop: Shop) -> StoreListingClient:
        if shop.shop_id not in self._by_shop:
            token = secrets.get_access_token(shop.token_secret_name)
            client = ShopifyClient(shop.base_url, shop.api_version, token, time_remaining_s=self._time_left_s)
            self._by_shop[shop.shop_id] = StoreListingClient(shop, client)
        return self._by_shop[shop.shop_id]

    def close(self, report: SyncReport) -> None:
        for session in self._by_shop.values():
            stats = session.client.stats
            report.shopify_calls += stats.calls
            report.shopify_cost += stats.cost_spent
            session.client.close()


def sync_products(
    product_ids: Iterable[str],
    *,
    now: datetime,
    time_left_s: Callable[[], float],
    only_shop: str | None = None,
    reconcile: bool = False,
) -> SyncReport:
    """Bring each product's listing in each linked store to what the pre-sell catalog says.

    `reconcile` reads what Shopify shows first and repairs manual edits (the sweep); otherwise the last pushed state
    is trusted and compare-and-set catches the quantities that moved.
    """
    shops = {shop.shop_id: shop for shop in shop_store.list_shops()}
    wanted = list(dict.fromkeys(product_ids))
    relevant = listing_store.with_presell_or_listing(wanted, shops)
    plans = [
        plan for product_id in wanted if product_id in relevant and (plan := _plan(product_id, shops, only_shop, now))
    ]
    report = SyncReport()
    sessions = _Sessions(time_left_s)
    try:
        targets = [target for plan in plans for target in plan.targets.values() if target.in_scope]
        _read_stores(targets, sessions, reconcile)
        for plan in plans:
            _decide(plan)
        lowerings, raisings = _quantity_moves(plans)
        _set_quantities(lowerings, sessions, reference="gid://shopsync/PreorderSync/lower")
        _push_fields(targets, sessions, now, time_left_s)
        _set_quantities(_capped(raisings, plans), sessions, reference="gid://shopsync/PreorderSync/raise")
        _record(targets, report, now)
    finally:
        sessions.close(report)
    _emit_metrics(report, now)
    stale = sorted({key.split("/", 1)[0] for key, error in report.failed.items() if STALE_QUANTITY in error})
    if stale and not reconcile:
        # Orders moved a quantity since it was last pushed: read the stores now and redo those products once,
        # rather than leaving them to the sweep's backoff.
        return merge_reports(
            report, sync_products(stale, now=now, time_left_s=time_left_s, only_shop=only_shop, reconcile=True)
        )
    return report


def merge_reports(first: SyncReport, retry: SyncReport) -> SyncReport:
    """One report for two syncs; where both looked at a listing, the second (a retry) has the last word."""
    failed = {key: error for key, error in first.failed.items() if key not in retry.pushed + retry.unchanged}
    return SyncReport(
        pushed=sorted(set(first.pushed + retry.pushed)),
        unchanged=[key for key in first.unchanged if key not in retry.pushed],
        failed=failed | retry.failed,
        shopify_calls=first.shopify_calls + retry.shopify_calls,
        shopify_cost=first.shopify_cost + retry.shopify_cost,
    )


def _emit_metrics(report: SyncReport, started: datetime) -> None:
    """SyncLag: seconds from the sync being asked for (`now`) until its listings were recorded, when it pushed any.
    OversellPrevented: quantity moves Shopify's compare-and-set refused because orders came in meanwhile (the
    move would have offered units already sold)."""
    if report.pushed:
        lag_s = (utc_now() - started).total_seconds()
        metrics.add_metric(name="SyncLag", unit=MetricUnit.Seconds, value=max(0.0, lag_s))
    refused = sum(1 for error in report.failed.values() if error.startswith(STALE_QUANTITY))
    metrics.add_metric(name="OversellPrevented", unit=MetricUnit.Count, value=refused)


def _plan(product_id: str, shops: dict[str, Shop], only_shop: str | None, now: datetime) -> _ProductPlan | None:
    inputs = listing_store.product_sync_inputs(product_id)
    product, associations, states, holds = inputs.presell, inputs.associations, inputs.states, inputs.holds
    member = product.membership is not None and product.membership.is_member
    links = {a.shop_id: a for a in associations if a.shop_id in shops}
    targets: dict[str, Target] = {}
    for shop_id in sorted(set(links) | {s for s, state in states.items() if state.pushed is not None}):
        if shop_id not in shops:
            continue
        state = states.get(shop_id)
        link = links.get(shop_id)
        if link is not None:
            ids = {
                "shopify_product_id": link.shopify_product_id,
                "shopify_variant_id": link.shopify_variant_id,
                "inventory_item_id": link.inventory_item_id,
            }
            state = (
                state.model_copy(update=ids)
                if state
                else ListingState(product_id=product_id, shop_id=shop_id, updated_at=now, **ids)
            )
        wanted = member and link is not None
        if state is None or (not wanted and not state.listed):
            continue  # not pre-sell there, and nothing listed to take back
        hold = holds.get(shop_id)
        held = hold.units if hold is not None and hold.listed_since == state.listed_since else 0
        targets[shop_id] = Target(
            product_id, shops[shop_id], state, wanted, in_scope=only_shop in (None, shop_id), held=held
        )
    if not any(target.in_scope for target in targets.values()):
        return None
    po_atp = presell.po_atp(product.po_items, now.date()) if member else 0
    return _ProductPlan(product_id, product.membership, po_atp, targets)


def _side_by_side(groups: Mapping[str, list[_Work]], work: Callable[[list[_Work]], None]) -> None:
    """Run `work` on each store's group at once, one thread per store: stores have separate cost buckets, so one
    store's calls need not wait while another's bucket refills. Each group touches only its own store's targets."""
    if len(groups) <= 1:
        for group in groups.values():
            work(group)
        return
    with ThreadPoolExecutor(max_workers=len(groups), thread_name_prefix="store") as pool:
        for future in [pool.submit(work, group) for group in groups.values()]:
            future.result()


def _read_stores(targets: list[Target], sessions: _Sessions, reconcile: bool) -> None:
    """Snapshot what the stores show for first listings (to restore later) or, when reconciling, for everything."""
    by_shop: dict[str, list[Target]] = defaultdict(list)
    for target in targets:
        if reconcile or (target.wanted_listed and target.state.restore is None):
            by_shop[target.shop.shop_id].append(target)

    def read(group: list[Target]) -> None:
        session = sessions.get(group[0].shop)
        try:
            snapshots = session.snapshots([t.state.shopify_variant_id for t in group])
            location_id = session.location_id()
        except ShopifyError as error:
            _fail(group, error)
            return
        for target in group:
            snapshot = snapshots.get(target.state.shopify_variant_id)
            if snapshot is None:
                target.error = f"variant {target.state.shopify_variant_id} no longer exists in {target.shop.shop_id}"
                continue
            target.state = target.state.model_copy(update={"location_id": location_id})
            _apply_snapshot(target, snapshot)

    _side_by_side(by_shop, read)


def _apply_snapshot(target: Target, snapshot: VariantSnapshot) -> None:
    state = target.state
    if state.restore is None and not state.listed:
        state = state.model_copy(
            update={"restore": RestoreState(inventory_policy=snapshot.inventory_policy, available=snapshot.available)}
        )
    pushed = state.pushed
    if pushed is not None:
        shown_status = (snapshot.metafield or {}).get("status")
        drifted = snapshot.inventory_policy != pushed.inventory_policy or shown_status != pushed.status
        if drifted:
            logger.info("listing drifted from what was pushed; repairing", extra={"listing": target.key})
            state = state.model_copy(update={"pushed_fingerprint": None})
        if snapshot.available is not None and pushed.quantity is not None:
            # Orders lower `available` (that is the ledger's "sold"); a manual edit may raise it: both are facts now.
            target.known_available = snapshot.available
    target.state = state


def _decide(plan: _ProductPlan) -> None:
    for target in plan.targets.values():
        if target.error is not None:
            continue
        if target.known_available is None and target.state.listed and target.state.pushed is not None:
            target.known_available = target.state.pushed.quantity
        if target.wanted_listed and plan.membership is not None:
            target.desired = listed_fields(plan.membership, quantity=0)  # the quantity comes from the moves
        else:
            target.desired = delisted_fields(target.state.restore, target.state.pushed)


def _ledger_available(target: Target) -> int:
    """What the ledger counts as offered in the store: nothing before the first listing."""
    return (target.known_available or 0) if target.state.listed else 0


def _quantity_moves(plans: list[_ProductPlan]) -> tuple[list[_QuantityStep], list[_QuantityStep]]:
    lowerings: list[_QuantityStep] = []
    raisings: list[_QuantityStep] = []
    for plan in plans:
        listed = {s: t for s, t in plan.targets.items() if t.desired is not None and t.wanted_listed}
        stores = {
            s: StoreQuantity(available=_ledger_available(t), granted=t.net_granted, held=t.held)
            for s, t in listed.items()
        }
        lower, raise_ = plan_moves(plan.po_atp, stores)
        lowerings += [_QuantityStep(listed[m.shop_id], m.change_from, m.to, m.delta) for m in lower]
        raisings += [_QuantityStep(listed[m.shop_id], _current(listed[m.shop_id]), m.to, m.delta) for m in raise_]
        for target in plan.targets.values():
            restore = target.state.restore
            delisting = target.desired is not None and not target.wanted_listed and target.state.listed
            if delisting and restore is not None and restore.available is not None:
                step = _QuantityStep(target, target.known_available or 0, restore.available, -target.state.granted)
                lowerings.append(step)
    return lowerings, raisings


def _current(target: Target) -> int:
    """The compare-and-set base: what the store shows now (its own quantity before a first listing)."""
    if target.state.listed or target.state.restore is None:
        return target.known_available or 0
    return target.state.restore.available or 0


def _capped(raisings: list[_QuantityStep], plans: list[_ProductPlan]) -> list[_QuantityStep]:
    """Raise only out of what is really free after phase 1 (a lowering that failed freed nothing)."""
    atp = {plan.product_id: plan.po_atp for plan in plans}
    granted = {plan.product_id: sum(t.net_granted for t in plan.targets.values()) for plan in plans}
    capped = []
    for step in raisings:
        target = step.target
        if target.error is not None:
            continue
        grant = min(step.granted_delta, atp[target.product_id] - granted[target.product_id])
        if grant <= 0:
            continue
        granted[target.product_id] += grant
        capped.append(_QuantityStep(target, step.change_from, _ledger_available(target) + grant, grant))
    return capped


def _set_quantities(steps: list[_QuantityStep], sessions: _Sessions, *, reference: str) -> None:
    by_shop: dict[str, list[_QuantityStep]] = defaultdict(list)
    for step in steps:
        if step.target.in_scope and step.target.error is None and step.target.state.inventory_item_id:
            by_shop[step.target.shop.shop_id].append(step)

    def move(group: list[_QuantityStep]) -> None:
        session = sessions.get(group[0].target.shop)
        changes = [QuantityChange(s.target.state.inventory_item_id or "", s.change_from, s.to) for s in group]
        try:
            session.set_quantities(changes, reference)
        except StaleQuantity as stale:
            # Orders arrived meanwhile and nothing was applied: retry soon from fresh numbers, never guess.
            for step in group:
                step.target.error = f"{STALE_QUANTITY}; will re-read and retry ({stale})"
            return
        except ShopifyError as error:
            _fail([s.target for s in group], error)
            return
        for step in group:
            target = step.target
            target.state = target.state.model_copy(
                update={"granted": max(0, target.state.granted + step.granted_delta)}
            )
            target.known_available = step.to
            target.touched = True

    _side_by_side(by_shop, move)


def _fields_changed(target: Target) -> tuple[bool, bool]:
    """(policy changed, metafield changed) against what was last pushed."""
    desired, pushed = target.desired, target.state.pushed
    assert desired is not None
    if pushed is None or target.state.pushed_fingerprint is None:
        return True, True
    metafield = (desired.status, desired.preorder_type, desired.promise_date) != (
        pushed.status,
        pushed.preorder_type,
        pushed.promise_date,
    )
    return desired.inventory_policy != pushed.inventory_policy, metafield


def _push_fields(targets: list[Target], sessions: _Sessions, now: datetime, time_left_s: Callable[[], float]) -> None:
    by_shop: dict[str, list[Target]] = defaultdict(list)
    for target in targets:
        if target.error is None and target.desired is not None:
            by_shop[target.shop.shop_id].append(target)

    def push(group: list[Target]) -> None:
        session = sessions.get(group[0].shop)
        with_policy: dict[str, list[Target]] = defaultdict(list)
        metafield_only: list[Target] = []
        for target in group:
            policy, metafield = _fields_changed(target)
            if policy:
                with_policy[target.state.shopify_product_id].append(target)
            elif metafield:
                metafield_only.append(target)
        if len(with_policy) >= get_settings().bulk_mutation_min_products:
            _update_in_bulk(session, with_policy, now, time_left_s)
        else:
            for product_gid, variants in with_policy.items():
                _attempt(variants, session.update_variants, product_gid, _fields_by_variant(variants), now)
        if metafield_only:
            _attempt(metafield_only, session.set_metafields, _fields_by_variant(metafield_only), now)
        _push_tags([t for t in group if t.error is None], session)

    _side_by_side(by_shop, push)


def _update_in_bulk(
    session: StoreListingClient, groups: dict[str, list[Target]], now: datetime, time_left_s: Callable[[], float]
) -> None:
    """Many products at once: one bulk mutation instead of a call per product."""
    try:
        failures = session.update_variants_in_bulk(
            {product_gid: _fields_by_variant(variants) for product_gid, variants in groups.items()}, now, time_left_s
        )
    except ShopifyError as error:
        _fail([target for variants in groups.values() for target in variants], error)
        return
    for product_gid, variants in groups.items():
        for target in variants:
            if product_gid in failures:
                target.error = failures[product_gid]
            else:
                target.touched = True


def _push_tags(targets: list[Target], session: StoreListingClient) -> None:
    by_product: dict[str, list[Target]] = defaultdict(list)
    for target in targets:
        by_product[target.state.shopify_product_id].append(target)
    shop_id = session.shop.shop_id
    ledgers = listing_store.tag_ledgers(shop_id, by_product)
    changed: dict[str, dict[str, str]] = {}
    for product_gid, variants in by_product.items():
        ledger = ledgers.get(product_gid, {})
        updated = dict(ledger)
        for target in variants:
            assert target.desired is not None
            if target.desired.tag:
                updated[target.product_id] = target.desired.tag
            else:
                updated.pop(target.product_id, None)
        before, after = set(ledger.values()), set(updated.values())
        # A listing being (re)pushed from scratch re-asserts its tag even if the ledger thinks it is there.
        forced = any(t.state.pushed_fingerprint is None and t.desired and t.desired.tag for t in variants)
        if before == after and not forced:
            if updated != ledger:  # another variant of the product now shares the tag: the ledger must know
                changed[product_gid] = updated
            continue
        if _attempt(variants, session.change_tags, product_gid, after if forced else after - before, before - after):
            changed[product_gid] = updated
    listing_store.save_tag_ledgers(shop_id, changed)


def _attempt(targets: list[Target], call: Callable[..., None], *args: Any) -> bool:
    try:
        call(*args)
    except ShopifyError as error:
        _fail(targets, error)
        return False
    for target in targets:
        target.touched = True
    return True


def _fields_by_variant(targets: list[Target]) -> dict[str, ListingFields]:
    return {target.state.shopify_variant_id: _fields(target) for target in targets}


def _fields(target: Target) -> ListingFields:
    assert target.desired is not None
    return target.desired


def _fail(targets: Iterable[Target], error: Exception) -> None:
    for target in targets:
        target.error = f"{type(error).__name__}: {error}"


def _record(targets: list[Target], report: SyncReport, now: datetime) -> None:
    states = []
    for target in targets:
        if target.desired is None and target.error is None:
            continue
        if target.error is not None:
            attempts = target.state.attempts + 1
            backoff = min(2 ** (attempts - 1), get_settings().sync_retry_max_minutes)
            states.append(
                target.state.model_copy(
                    update={
                        "status": PushStatus.FAILED,
                        "error": target.error,
                        "attempts": attempts,
                        "next_attempt_at": now + timedelta(minutes=backoff),
                        "updated_at": now,
                    }
                )
            )
            report.failed[target.key] = target.error
            continue
        assert target.desired is not None
        pushed = target.desired.model_copy(update={"quantity": target.known_available})
        if not target.touched and target.state.status is PushStatus.PUSHED and target.state.pushed == pushed:
            report.unchanged.append(target.key)
            continue
        states.append(
            target.state.model_copy(
                update={
                    "pushed": pushed,
                    "pushed_fingerprint": pushed.fingerprint(),
                    "listed_since": (target.state.listed_since or now) if pushed.status == "active" else None,
                    "status": PushStatus.PUSHED,
                    "error": None,
                    "attempts": 0,
                    "next_attempt_at": None,
                    "updated_at": now,
                }
            )
        )
        report.pushed.append(target.key)
    listing_store.save_states(states)

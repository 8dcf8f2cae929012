"""Catalog refresh: re-decides pre-sell membership (catalog/presell.py) for the products that may have changed.

- incremental (every 15 min): products marked "refresh needed" by a PO or inventory write, plus members whose
  promise date has passed (time alone changes them, with no write to mark them). Work grows with the changes.
- full (nightly, params {"mode": "full"}): every product with PO items or a membership, in product-id order,
  resumable from the last product done.
A membership is written only when the decision changes it (the stream drives the store sync from these writes).
A product's marker is cleared after its membership is stored, and only if nothing re-marked it meanwhile; a crash
leaves the markers, so the next run redoes the work.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from shopsync.catalog.presell import Action, decide
from shopsync.errors import UnprocessableRequest
from shopsync.iterables import chunked
from shopsync.jobs.runner import Completed, JobContext, JobDefinition, Outcome, Suspended
from shopsync.models.jobs import JobName
from shopsync.models.presell import Membership
from shopsync.models.shop import Shop, ShopRole
from shopsync.observability import logger
from shopsync.store import presell as presell_store
from shopsync.store import shops as shop_store

REFRESH_CHUNK = 100


class RefreshParams(BaseModel):
    model_config = ConfigDict(extra="ignore")

    mode: Literal["incremental", "full"] = "incremental"


class RefreshProgress(BaseModel):
    """The cursor of a suspended run. Only a full pass needs `after`: an incremental run's markers are its cursor."""

    mode: Literal["incremental", "full"]
    after: str | None = None


def _refresh_chunk(context: JobContext, product_ids: list[str], marks: dict[str, str]) -> None:
    today = context.window_end.date()
    changed: list[Membership] = []
    for product_id in product_ids:
        state = presell_store.product_state(product_id)
        decision = decide(
            product_id,
            state.membership,
            state.po_items,
            inventory=state.inventory,
            today=today,
            now=context.window_end,
        )
        context.counts.add(read=1)
        if decision.membership is None or decision.membership == state.membership:
            context.counts.add(skipped=1)
            continue
        changed.append(decision.membership)
        if decision.action is not Action.KEEP:
            logger.info(
                "pre-sell membership changed",
                extra={"product_id": product_id, "action": decision.action.value, "cause": decision.cause},
            )
    presell_store.save_memberships(changed)
    context.counts.add(written=len(changed))
    for product_id in product_ids:
        if product_id in marks:
            presell_store.clear_refresh_marker(product_id, marks[product_id])


def refresh_catalog(context: JobContext) -> Outcome:
    progress = (
        RefreshProgress.model_validate(context.resume_state)
        if context.resume_state
        else RefreshProgress(mode=RefreshParams.model_validate(context.params).mode)
    )
    marks = presell_store.refresh_markers()
    if progress.mode == "full":
        candidates = presell_store.products_with_po_items() | presell_store.all_members() | set(marks)
    else:
        candidates = set(marks) | presell_store.members_with_promise_before(context.window_end.date())
    pending = sorted(product_id for product_id in candidates if progress.after is None or product_id > progress.after)
    logger.info("refreshing the pre-sell catalog", extra={"mode": progress.mode, "products": len(pending)})
    for chunk in chunked(pending, REFRESH_CHUNK):
        if context.should_stop():
            return Suspended(progress.model_dump())
        _refresh_chunk(context, chunk, marks)
        if progress.mode == "full":
            progress = progress.model_copy(update={"after": chunk[-1]})
    return Completed(watermark=context.window_end)


def _catalog_owner(shop: Shop) -> None:
    if shop.role is not ShopRole.PARENT:
        raise UnprocessableRequest(
            f"{JobName.CATALOG_REFRESH.value} runs for the catalog, which belongs to the parent store; "
            f"{shop.shop_id} is a child store",
            shop_id=shop.shop_id,
        )


def _parent_shop() -> list[Shop]:
    parent = shop_store.get_parent_shop()
    return [parent] if parent else []


CATALOG_REFRESH = JobDefinition(
    name=JobName.CATALOG_REFRESH,
    body=refresh_catalog,
    check_shop=_catalog_owner,
    scheduled_shops=_parent_shop,
)

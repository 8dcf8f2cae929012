"""Association job: links each child store's variants to catalog products (HotWax "Associate products with
sub-catalog", reference/hotwax-domain.md §1.5), per child store, incremental by `updated_at` or full on request.

Matching rule — exact equality after the normalisation of `catalog.identifiers`:
- SKU stores: the variant's SKU against the catalog's SKUs, trimmed, inner whitespace collapsed, case-insensitive.
- BARCODE stores: the variant's barcode against the catalog's barcodes, trimmed, otherwise exact (leading zeros
  count: "0012" and "12" are different barcodes).
- PRODUCT_ID stores: HotWax compares the child variant's legacy id with the identifier stored on its product. Our
  catalog product id is the parent variant's legacy id, so a child variant links only to the product whose id
  equals its own legacy id. That holds only for a store whose ids were carried over from the parent (a cloned or
  migrated store); any other child store should match by SKU or barcode.
A variant is not linked, and is recorded with its reason (removed once it links), when it has no identifier, when
another variant of the same store has the same identifier, when no catalog product has it, or when several do.

Guarantees: the job never creates a product; it writes only what changed, so a re-run writes nothing (association
writes re-trigger the pre-order sync through the stream, so a no-op rewrite would be a bug); the outcome does not
depend on the order variants are read in (duplicates are found through a store-wide identifier index); a manual
association wins: the job never overwrites or removes one, nor links a variant the operator linked by hand.
Incremental runs also re-check the recorded failures, so a product imported after the child variant was read gets
linked without a full run (HotWax's "association arrived after the sync" problem, seeds 000/001).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from shopsync.catalog.identifiers import legacy_id, normalize, normalize_barcode, normalize_sku
from shopsync.errors import UnprocessableRequest
from shopsync.jobs.runner import Completed, JobContext, JobDefinition, Outcome, Suspended
from shopsync.models.association import AssociationStatus, StoreVariant, UnmatchedReason, UnmatchedVariant
from shopsync.models.catalog import Association, AssociationSource
from shopsync.models.jobs import JobName
from shopsync.models.shop import IdentifierType, Shop, ShopRole
from shopsync.observability import logger
from shopsync.settings import get_settings
from shopsync.shopify.documents import load_document
from shopsync.shopify.pagination import iter_pages
from shopsync.store import associations as association_store
from shopsync.store import catalog as catalog_store
from shopsync.store import jobs as job_store
from shopsync.store import shops as shop_store

PAGE_SIZE = 100
RECHECK_CHUNK = 100

IDENTIFIER_LABELS = {IdentifierType.SKU: "SKU", IdentifierType.BARCODE: "barcode", IdentifierType.PRODUCT_ID: "id"}


def require_child(shop: Shop) -> None:
    if shop.role is not ShopRole.CHILD:
        raise UnprocessableRequest(
            f"{shop.shop_id} is the parent store: its products are linked by product import, not by association",
            shop_id=shop.shop_id,
        )


def _child_shops() -> list[Shop]:
    return [shop for shop in shop_store.list_shops() if shop.role is ShopRole.CHILD]


# --- the matching rule -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Linked:
    product_id: str


@dataclass(frozen=True)
class NotLinked:
    reason: UnmatchedReason
    candidate_product_ids: tuple[str, ...] = ()
    sharing_variant_ids: tuple[str, ...] = ()


Decision = Linked | NotLinked


def identifier_of(kind: IdentifierType, node: dict[str, Any]) -> str | None:
    """The normalised identifier of a `ProductVariantsPage` node for a store matching by `kind`."""
    if kind is IdentifierType.SKU:
        return normalize_sku(node.get("sku"))
    if kind is IdentifierType.BARCODE:
        return normalize_barcode(node.get("barcode"))
    return normalize(kind, str(node.get("legacyResourceId") or legacy_id(node["id"])))


def decide(
    variant_legacy_id: str,
    identifier: str | None,
    store_variant_ids: Collection[str],
    catalog_product_ids: Sequence[str],
) -> Decision:
    """Link only when the identifier is present, unique in the store and carried by exactly one catalog product."""
    if identifier is None:
        return NotLinked(UnmatchedReason.MISSING_IDENTIFIER)
    others = tuple(sorted(set(store_variant_ids) - {variant_legacy_id}))
    if others:
        return NotLinked(UnmatchedReason.DUPLICATE_IN_STORE, sharing_variant_ids=others)
    if not catalog_product_ids:
        return NotLinked(UnmatchedReason.NO_MATCH)
    if len(catalog_product_ids) > 1:
        return NotLinked(UnmatchedReason.DUPLICATE_IN_CATALOG, candidate_product_ids=tuple(sorted(catalog_product_ids)))
    return Linked(catalog_product_ids[0])


def describe(decision: NotLinked, kind: IdentifierType, identifier: str | None, shop_id: str) -> str:
    label = IDENTIFIER_LABELS[kind]
    if decision.reason is UnmatchedReason.MISSING_IDENTIFIER:
        return f"the variant has no {label}, which {shop_id} is matched by"
    if decision.reason is UnmatchedReason.DUPLICATE_IN_STORE:
        count = len(decision.sharing_variant_ids) + 1
        return f"{label} {identifier} is shared by {count} variants in {shop_id}"
    if decision.reason is UnmatchedReason.DUPLICATE_IN_CATALOG:
        products = ", ".join(decision.candidate_product_ids)
        return f"{label} {identifier} is shared by {len(decision.candidate_product_ids)} catalog products ({products})"
    return f"no catalog product has {label} {identifier}"


def catalog_candidates(kind: IdentifierType, identifier: str) -> list[str]:
    """Catalog products carrying the identifier. For PRODUCT_ID it is the product whose id equals it, if any."""
    if kind is IdentifierType.PRODUCT_ID:
        return [identifier] if catalog_store.get_product(identifier) else []
    return catalog_store.product_ids_by_identifier(kind, identifier)


# --- writing links (shared with the manual API) -------------------------------------------------------------------


def same_link(current: Association | None, wanted: Association) -> bool:
    """True when writing `wanted` over `current` would change nothing downstream: every writer of child-store
    associations (job and manual API) skips such a write, so the stream only sees real changes."""
    keys = ("shopify_product_id", "shopify_variant_id", "inventory_item_id", "source")
    return current is not None and all(getattr(current, key) == getattr(wanted, key) for key in keys)


# --- the job -----------------------------------------------------------------------------------------------------


def _store_variant(shop: Shop, node: dict[str, Any]) -> StoreVariant:
    inventory_item = node.get("inventoryItem") or {}
    return StoreVariant(
        shop_id=shop.shop_id,
        variant_id=node["id"],
        legacy_id=str(node.get("legacyResourceId") or legacy_id(node["id"])),
        shopify_product_id=node["product"]["id"],
        inventory_item_id=inventory_item.get("id"),
        identifier=identifier_of(shop.identifier_type, node),
    )


class StoreMatcher:
    """Settles variants of one store: link, re-link, unlink or record as unmatched, writing only differences."""

    def __init__(self, context: JobContext) -> None:
        self.context = context
        self.shop = context.shop
        self.kind = context.shop.identifier_type
        self.settled_identifiers: set[str] = set()
        # A variant re-decided later in the same run (its group met again) is reported once.
        self.reported_variants: set[str] = set()

    def process_page(self, nodes: Iterable[dict[str, Any]]) -> None:
        observed = [_store_variant(self.shop, node) for node in nodes]
        self.context.counts.add(read=len(observed))
        previous = association_store.get_store_variants(self.shop.shop_id, [v.legacy_id for v in observed])
        known: dict[str, StoreVariant] = {}
        changed: list[tuple[StoreVariant, StoreVariant | None]] = []
        for read in observed:
            before = previous.get(read.legacy_id)
            variant = read.model_copy(update={"linked_product_id": before.linked_product_id}) if before else read
            known[variant.legacy_id] = variant
            if before is None or not variant.same_shopify_data(before):
                changed.append((variant, before))
        # A variant that left an identifier may leave a single variant behind, which can now be linked.
        left = {before.identifier for _, before in changed if before and before.identifier}
        identifiers = {v.identifier for v in observed if v.identifier} | left
        groups = association_store.identifier_groups(self.shop.shop_id, identifiers)
        touched: set[str] = set()
        for variant, before in changed:
            if before and before.identifier and before.identifier != variant.identifier:
                groups[before.identifier].discard(variant.legacy_id)
                touched.add(before.identifier)
            if variant.identifier and variant.legacy_id not in groups[variant.identifier]:
                groups[variant.identifier].add(variant.legacy_id)
                touched.add(variant.identifier)
        association_store.save_store_variants(
            self.shop.shop_id, [v for v, _ in changed], {i: groups[i] for i in touched}
        )
        self.settle_identifiers(groups, known)
        missing = [v for v in observed if v.identifier is None]
        self.settle([(v, decide(v.legacy_id, None, (), ())) for v in missing])

    def settle_identifiers(self, groups: dict[str, set[str]], known: dict[str, StoreVariant]) -> None:
        """Re-decides every variant of the store in `groups` (identifier → the variants carrying it)."""
        self.settled_identifiers.update(groups)
        unknown = {i for members in groups.values() for i in members} - known.keys()
        if unknown:
            known.update(association_store.get_store_variants(self.shop.shop_id, unknown))
        decisions: list[tuple[StoreVariant, Decision]] = []
        for identifier, member_ids in sorted(groups.items()):
            members = [known[i] for i in sorted(member_ids) if i in known]
            candidates = catalog_candidates(self.kind, identifier) if len(members) == 1 else []
            decisions += [(m, decide(m.legacy_id, identifier, member_ids, candidates)) for m in members]
        self.settle(decisions)

    def settle(self, decisions: Sequence[tuple[StoreVariant, Decision]]) -> None:
        if not decisions:
            return
        products = {d.product_id for _, d in decisions if isinstance(d, Linked)}
        products |= {v.linked_product_id for v, _ in decisions if v.linked_product_id}
        current = catalog_store.associations_in_shop(products, self.shop.shop_id)
        unmatched = association_store.get_unmatched(self.shop.shop_id, [v.legacy_id for v, _ in decisions])
        relinked: list[StoreVariant] = []
        links: list[Association] = []
        for variant, decision in decisions:
            linked_to = self._apply(variant, decision, current, unmatched, links)
            if linked_to != variant.linked_product_id:
                relinked.append(variant.model_copy(update={"linked_product_id": linked_to}))
        catalog_store.put_associations(links)
        association_store.save_store_variants(self.shop.shop_id, relinked)

    def _apply(
        self,
        variant: StoreVariant,
        decision: Decision,
        current: dict[str, Association],
        unmatched: dict[str, UnmatchedVariant],
        links: list[Association],
    ) -> str | None:
        """Applies one decision (new or changed links are appended to `links` for one batch write); returns the
        product the variant is linked to afterwards."""
        held = current.get(variant.linked_product_id or "")
        if held and held.source is AssociationSource.MANUAL and held.shopify_variant_id == variant.variant_id:
            # The operator linked this variant by hand: leave it, and it is not a failure.
            self._forget_unmatched(variant, unmatched)
            self.context.counts.add(skipped=1)
            return variant.linked_product_id
        if isinstance(decision, NotLinked):
            self._unlink(variant, current)
            self._record_unmatched(variant, decision, unmatched)
            return None
        existing = current.get(decision.product_id)
        self._forget_unmatched(variant, unmatched)
        if existing and existing.source is AssociationSource.MANUAL:
            self.context.counts.add(skipped=1)
            if existing.shopify_variant_id == variant.variant_id:
                return decision.product_id
            logger.info(
                "product linked by hand to another variant; left as is",
                extra={"product_id": decision.product_id, "variant_id": variant.variant_id},
            )
            self._unlink(variant, current)
            return None
        if variant.linked_product_id != decision.product_id:
            self._unlink(variant, current)
        wanted = Association(
            product_id=decision.product_id,
            shop_id=self.shop.shop_id,
            shopify_product_id=variant.shopify_product_id,
            shopify_variant_id=variant.variant_id,
            inventory_item_id=variant.inventory_item_id,
            source=AssociationSource.ASSOCIATION_JOB,
            linked_at=self.context.window_end,
        )
        if same_link(existing, wanted):
            self.context.counts.add(skipped=1)
        else:
            links.append(wanted)
            current[decision.product_id] = wanted
            self.context.counts.add(written=1)
        return decision.product_id

    def _unlink(self, variant: StoreVariant, current: dict[str, Association]) -> None:
        """Removes the job's association that still points at this variant (never a manual one)."""
        product_id = variant.linked_product_id
        association = current.get(product_id or "")
        if (
            product_id
            and association
            and association.source is AssociationSource.ASSOCIATION_JOB
            and association.shopify_variant_id == variant.variant_id
            and catalog_store.delete_association(product_id, self.shop.shop_id, if_variant_id=variant.variant_id)
        ):
            current.pop(product_id)
            self.context.counts.add(written=1)

    def _record_unmatched(
        self, variant: StoreVariant, decision: NotLinked, unmatched: dict[str, UnmatchedVariant]
    ) -> None:
        message = describe(decision, self.kind, variant.identifier, self.shop.shop_id)
        record = UnmatchedVariant(
            shop_id=self.shop.shop_id,
            variant_id=variant.variant_id,
            shopify_product_id=variant.shopify_product_id,
            identifier_type=self.kind,
            identifier=variant.identifier,
            reason=decision.reason,
            message=message,
            candidate_product_ids=list(decision.candidate_product_ids),
            sharing_variant_ids=list(decision.sharing_variant_ids),
            recorded_at=self.context.window_end,
        )
        before = unmatched.get(variant.legacy_id)
        if before is None or not before.same_finding(record):
            association_store.put_unmatched(record)
        if variant.legacy_id not in self.reported_variants:
            self.reported_variants.add(variant.legacy_id)
            self.context.record_failure(variant.variant_id, message)

    def _forget_unmatched(self, variant: StoreVariant, unmatched: dict[str, UnmatchedVariant]) -> None:
        if variant.legacy_id in unmatched:
            association_store.delete_unmatched(self.shop.shop_id, variant.variant_id)


def associate_store(context: JobContext) -> Outcome:
    state = context.resume_state or {}
    mode = state.get("mode") or context.params.get("mode") or ("incremental" if context.watermark else "full")
    if mode not in ("full", "incremental"):
        raise ValueError(f"unknown mode {mode!r}: use 'full' or 'incremental'")
    matcher = StoreMatcher(context)
    if state.get("phase") != "recheck":
        suspended = _read_variants(context, matcher, mode, state.get("after"))
        if suspended:
            return suspended
    # A full run has just decided every variant; an incremental one re-checks what failed before.
    if mode == "incremental":
        suspended = _recheck_unmatched(context, matcher, state.get("recheck_after"))
        if suspended:
            return suspended
    return Completed(watermark=context.window_end)


def _variants_query(context: JobContext, mode: str) -> str | None:
    if mode == "full" or context.watermark is None:
        return None
    # Shopify keeps whole seconds: from the start of the watermark's second (inclusive), or a change made in the
    # same second as the previous run's start would be missed when there is no overlap.
    window_start = (context.watermark - timedelta(seconds=get_settings().overlap_seconds)).replace(microsecond=0)
    return f"updated_at:>='{window_start.isoformat()}' AND updated_at:<='{context.window_end.isoformat()}'"


def _read_variants(context: JobContext, matcher: StoreMatcher, mode: str, after: str | None) -> Suspended | None:
    variables = {"first": PAGE_SIZE, "query": _variants_query(context, mode)}
    document = load_document("ProductVariantsPage")
    for page in iter_pages(context.shopify(), document, variables, ("productVariants",), start_cursor=after):
        matcher.process_page(page.nodes)
        if not page.has_next_page:
            break
        progress = {"mode": mode, "phase": "variants", "after": page.end_cursor}
        if context.should_stop():
            return Suspended(progress)
        context.checkpoint(progress)
    return None


def _recheck_unmatched(context: JobContext, matcher: StoreMatcher, after: str | None) -> Suspended | None:
    while True:
        records = association_store.list_unmatched(context.shop.shop_id, after=after, limit=RECHECK_CHUNK)
        identifiers = {r.identifier for r in records if r.identifier} - matcher.settled_identifiers
        matcher.settle_identifiers(association_store.identifier_groups(context.shop.shop_id, identifiers), {})
        if len(records) < RECHECK_CHUNK:
            return None
        after = legacy_id(records[-1].variant_id)
        progress = {"mode": "incremental", "phase": "recheck", "recheck_after": after}
        if context.should_stop():
            return Suspended(progress)
        context.checkpoint(progress)


ASSOCIATION = JobDefinition(
    name=JobName.ASSOCIATION,
    body=associate_store,
    check_shop=require_child,
    scheduled_shops=_child_shops,
)


# --- the audit's question: linked, and if not, why ---------------------------------------------------------------


def association_status(product_id: str, shop: Shop) -> AssociationStatus:
    association = catalog_store.get_association(product_id, shop.shop_id)
    if association is not None:
        return AssociationStatus(linked=True, association=association)
    return AssociationStatus(linked=False, reason=_why_not_linked(product_id, shop))


def _why_not_linked(product_id: str, shop: Shop) -> str:
    if shop.role is ShopRole.PARENT:
        return f"product {product_id} has no link to the parent store {shop.shop_id}: product import has not stored it"
    product = catalog_store.get_product(product_id)
    if product is None:
        return f"product {product_id} is not in the catalog"
    kind = shop.identifier_type
    raw = {IdentifierType.SKU: product.sku, IdentifierType.BARCODE: product.barcode}.get(kind, product_id)
    identifier = normalize(kind, raw)
    if identifier is None:
        return f"product {product_id} has no {IDENTIFIER_LABELS[kind]}, which {shop.shop_id} is matched by"
    job_has_run = job_store.get_watermark(JobName.ASSOCIATION, shop.shop_id) or job_store.get_cursor(
        JobName.ASSOCIATION, shop.shop_id
    )
    if not job_has_run:
        return f"association job has not run for {shop.shop_id}"
    return _why_identifier_not_linked(shop, identifier)


def _why_identifier_not_linked(shop: Shop, identifier: str) -> str:
    kind = shop.identifier_type
    label = IDENTIFIER_LABELS[kind]
    variant_ids = sorted(association_store.identifier_groups(shop.shop_id, [identifier])[identifier])
    if not variant_ids:
        return f"no variant in {shop.shop_id} has {label} {identifier}"
    if len(variant_ids) > 1:
        return f"{label} {identifier} is shared by {len(variant_ids)} variants in {shop.shop_id}"
    candidates = catalog_candidates(kind, identifier)
    if len(candidates) > 1:
        duplicate = NotLinked(UnmatchedReason.DUPLICATE_IN_CATALOG, candidate_product_ids=tuple(sorted(candidates)))
        return describe(duplicate, kind, identifier, shop.shop_id)
    return (
        f"variant {variant_ids[0]} in {shop.shop_id} has {label} {identifier} but is not linked (linked by hand to "
        "another product, or the link was deleted); the next full association run or a manual link settles it"
    )

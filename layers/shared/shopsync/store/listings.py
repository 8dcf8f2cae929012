"""Listing state per (product, store) and the tag ledger per (store, Shopify product).

Items:
- listing state   PK=PRODUCT#<id>              SK=LISTING#<shop>   GSI1PK=LISTINGS#<status>  GSI1SK=<due>#<id>#<shop>
- store hold      PK=PRODUCT#<id>              SK=HELD#<shop>      units of that store's orders holding PO units
  (written by the order import's allocation transaction, read by the sync: see StoreHold)
- tag ledger      PK=TAGS#<shop>#<product gid> SK=TAGS             {product_id: tag} of the variants listed there
None matches the stream filter of the pre-order sync, so these writes never re-trigger it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from shopsync.models.catalog import Association
from shopsync.models.listing import ListingState, PushStatus, StoreHold
from shopsync.store import presell as presell_store
from shopsync.store import table
from shopsync.store.presell import ProductPresellState

_NEVER = "9999"


_LISTING = "LISTING#"
_HELD = "HELD#"


def _key(product_id: str, shop_id: str) -> tuple[str, str]:
    return f"PRODUCT#{product_id}", f"{_LISTING}{shop_id}"


def hold_key(product_id: str, shop_id: str) -> tuple[str, str]:
    return f"PRODUCT#{product_id}", f"{_HELD}{shop_id}"


def hold_item(product_id: str, shop_id: str, hold: StoreHold) -> table.Item:
    pk, sk = hold_key(product_id, shop_id)
    return {"PK": pk, "SK": sk, "type": "STORE_HOLD", "shop_id": shop_id, **hold.model_dump(mode="json")}


def listing_and_hold(product_id: str, shop_id: str) -> tuple[ListingState | None, StoreHold | None]:
    """One store's listing of a product and the units its orders hold, read together."""
    found = table.batch_get([_key(product_id, shop_id), hold_key(product_id, shop_id)])
    state = found.get(_key(product_id, shop_id))
    hold = found.get(hold_key(product_id, shop_id))
    return (
        ListingState.model_validate(state) if state else None,
        StoreHold.model_validate(hold) if hold else None,
    )


def _item(state: ListingState) -> table.Item:
    pk, sk = _key(state.product_id, state.shop_id)
    due = state.next_attempt_at.isoformat() if state.next_attempt_at else _NEVER
    return {
        "PK": pk,
        "SK": sk,
        "type": "LISTING",
        "GSI1PK": f"LISTINGS#{state.status.value}",
        "GSI1SK": f"{due}#{state.product_id}#{state.shop_id}",
        **state.model_dump(mode="json"),
    }


def save_states(states: Iterable[ListingState]) -> None:
    table.batch_write(puts=[_item(state) for state in states])


def states_in_shop(product_ids: Iterable[str], shop_id: str) -> dict[str, ListingState]:
    """The listing states of these products in one store, by product (products never synced there are absent)."""
    found = table.batch_get(_key(product_id, shop_id) for product_id in product_ids)
    return {str(item["product_id"]): ListingState.model_validate(item) for item in found.values()}


@dataclass(frozen=True)
class ProductSyncInputs:
    presell: ProductPresellState
    associations: list[Association]
    states: dict[str, ListingState]
    holds: dict[str, StoreHold]


def product_sync_inputs(product_id: str) -> ProductSyncInputs:
    """Everything the sync needs about a product, from its partition in one query."""
    items = table.query_partition(f"PRODUCT#{product_id}")
    associations = [Association.model_validate(i) for i in items if i["SK"].startswith("SHOP#")]
    states = [ListingState.model_validate(i) for i in items if i["SK"].startswith(_LISTING)]
    holds = {i["SK"].removeprefix(_HELD): StoreHold.model_validate(i) for i in items if i["SK"].startswith(_HELD)}
    return ProductSyncInputs(
        presell_store.product_state_from_items(product_id, items),
        associations,
        {state.shop_id: state for state in states},
        holds,
    )


def with_presell_or_listing(product_ids: Iterable[str], shop_ids: Iterable[str]) -> set[str]:
    """The products a sync has work for: pre-sell members, or listed somewhere (to delist). Batch reads only, so a
    flood of changes to other products (a catalog import, an association run) costs little."""
    wanted = list(product_ids)
    shops = list(shop_ids)
    keys = [(f"PRODUCT#{p}", "MEMBERSHIP") for p in wanted] + [_key(p, s) for p in wanted for s in shops]
    found = table.batch_get(keys)
    relevant = set()
    for (pk, sk), item in found.items():
        if sk != "MEMBERSHIP" or item.get("category"):
            relevant.add(pk.removeprefix("PRODUCT#"))
    return relevant


def due_for_retry(now: datetime, limit: int) -> list[tuple[str, str]]:
    """(product, shop) of PENDING or FAILED listings whose backoff has run out, oldest first."""
    due: list[tuple[str, str]] = []
    for status in (PushStatus.PENDING, PushStatus.FAILED):
        items = table.query(
            "GSI1PK = :pk AND GSI1SK <= :now",
            {":pk": f"LISTINGS#{status.value}", ":now": now.isoformat()},
            index="GSI1",
            limit=limit - len(due),
        )
        due.extend((item["product_id"], item["shop_id"]) for item in items)
        if len(due) >= limit:
            break
    return due


def pushed_listings(after: str | None = None) -> Iterator[tuple[str, str]]:
    """(product, shop) of every pushed listing, for the drift sweep."""
    condition = "GSI1PK = :pk" + (" AND GSI1SK > :after" if after else "")
    values = {":pk": f"LISTINGS#{PushStatus.PUSHED.value}"} | ({":after": after} if after else {})
    for item in table.query(condition, values, index="GSI1"):
        yield item["product_id"], item["shop_id"]


def _tags_key(shop_id: str, shopify_product_id: str) -> tuple[str, str]:
    return f"TAGS#{shop_id}#{shopify_product_id}", "TAGS"


def tag_ledgers(shop_id: str, shopify_product_ids: Iterable[str]) -> dict[str, dict[str, str]]:
    """The tag ledgers of these Shopify products in one store (products with none are absent)."""
    found = table.batch_get(_tags_key(shop_id, product_gid) for product_gid in shopify_product_ids)
    prefix = f"TAGS#{shop_id}#"
    return {pk.removeprefix(prefix): dict(item["variants"]) for (pk, _), item in found.items() if item.get("variants")}


def save_tag_ledgers(shop_id: str, ledgers: Mapping[str, dict[str, str]]) -> None:
    """Store each ledger; an empty one is deleted."""
    puts = [
        {"PK": pk, "SK": sk, "type": "TAG_LEDGER", "variants": variants}
        for product_gid, variants in ledgers.items()
        if variants
        for pk, sk in [_tags_key(shop_id, product_gid)]
    ]
    table.batch_write(puts=puts, deletes=[_tags_key(shop_id, gid) for gid, variants in ledgers.items() if not variants])

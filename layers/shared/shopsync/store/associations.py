"""What the association job knows about each child store: its variants, an identifier index over them, and the
variants it could not link.

Items:
- store variant        PK=STOREVARIANT#<shop>              SK=VARIANT#<legacy id>
- store identifier     PK=STOREIDENT#<shop>#<identifier>   SK=VARIANTS  variant_ids (several = a duplicate in the store)
- unmatched variant    PK=UNMATCHED#<shop>                 SK=VARIANT#<legacy id>

The identifier index covers the whole store, not one page or one run, so an incremental run sees that a changed
variant now shares its SKU with a variant read weeks ago. One item per identifier is read in batches of 100 (not a
query per identifier); only the association job writes it, under its (job, store) lease, so read-modify-write is safe.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

from shopsync.catalog.identifiers import legacy_id
from shopsync.models.association import StoreVariant, UnmatchedReason, UnmatchedVariant
from shopsync.models.catalog import Association
from shopsync.store import table


def _variant_key(shop_id: str, variant_legacy_id: str) -> tuple[str, str]:
    return f"STOREVARIANT#{shop_id}", f"VARIANT#{variant_legacy_id}"


def _identifier_key(shop_id: str, identifier: str) -> tuple[str, str]:
    return f"STOREIDENT#{shop_id}#{identifier}", "VARIANTS"


def _unmatched_pk(shop_id: str) -> str:
    return f"UNMATCHED#{shop_id}"


def _variant_item(variant: StoreVariant) -> table.Item:
    pk, sk = _variant_key(variant.shop_id, variant.legacy_id)
    return {"PK": pk, "SK": sk, "type": "STORE_VARIANT", **variant.model_dump(mode="json")}


def get_store_variants(shop_id: str, variant_legacy_ids: Iterable[str]) -> dict[str, StoreVariant]:
    """Stored variants by legacy id; unknown ones are absent."""
    items = table.batch_get(_variant_key(shop_id, variant_id) for variant_id in variant_legacy_ids)
    return {str(item["legacy_id"]): StoreVariant.model_validate(item) for item in items.values()}


def get_store_variant(shop_id: str, variant_id: str) -> StoreVariant | None:
    item = table.get_item(*_variant_key(shop_id, legacy_id(variant_id)))
    return StoreVariant.model_validate(item) if item else None


def save_store_variants(
    shop_id: str, variants: Iterable[StoreVariant], groups: Mapping[str, Collection[str]] | None = None
) -> None:
    """Writes variant records and the identifier groups given (identifier → every variant legacy id carrying it;
    an empty group is deleted)."""
    puts = [_variant_item(variant) for variant in variants]
    deletes = []
    for identifier, members in (groups or {}).items():
        pk, sk = _identifier_key(shop_id, identifier)
        if members:
            puts.append({"PK": pk, "SK": sk, "type": "STORE_IDENTIFIER", "variant_ids": sorted(members)})
        else:
            deletes.append((pk, sk))
    table.batch_write(puts=puts, deletes=deletes)


def set_linked_product(association: Association) -> None:
    """Records that the association's product points at its variant. A variant the job has not read yet gets a bare
    record (no identifier), so a manual link is known before the first run."""
    pk, sk = _variant_key(association.shop_id, legacy_id(association.shopify_variant_id))
    values = {
        ":product": association.product_id,
        ":shop": association.shop_id,
        ":variant": association.shopify_variant_id,
        ":legacy": legacy_id(association.shopify_variant_id),
        ":shopify_product": association.shopify_product_id,
        ":type": "STORE_VARIANT",
    }
    update = (
        "SET linked_product_id = :product, shop_id = :shop, variant_id = :variant, legacy_id = :legacy, "
        "shopify_product_id = if_not_exists(shopify_product_id, :shopify_product), #type = :type"
    )
    if association.inventory_item_id:
        update += ", inventory_item_id = if_not_exists(inventory_item_id, :inventory_item)"
        values[":inventory_item"] = association.inventory_item_id
    table.update_item(pk, sk, update=update, names={"#type": "type"}, values=values)


def clear_linked_product(shop_id: str, variant_id: str, product_id: str) -> None:
    """Forgets the link from the variant to `product_id` (and only to it)."""
    try:
        table.update_item(
            *_variant_key(shop_id, legacy_id(variant_id)),
            update="REMOVE linked_product_id",
            condition="linked_product_id = :product",
            values={":product": product_id},
        )
    except table.ConditionFailed:
        pass  # linked to another product meanwhile, or never recorded


def identifier_groups(shop_id: str, identifiers: Iterable[str]) -> dict[str, set[str]]:
    """Identifier → legacy ids of the store's variants carrying it (normalised; empty when none does)."""
    wanted = set(identifiers)
    items = table.batch_get(_identifier_key(shop_id, identifier) for identifier in wanted)
    groups: dict[str, set[str]] = {identifier: set() for identifier in wanted}
    prefix = f"STOREIDENT#{shop_id}#"
    for (pk, _), item in items.items():
        groups[pk.removeprefix(prefix)] = set(item["variant_ids"])
    return groups


def get_unmatched(shop_id: str, variant_legacy_ids: Iterable[str]) -> dict[str, UnmatchedVariant]:
    keys = [(_unmatched_pk(shop_id), f"VARIANT#{variant_id}") for variant_id in variant_legacy_ids]
    return {
        key[1].removeprefix("VARIANT#"): UnmatchedVariant.model_validate(item)
        for key, item in table.batch_get(keys).items()
    }


def put_unmatched(record: UnmatchedVariant) -> None:
    sk = f"VARIANT#{legacy_id(record.variant_id)}"
    table.put_item(
        {"PK": _unmatched_pk(record.shop_id), "SK": sk, "type": "UNMATCHED", **record.model_dump(mode="json")}
    )


def delete_unmatched(shop_id: str, variant_id: str) -> bool:
    """False when there was no record."""
    try:
        table.delete_item(_unmatched_pk(shop_id), f"VARIANT#{legacy_id(variant_id)}", condition="attribute_exists(PK)")
    except table.ConditionFailed:
        return False
    return True


def list_unmatched(
    shop_id: str, *, after: str | None = None, limit: int | None = None, reason: UnmatchedReason | None = None
) -> list[UnmatchedVariant]:
    """Records in variant-id order (as strings), starting after the variant legacy id `after`."""
    items = table.query(
        "PK = :pk AND SK > :after",
        {":pk": _unmatched_pk(shop_id), ":after": f"VARIANT#{after}" if after else "VARIANT#", **_reason_value(reason)},
        names={"#reason": "reason"} if reason else None,
        filter_expression="#reason = :reason" if reason else None,
        limit=limit,
    )
    return [UnmatchedVariant.model_validate(item) for item in items]


def _reason_value(reason: UnmatchedReason | None) -> dict[str, str]:
    return {":reason": reason.value} if reason else {}

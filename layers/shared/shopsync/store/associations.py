"""What the association job knows about each child store: its variants, an identifier index over them, and the
variants it could not link.

Items:
- store variant        PK=STOREVARIANT#<shop>              SK=VARIANT#<legacy id>
- store identifier     PK=STOREIDENT#<shop>#<identifier>   SK=VARIANT#<legacy id>   (several = a duplicate in the store)
- unmatched variant    PK=UNMATCHED#<shop>                 SK=VARIANT#<legacy id>

The identifier index covers the whole store, not one page or one run, so an incremental run sees that a changed
variant now shares its SKU with a variant read weeks ago.
"""

from __future__ import annotations

from collections.abc import Iterable

from shopsync.catalog.identifiers import legacy_id
from shopsync.models.association import StoreVariant, UnmatchedReason, UnmatchedVariant
from shopsync.models.catalog import Association
from shopsync.store import table


def _variant_key(shop_id: str, variant_legacy_id: str) -> tuple[str, str]:
    return f"STOREVARIANT#{shop_id}", f"VARIANT#{variant_legacy_id}"


def _identifier_key(shop_id: str, identifier: str, variant_legacy_id: str) -> tuple[str, str]:
    return f"STOREIDENT#{shop_id}#{identifier}", f"VARIANT#{variant_legacy_id}"


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


def save_store_variants(variants: Iterable[tuple[StoreVariant, StoreVariant | None]]) -> int:
    """Writes each (new, previous) pair and moves its identifier index entry when the identifier changed.
    Returns the number of batch requests."""
    puts: list[table.Item] = []
    deletes: list[tuple[str, str]] = []
    for variant, previous in variants:
        puts.append(_variant_item(variant))
        if previous is not None and previous.identifier and previous.identifier != variant.identifier:
            deletes.append(_identifier_key(variant.shop_id, previous.identifier, variant.legacy_id))
        if variant.identifier and (previous is None or previous.identifier != variant.identifier):
            pk, sk = _identifier_key(variant.shop_id, variant.identifier, variant.legacy_id)
            puts.append({"PK": pk, "SK": sk, "type": "STORE_IDENTIFIER", "variant_legacy_id": variant.legacy_id})
    return table.batch_write(puts=puts, deletes=deletes)


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


def variant_ids_with_identifier(shop_id: str, identifier: str) -> list[str]:
    """Legacy ids of the store's variants that carry `identifier` (normalised)."""
    items = table.query_partition(f"STOREIDENT#{shop_id}#{identifier}")
    return [str(item["variant_legacy_id"]) for item in items]


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

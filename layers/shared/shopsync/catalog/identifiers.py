"""Identifier normalisation, the one rule every match by SKU or barcode goes through.

- SKU: surrounding whitespace trimmed, inner runs of whitespace collapsed to one space, compared case-insensitively
  (upper-cased). Merchants type SKUs by hand in each store; "ss-tee-blk-m " and "SS-TEE-BLK-M" are one SKU.
- Barcode (UPC-A/EAN): whitespace trimmed, compared exactly (digits are digits; leading zeros are significant).
- Shopify product id: the numeric id, whether given as a GID or as the bare number.
An empty value after normalisation is no identifier at all.
"""

from __future__ import annotations

import re

from shopsync.models.shop import IdentifierType

_WHITESPACE = re.compile(r"\s+")


def normalize_sku(raw: str | None) -> str | None:
    if raw is None:
        return None
    value = _WHITESPACE.sub(" ", raw.strip()).upper()
    return value or None


def normalize_barcode(raw: str | None) -> str | None:
    if raw is None:
        return None
    return raw.strip() or None


def legacy_id(gid_or_id: str) -> str:
    """'gid://shopify/ProductVariant/42' → '42'; '42' → '42'."""
    return gid_or_id.rsplit("/", 1)[-1].split("?", 1)[0]


def normalize(kind: IdentifierType, raw: str | None) -> str | None:
    if kind is IdentifierType.SKU:
        return normalize_sku(raw)
    if kind is IdentifierType.BARCODE:
        return normalize_barcode(raw)
    return legacy_id(raw.strip()) if raw and raw.strip() else None

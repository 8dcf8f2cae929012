"""Shopify global ids (GIDs) and opaque pagination cursors."""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

_GID = re.compile(r"^gid://shopify/(?P<kind>[A-Za-z]+)/(?P<number>\d+)(?:\?.*)?$")


def gid(kind: str, number: int) -> str:
    return f"gid://shopify/{kind}/{number}"


def parse_gid(value: Any, kind: str | None = None) -> int | None:
    """The numeric part of a GID, or None when it is malformed or of another kind."""
    if not isinstance(value, str):
        return None
    match = _GID.match(value)
    if match is None or (kind is not None and match["kind"] != kind):
        return None
    return int(match["number"])


def gid_kind(value: str) -> str | None:
    match = _GID.match(value)
    return match["kind"] if match else None


def encode_cursor(last_id: int, last_value: Any) -> str:
    # Same payload shape as Shopify's cursors ({"last_id":…,"last_value":…}); clients must treat it as opaque.
    raw = json.dumps({"last_id": last_id, "last_value": last_value}, separators=(",", ":"))
    return base64.b64encode(raw.encode()).decode()


def decode_cursor(cursor: str) -> tuple[int, Any] | None:
    try:
        payload = json.loads(base64.b64decode(cursor.encode(), validate=True))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("last_id"), int):
        return None
    return payload["last_id"], payload.get("last_value")

"""One PO ATP serves every store: how much each store may offer, and the moves that get there safely.

The ledger: `granted[s]` is what shopsync has made available in store s (raised minus lowered), less the units of
s's imported pre-orders (those already left the PO ATP); Shopify sells from it, so `sold[s] = granted[s] -
available[s]` counts the sales not yet imported. Keeping Σ granted ≤ PO ATP means the stores together can
never offer more than exists, whatever they sell meanwhile. Moves lower donors first (compare-and-set on the
store's current `available`, so a sale in between makes the move fail rather than oversell) and only then raise
receivers out of what the lowering freed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class StoreQuantity:
    available: int
    granted: int
    weight: float = 1.0
    held: int = 0  # units of the store's imported pre-orders (out of `granted` already): demand, not stock

    @property
    def sold(self) -> int:
        return max(0, self.granted - self.available)


@dataclass(frozen=True)
class Move:
    shop_id: str
    change_from: int
    to: int

    @property
    def delta(self) -> int:
        return self.to - self.change_from


def split(total: int, weights: Mapping[str, float]) -> dict[str, int]:
    """`total` units shared by weight, largest remainder first; ties broken by store id for stable results."""
    if total <= 0 or not weights:
        return dict.fromkeys(weights, 0)
    weight_sum = sum(max(w, 0.0) for w in weights.values()) or float(len(weights))
    exact = {shop: total * (max(w, 0.0) or (weight_sum / len(weights))) / weight_sum for shop, w in weights.items()}
    shares = {shop: int(value) for shop, value in exact.items()}
    leftover = total - sum(shares.values())
    for shop in sorted(exact, key=lambda s: (-(exact[s] - shares[s]), s))[:leftover]:
        shares[shop] += 1
    return shares


def demand_weights(stores: Mapping[str, StoreQuantity]) -> dict[str, float]:
    """Configured weight plus what the store has sold since listing (imported or not), so fast-selling stores get
    the stock."""
    return {shop: store.weight + store.sold + store.held for shop, store in stores.items()}


def plan_moves(po_atp: int, stores: Mapping[str, StoreQuantity], *, min_move: int = 1) -> tuple[list[Move], list[Move]]:
    """(lowerings, raisings) that bring each store to its demand-weighted share of what is left to sell.

    What is left = PO ATP - everything the stores sold. A store whose share moved by less than `min_move` is left
    alone (no churn), unless it has sold out while stock sits elsewhere.
    """
    remaining = max(0, po_atp - sum(store.sold for store in stores.values()))
    targets = split(remaining, demand_weights(stores))
    lowerings = [
        Move(shop, store.available, targets[shop])
        for shop, store in sorted(stores.items())
        if store.available - targets[shop] >= min_move or (store.available > targets[shop] and targets[shop] == 0)
    ]
    granted_after_lowering = sum(store.granted for store in stores.values()) + sum(m.delta for m in lowerings)
    headroom = max(0, po_atp - granted_after_lowering)
    raisings = []
    for shop, store in sorted(stores.items(), key=lambda item: (item[1].available, item[0])):
        want = targets[shop] - store.available
        if want <= 0 or headroom <= 0 or (want < min_move and store.available > 0):
            continue
        step = min(want, headroom)
        raisings.append(Move(shop, store.available, store.available + step))
        headroom -= step
    return lowerings, raisings

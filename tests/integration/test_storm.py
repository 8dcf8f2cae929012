"""Checkout storm against the emulator: 3 stores, skewed demand, ATP 100, 1000 attempts — nothing oversold."""

from __future__ import annotations

from bench.storm import StormConfig, hotwax_storm, prepare, shopsync_storm
from local.sandbox import sandbox


def test_storm_sells_the_po_atp_and_not_one_unit_more(report_figure):
    config = StormConfig(po_atp=100, attempts=1000)
    with sandbox() as box:
        product_id, variants, hotwax_variants = prepare(box, config)
        shopsync = shopsync_storm(box, product_id, variants, config)
        hotwax = hotwax_storm(box, hotwax_variants, config)
    report_figure("storm oversold units (shopsync)", shopsync.oversold)
    report_figure("storm sell-through (shopsync)", f"{shopsync.sell_through:.2%}")
    report_figure("storm oversold units (HotWax 15-minute delist model)", hotwax.oversold)
    assert shopsync.oversold == 0
    assert shopsync.sell_through >= 0.99
    assert hotwax.oversold > 0, "the storm must be strong enough to make the delist-only model oversell"

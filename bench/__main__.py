"""`make bench`: every benchmark in one run, figures side by side with their targets, written to
bench/results.json (figure name → value) and to the README's results table.

    python -m bench [--only listing_cost storm ...]

Benchmarks in OPT_IN are too long for `make bench`'s 10 minutes and run only when named in --only; their figures
stay in results.json from their last run, and the README table shows them with the time of that run.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import re
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"
README = ROOT / "README.md"
TABLE_START, TABLE_END = "<!-- bench:start -->", "<!-- bench:end -->"


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    target: str
    met: bool | None
    note: str = ""


def listing_cost() -> list[Figure]:
    from bench.listing_cost import measure

    cost = measure(100)
    return [
        Figure(
            "cost_points_per_listing_change",
            round(cost.batched_per_change, 2),
            "≤ 12",
            cost.batched_per_change <= 12,
            f"100 products at once in one store, {cost.batched_calls} calls",
        ),
        Figure(
            "cost_points_per_listing_change_naive",
            round(cost.naive_per_change, 2),
            "~40",
            None,
            f"one call per field and product, {cost.naive_calls} calls",
        ),
    ]


def assoc_latency() -> list[Figure]:
    from bench.assoc_latency import measure

    latency = measure(3)
    linked, ordered = latency.assoc_to_listed_s, latency.order_to_quantities_s
    return [
        Figure(
            "assoc_to_child_listed_s",
            round(statistics.median(linked), 2),
            "≤ 2",
            statistics.median(linked) <= 2,
            f"local stack, median of {len(linked)}, max {max(linked):.2f} s",
        ),
        Figure(
            "order_to_quantities_s",
            round(statistics.median(ordered), 2),
            "≤ 5",
            statistics.median(ordered) <= 5,
            f"checkout → webhook → import → stream → sync, both stores; median of {len(ordered)}, "
            f"max {max(ordered):.2f} s",
        ),
    ]


def storm() -> list[Figure]:
    from bench.storm import StormConfig, measure

    config = StormConfig()
    shopsync, hotwax = measure(config)
    storm_note = (
        f"ATP {config.po_atp}, {config.attempts} attempts over {config.minutes} min, demand {dict(config.demand)}"
    )
    return [
        Figure("storm_oversold_units", shopsync.oversold, "= 0", shopsync.oversold == 0, storm_note),
        Figure(
            "storm_sell_through",
            round(shopsync.sell_through, 4),
            "≥ 0.99",
            shopsync.sell_through >= 0.99,
            f"sold per store {dict(shopsync.sold)}",
        ),
        Figure(
            "storm_oversold_units_hotwax_model",
            hotwax.oversold,
            "> 0 (must oversell)",
            hotwax.oversold > 0,
            "CONTINUE + delist job every 15 min",
        ),
    ]


def refresh_requests() -> list[Figure]:
    from bench.refresh_requests import measure

    small, large = measure(10_000), measure(100_000)
    ratio = large.requests / small.requests
    return [
        Figure("refresh_requests_10k", small.requests, "", None, "incremental refresh, 1 product changed"),
        Figure("refresh_requests_100k", large.requests, "", None, "incremental refresh, 1 product changed"),
        Figure("refresh_requests_ratio_100k_vs_10k", round(ratio, 3), "≤ 1.1", ratio <= 1.1, "DynamoDB requests"),
    ]


def order_import() -> list[Figure]:
    from bench.order_import import measure

    result = measure(5000, restore_rate=100.0)
    return [
        Figure(
            "order_import_orders_per_min",
            round(result.orders_per_min),
            "",
            None,
            f"{result.orders} orders backlog in one store, {result.calls} calls, {result.seconds:.0f} s, "
            f"{result.failed} failed",
        ),
        Figure(
            "order_import_ratio_to_bound",
            round(result.ratio_to_bound, 3),
            "≥ 0.9",
            result.ratio_to_bound >= 0.9,
            f"bound {result.bound_orders_per_min:.0f} orders/min = {result.restore_rate:g} points/s * 60 / "
            f"{result.cost_per_order:.2f} points/order charged; bucket emptied first; what is left: the job reads "
            "page after page, each page's DynamoDB writes add to its Shopify wait",
        ),
        Figure(
            "cost_points_per_order",
            round(result.cost_per_order, 2),
            "",
            None,
            "batched: orders pages of 50, emulator-charged points",
        ),
        Figure(
            "cost_points_per_order_naive",
            round(result.naive_cost_per_order, 2),
            "",
            None,
            "one order(id:) per order",
        ),
    ]


def cold_import() -> list[Figure]:
    from bench.cold_import import measure

    result = measure(repeats=5)
    worst, worst_s = result.worst
    extra = ", ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in result.worst_extra_packages[:5])
    return [
        Figure(
            "cold_import_ratio",
            round(result.ratio, 2),
            "≤ 1.5",
            result.ratio <= 1.5,
            f"worst {worst} {worst_s * 1000:.0f} ms vs bare Powertools {result.bare_s * 1000:.0f} ms, median of 5 "
            f"fresh interpreters each, in {result.environment}; its imports beyond the bare handler by package "
            f"(-X importtime self): {extra}",
        )
    ]


def _sync_vs_bound(products: int, label: str) -> list[Figure]:
    from bench.sync_vs_bound import PLANS, measure

    result = measure(products, PLANS["plus"])
    plan = result.plan
    return [
        Figure(
            f"sync_time_vs_bound_ratio_{label}",
            round(result.ratio, 3),
            "≤ 1.2, 0 failed",
            result.ratio <= 1.2 and result.failed == 0 and result.throttled == 0,
            f"{result.products} products x 3 stores, {result.seconds:.0f} s, {result.calls} calls, {result.failed} "
            f"failed listings, {result.throttled} throttled calls; bound {result.bound_s:.1f} s = Σ "
            f"{sum(result.cost_by_store.values()):.0f} points charged / {plan.restore_rate:g} points/s (Shopify "
            f"{plan.name}, bucket {plan.bucket:g} emptied first); each store has its own bucket: busiest store alone "
            f"{result.busiest_store_bound_s:.1f} s, ratio {result.ratio_to_busiest_store:.2f}",
        )
    ]


def sync_vs_bound_1k() -> list[Figure]:
    return _sync_vs_bound(1000, "1k")


def sync_vs_bound_10k() -> list[Figure]:
    return _sync_vs_bound(10_000, "10k")


BENCHMARKS: dict[str, Callable[[], list[Figure]]] = {
    "listing_cost": listing_cost,
    "assoc_latency": assoc_latency,
    "storm": storm,
    "refresh_requests": refresh_requests,
    "order_import": order_import,
    "cold_import": cold_import,
    "sync_vs_bound_1k": sync_vs_bound_1k,
    "sync_vs_bound_10k": sync_vs_bound_10k,
}
# 10k products x 3 stores: ~9 minutes alone (the sync ~350 s at the Plus rate, seeding and setup the rest).
OPT_IN = frozenset({"sync_vs_bound_10k"})
DEFAULT = [name for name in BENCHMARKS if name not in OPT_IN]


def _quiet() -> None:
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore")


def _machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def _row(figure: Figure, when: str) -> str:
    met = "" if figure.met is None else ("yes" if figure.met else "**no**")
    return f"| `{figure.name}` | {figure.value:g} | {figure.target} | {met} | {figure.note} | {when} |"


def _table(rows: list[dict[str, str]]) -> str:
    """Figures with their last measurement; those of opt-in benchmarks come from their own run, named in the header."""
    opt_in = sorted({row["bench"] for row in rows if row["bench"] in OPT_IN})
    own_runs = ", ".join(f"`{name}` by `python -m bench --only {name}`" for name in opt_in)
    header = [
        f"Measured on {_machine()}. Every row is from one `make bench` run"
        + (f", except {own_runs} (alone longer than `make bench`'s 10 minutes)." if own_runs else "."),
        "",
        "| figure | value | target | met | how | measured |",
        "|---|---|---|---|---|---|",
    ]
    return "\n".join(header + [row["row"] for row in rows])


def _update_readme(table: str) -> None:
    text = README.read_text()
    pattern = re.compile(re.escape(TABLE_START) + ".*?" + re.escape(TABLE_END), re.S)
    if pattern.search(text):
        README.write_text(pattern.sub(f"{TABLE_START}\n{table}\n{TABLE_END}", text))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), help="run only these benchmarks")
    names = parser.parse_args().only or DEFAULT
    _quiet()
    figures: list[tuple[str, Figure]] = []
    for name in names:
        started = time.monotonic()
        print(f"running {name}…", flush=True)
        figures += [(name, figure) for figure in BENCHMARKS[name]()]
        print(f"  {name} took {time.monotonic() - started:.0f} s", flush=True)
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    previous: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    measured = {
        figure.name: {"figure": figure.name, "bench": bench, "row": _row(figure, when)} for bench, figure in figures
    }
    kept = [row for row in previous.get("_rows", []) if row["figure"] not in measured and row["bench"] in BENCHMARKS]
    order = list(BENCHMARKS)
    rows = sorted(kept + list(measured.values()), key=lambda row: order.index(row["bench"]))
    results = {**previous, **{f.name: f.value for _, f in figures}, "_rows": rows, "_machine": _machine()}
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print("\n" + _table(list(measured.values())))
    # The README shows a whole `make bench` run, and the opt-in figures from their own last run.
    if set(names) >= set(DEFAULT) or set(names) <= OPT_IN:
        _update_readme(_table(rows))


if __name__ == "__main__":
    main()
